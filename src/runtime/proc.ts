// Reads process facts from /proc that status derivation needs (state letter, start time) and a
// synchronous sleep for the short polls of the runtime verbs. Nothing here signals or changes state.
import * as fs from 'node:fs';

/** Fields of /proc/<pid>/stat (proc(5)); exitCode is field 52, the wait status of a zombie. */
export type ProcStat = { state: string; ppid: number; startTime: number; exitCode?: number };

/** Parses /proc/<pid>/stat; undefined when the process does not exist. */
export function readProcStat(pid: number, procRoot = '/proc'): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`${procRoot}/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // comm (field 2) may hold spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const exit = fields[49];
  return { state: fields[0]!, ppid: Number(fields[1]), startTime: Number(fields[19]), ...(exit !== undefined ? { exitCode: Number(exit) } : {}) };
}

/**
 * True when pid is the very process recorded (same start time) and has not exited. A zombie or
 * dead process counts as gone, as in runc's refreshState.
 */
export function isAlive(pid: number, startTime: number, procRoot = '/proc'): boolean {
  if (pid <= 0) return false;
  const st = readProcStat(pid, procRoot);
  if (!st) return false;
  if (st.state === 'Z' || st.state === 'X' || st.state === 'x') return false;
  return st.startTime === startTime;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread for ms milliseconds (runtime verbs are sequential by design). */
export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Polls until pred() holds or timeoutMs passes; returns whether it held. */
export function waitUntil(pred: () => boolean, timeoutMs: number, stepMs = 5): boolean {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (pred()) return true;
    if (Date.now() >= deadline) return false;
    sleepSync(stepMs);
  }
}
