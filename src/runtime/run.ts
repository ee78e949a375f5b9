// The run verb: create + start, and in the foreground wait for the init, forwarding signals, then
// delete (unless --keep) and report the exit status as runc does (128+N after signal N).
import { createContainer, type CreateOptions } from './create';
import type { ContainerRuntime } from './container';
import { readProcStat } from './proc';

export type RunOptions = CreateOptions & { detach?: boolean; keep?: boolean };

const forwarded: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/**
 * Waits for a child of this process to become a zombie and returns its wait status decoded as a
 * shell would (code, or 128+signal). The exit code comes from /proc/<pid>/stat field 52, which the
 * kernel keeps for zombies; the zombie itself is reaped by whoever inherits it when we exit.
 */
async function waitExit(pid: number): Promise<number> {
  for (;;) {
    const st = readProcStat(pid);
    if (!st) return 0;
    if (st.state === 'Z' || st.state === 'X') {
      const raw = st.exitCode ?? 0;
      const sig = raw & 0x7f;
      return sig ? 128 + sig : (raw >> 8) & 0xff;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** `run`: returns the exit status the CLI should exit with. */
export async function runContainer(rt: ContainerRuntime, id: string, opts: RunOptions): Promise<number> {
  const rec = await createContainer(rt, id, opts);
  try {
    rt.start(id);
  } catch (e) {
    await rt.delete(id, true);
    throw e;
  }
  if (opts.detach) return 0;
  const handlers = forwarded.map((sig) => {
    const h = () => {
      try {
        process.kill(rec.pid, sig);
      } catch {
        /* already gone */
      }
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  try {
    return await waitExit(rec.pid);
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
    if (!opts.keep) await rt.delete(id, true);
  }
}
