// Writes a new user namespace's uid_map and gid_map for the parent (user_namespaces(7)): directly
// when we are root or map only our own id, else through the setuid newuidmap/newgidmap helpers,
// which check /etc/subuid and /etc/subgid. Never called in the child.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { errors, RuntimeError } from '../errors/index';

export type IdMapping = { containerID: number; hostID: number; size: number };

/** Who writes the maps: real root, or an unprivileged user with these effective ids. */
export type MapWriter = { isRoot: boolean; euid: number; egid: number };

/** Runs newuidmap/newgidmap: the seam tests replace. */
export type ToolRunner = (tool: string, args: string[]) => { status: number | null; stderr: string; error?: NodeJS.ErrnoException };

const runTool: ToolRunner = (tool, args) => {
  const r = spawnSync(tool, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return {
    status: r.status,
    stderr: r.stderr ?? '',
    ...(r.error ? { error: r.error as NodeJS.ErrnoException } : {}),
  };
};

/**
 * Whether an unprivileged writer can write maps itself: the kernel allows a process without
 * CAP_SETUID/CAP_SETGID in the parent namespace exactly one line mapping its own effective id
 * (user_namespaces(7), "Defining user and group ID mappings"). Anything else needs the helpers,
 * the choice runc makes (nsexec.c update_uidmap falls back to newuidmap on EPERM).
 */
export function isSelfMapping(maps: IdMapping[], ownId: number): boolean {
  return maps.length === 1 && maps[0]!.size === 1 && maps[0]!.hostID === ownId;
}

/** "/proc/<pid>/{uid,gid}_map" lines. */
export function mapText(maps: IdMapping[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/**
 * Writes /proc/<pid>/uid_map and gid_map. An unprivileged writer denies setgroups before writing
 * gid_map itself (the kernel requires it since 3.19, CVE-2014-8989); newgidmap decides that on its
 * own from /etc/subgid.
 */
export function writeIdMaps(pid: number, uidMaps: IdMapping[], gidMaps: IdMapping[], who: MapWriter, run: ToolRunner = runTool): void {
  if (who.isRoot) {
    fs.writeFileSync(`/proc/${pid}/uid_map`, mapText(uidMaps));
    fs.writeFileSync(`/proc/${pid}/gid_map`, mapText(gidMaps));
    return;
  }
  if (isSelfMapping(uidMaps, who.euid)) writeMapFile(pid, 'uid_map', uidMaps);
  else runMapTool(run, 'newuidmap', pid, uidMaps);
  if (isSelfMapping(gidMaps, who.egid)) {
    writeMapFile(pid, 'setgroups', null);
    writeMapFile(pid, 'gid_map', gidMaps);
  } else {
    runMapTool(run, 'newgidmap', pid, gidMaps);
  }
}

function writeMapFile(pid: number, file: 'uid_map' | 'gid_map' | 'setgroups', maps: IdMapping[] | null): void {
  const p = `/proc/${pid}/${file}`;
  try {
    fs.writeFileSync(p, maps ? mapText(maps) : 'deny');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new RuntimeError(code === 'EPERM' || code === 'EACCES' ? 'PermissionDenied' : 'Internal', `write ${p}: ${code}`);
  }
}

function runMapTool(run: ToolRunner, tool: 'newuidmap' | 'newgidmap', pid: number, maps: IdMapping[]): void {
  const args = [String(pid), ...maps.flatMap((m) => [String(m.containerID), String(m.hostID), String(m.size)])];
  const what = tool === 'newuidmap' ? 'linux.uidMappings' : 'linux.gidMappings';
  const r = run(tool, args);
  if (r.error?.code === 'ENOENT') {
    throw errors.precondition(`${what} maps more than the caller's own id, which needs ${tool} (Debian package uidmap): not found in $PATH`);
  }
  if (r.error) throw errors.internal(`${tool} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) {
    const why = r.stderr.trim().split('\n').filter(Boolean).join('; ') || `exit status ${r.status}`;
    throw new RuntimeError('PermissionDenied', `${tool} ${args.join(' ')}: ${why} (check /etc/${tool === 'newuidmap' ? 'subuid' : 'subgid'})`);
  }
}
