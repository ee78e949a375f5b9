// Reads and writes of cgroup control files with errors that name the file and the errno
// ("write /sys/fs/cgroup/x/memory.max: EINVAL"). Async, except the counter read a timer polls
// and the first rmdir of a removal; no policy about which file to write.
import * as fs from 'node:fs';
import { constants as fsc } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { SysError, wrap } from '../errors/index';

/** Turns a Node fs error into a SysError "<op> <path>: <ERRNO>", keeping its errno. */
export function fsError(op: string, file: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.errno === 'number') return new SysError(op, e.errno, file);
  return err instanceof Error ? err : new Error(String(err));
}

/** The errno name of a thrown value ("ENOENT"), or undefined. */
export function codeOf(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

/**
 * Writes one value to dir/file as runc's cgroups.WriteFile does: O_WRONLY|O_TRUNC (Node adds O_CLOEXEC), never O_CREAT
 * (cgroupfs files exist or the controller is missing), one write(2) so the kernel sees one command.
 */
export async function writeCgroupFile(dir: string, file: string, value: string): Promise<void> {
  const p = path.join(dir, file);
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(p, fsc.O_WRONLY | fsc.O_TRUNC);
    await fh.write(value);
  } catch (err) {
    throw fsError('write', p, err);
  } finally {
    await fh?.close();
  }
}

/** writeCgroupFile wrapped as "set <file>: write <path>: <ERRNO>", the message the runtime shows. */
export async function setCgroupFile(dir: string, file: string, value: string): Promise<void> {
  try {
    await writeCgroupFile(dir, file, value);
  } catch (err) {
    throw wrap(err, `set ${file}`);
  }
}

/** Reads dir/file as text. */
export async function readCgroupFile(dir: string, file: string): Promise<string> {
  const p = path.join(dir, file);
  try {
    return await fsp.readFile(p, 'utf8');
  } catch (err) {
    throw fsError('read', p, err);
  }
}

/** Reads dir/file, or returns undefined when it does not exist (controller absent). */
export async function readOptional(dir: string, file: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(path.join(dir, file), 'utf8');
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return undefined;
    throw fsError('read', path.join(dir, file), err);
  }
}

/**
 * readOptional without the thread pool: for small counters read on a timer (a cgroup file is
 * generated in memory; the async read's four pool round trips cost more than the read).
 */
export function readOptionalSync(dir: string, file: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8');
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return undefined;
    throw fsError('read', path.join(dir, file), err);
  }
}

/** Parses a single unsigned number; "max" reads as Infinity's stand-in, MAX_UINT64 like runc. */
export function parseUint(text: string): number {
  const t = text.trim();
  if (t === 'max') return Number.MAX_SAFE_INTEGER;
  const n = Number(t);
  return Number.isFinite(n) ? n : 0;
}

/** Parses "key value" lines (memory.stat, cpu.stat, memory.events) into a map. */
export function parseKeyValues(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out[k] = parseUint(v);
  }
  return out;
}

/** Parses a cgroup.procs / tasks file into pids. */
export function parsePids(text: string): number[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map(Number);
}

/** Whether dir/file exists. */
export async function exists(p: string): Promise<boolean> {
  try {
    await fsp.access(p);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Writes a pid to dir/cgroup.procs, retrying EINVAL a few times as runc's WriteCgroupProc does:
 * a task still in TASK_NEW cannot be moved yet.
 */
export async function writeCgroupProc(dir: string, pid: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await writeCgroupFile(dir, 'cgroup.procs', String(pid));
      return;
    } catch (err) {
      if (codeOf(err) === 'EINVAL' && attempt < 5) {
        await sleep(30);
        continue;
      }
      throw wrap(err, `join cgroup ${dir}`);
    }
  }
}

/** All cgroup directories at and below dir, children before parents (the order rmdir needs). */
export async function walkCgroupDirs(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return out;
    throw fsError('readdir', dir, err);
  }
  for (const e of entries) if (e.isDirectory()) out.push(...(await walkCgroupDirs(path.join(dir, e.name))));
  out.push(dir);
  return out;
}

/**
 * Removes dir and every cgroup below it, deepest first. cgroupfs refuses rmdir while the last
 * task is still exiting (EBUSY), so retry briefly as runc's RemovePath/rmdir does.
 */
export async function removeCgroupTree(dir: string): Promise<void> {
  // The common case, a leaf whose tasks are gone, is one rmdir: made inline, it saves the walk's
  // thread-pool round trips (a v1 container has a dozen hierarchies). Anything else (nested
  // cgroups, a task still exiting, a fixture's files) takes the walk below.
  try {
    fs.rmdirSync(dir);
    return;
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return;
  }
  for (const d of await walkCgroupDirs(dir)) {
    for (let attempt = 0; ; attempt++) {
      try {
        await fsp.rmdir(d);
        break;
      } catch (err) {
        const code = codeOf(err);
        if (code === 'ENOENT') break;
        // A fixture directory (plain tmpfs) holds regular files; cgroupfs dirs never do.
        if (code === 'ENOTEMPTY') {
          await fsp.rm(d, { recursive: true, force: true });
          break;
        }
        if (code === 'EBUSY' && attempt < 50) {
          await sleep(20);
          continue;
        }
        throw wrap(fsError('rmdir', d, err), 'remove cgroup');
      }
    }
  }
}
