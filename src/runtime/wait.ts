// Waiting for a container process without blocking the event loop, so signal handlers (run's and
// exec's forwarding) keep running: poll a pidfd, then collect the status with waitid.
import * as fs from 'node:fs';
import { P_PIDFD, POLLIN, type Sys } from '../native/index';

/** waitid(2) si_code of a normal exit. */
const CLD_EXITED = 1;

/**
 * Waits until pid (a child of this process, or reparented to it as a subreaper) exits and
 * returns a shell-style status: the exit code, or 128+N when signal N ended it.
 */
export async function waitExitStatus(sys: Sys, pid: number, pollMs = 5): Promise<number> {
  let pidfd: number;
  try {
    pidfd = sys.pidfdOpen(pid);
  } catch {
    return 0; // already reaped elsewhere: nothing to report
  }
  try {
    while (sys.poll(pidfd, POLLIN, 0) === 0) await new Promise((r) => setTimeout(r, pollMs));
    const w = sys.waitid(P_PIDFD, pidfd, 0);
    if (!w) return 0;
    return w.code === CLD_EXITED ? w.status : 128 + w.status;
  } finally {
    fs.closeSync(pidfd);
  }
}
