// Behaviour shared by the v1 and v2 drivers: recursive pid listing, signalling every process
// (freeze, signal, thaw), and the polling OOM watch. No driver-specific file names here.
import * as path from 'node:path';
import { constants as osc } from 'node:os';
import { errors } from '../errors/index';
import { codeOf, parsePids, readOptional, walkCgroupDirs } from './fsutil';
import type { CgroupManager, OomWatch } from './manager';

/** Every pid listed in cgroup.procs at and below dir, sorted (runc's GetAllPids walks the same way). */
export async function pidsBelow(dir: string): Promise<number[]> {
  const out = new Set<number>();
  for (const d of await walkCgroupDirs(dir)) {
    const text = await readOptional(d, 'cgroup.procs');
    if (text !== undefined) for (const p of parsePids(text)) out.add(p);
  }
  return [...out].sort((a, b) => a - b);
}

/** Signal number of a name or number. */
export function signalNumber(signal: NodeJS.Signals | number): number {
  if (typeof signal === 'number') return signal;
  const n = (osc.signals as Record<string, number>)[signal];
  if (n === undefined) throw errors.invalid(`unknown signal ${signal}`);
  return n;
}

/**
 * runc's signalAllProcesses: freeze so nothing forks while we walk the list, signal every pid,
 * thaw. Without a freezer the list can race with forks; that is runc's behaviour too.
 */
export async function signalEveryPid(m: CgroupManager, signal: number, canFreeze: boolean): Promise<void> {
  if (canFreeze) await m.freeze();
  try {
    for (const pid of await m.pids()) {
      try {
        process.kill(pid, signal);
      } catch (err) {
        if (codeOf(err) !== 'ESRCH') throw err;
      }
    }
  } finally {
    if (canFreeze) await m.thaw();
  }
}

/** Polls count() and reports growth; unref'd so an idle watch never keeps the process alive. */
export function pollOom(count: () => Promise<number | undefined>, onOom: (n: number) => void, intervalMs = 200): OomWatch {
  let last: number | undefined;
  let busy = false;
  let closed = false;
  const tick = async () => {
    if (busy || closed) return;
    busy = true;
    try {
      const n = await count();
      if (n !== undefined && last !== undefined && n > last && !closed) onOom(n);
      if (n !== undefined) last = n;
    } catch {
      // The cgroup may disappear while the container exits; the watcher's owner closes us then.
    } finally {
      busy = false;
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), intervalMs);
  timer.unref();
  return {
    close() {
      closed = true;
      clearInterval(timer);
    },
  };
}

/** path.join that refuses to leave base (unified keys and page sizes come from the config). */
export function joinInside(base: string, name: string): string {
  if (name.includes('/') || name === '..' || name === '.' || name === '') throw errors.invalid(`invalid cgroup file name ${JSON.stringify(name)}`);
  return path.join(base, name);
}
