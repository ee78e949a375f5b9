// Docker's restart manager as policy: whether an exit restarts the container, and the back-off
// (100 ms doubling up to 1 min, reset after a run of 10 s or more). No timers here.
import type { ContainerRecord } from './types';

const MAX_BACKOFF_MS = 60_000;

/** Whether the exit with status should restart rec under its policy. */
export function shouldRestart(rec: ContainerRecord, status: number): boolean {
  if (rec.HasBeenManuallyStopped) return false;
  const p = rec.HostConfig.RestartPolicy;
  switch (p?.Name) {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure': {
      const max = p.MaximumRetryCount ?? 0;
      return status !== 0 && (max === 0 || rec.RestartCount < max);
    }
    default:
      return false;
  }
}

/** The next back-off delay given the last one and how long the run lasted. */
export function nextBackoff(lastMs: number, ranMs: number): number {
  const base = ranMs >= 10_000 ? 0 : lastMs;
  return base === 0 ? 100 : Math.min(base * 2, MAX_BACKOFF_MS);
}

/** Whether a container should be started when the daemon starts (it was running, or its policy says so). */
export function restartOnDaemonStart(rec: ContainerRecord): boolean {
  const p = rec.HostConfig.RestartPolicy?.Name;
  if (p === 'always') return true;
  if (p === 'unless-stopped') return !rec.HasBeenManuallyStopped;
  return false;
}
