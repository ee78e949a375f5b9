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

/**
 * Polls count() and reports growth; unref'd so an idle watch never keeps the process alive. The
 * counter is read synchronously (one small in-memory file): the baseline before this returns, so
 * a kill right after the watch starts is not taken for the baseline, and each tick costs one read
 * instead of a chain of thread-pool hops.
 */
export function pollOom(count: () => number | undefined, onOom: (n: number) => void, intervalMs = 200): OomWatch {
  let last: number | undefined;
  let closed = false;
  const tick = () => {
    if (closed) return;
    let n: number | undefined;
    try {
      n = count();
    } catch {
      return; // the cgroup may disappear while the container exits; the owner closes us then
    }
    if (n !== undefined && last !== undefined && n > last) onOom(n);
    if (n !== undefined) last = n;
  };
  tick();
  const timer = setInterval(tick, intervalMs);
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
