// The run verb: create + start, and in the foreground wait for the init, forwarding signals, then
// delete (unless --keep) and report the exit status as runc does (128+N after signal N).
import { createContainer, type CreateOptions } from './create';
import type { ContainerRuntime } from './container';
import { callerConsoleSize, proxyTty, type TtyProxy } from './tty-proxy';
import { waitExitStatus } from './wait';

export type RunOptions = CreateOptions & { detach?: boolean; keep?: boolean; subreaper?: boolean };

const forwarded: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/** `run`: returns the exit status the CLI should exit with. */
export async function runContainer(rt: ContainerRuntime, id: string, opts: RunOptions): Promise<number> {
  // In the foreground, become a subreaper (as runc does unless --no-subreaper): when the init is a
  // grandchild (a joined or unshared pid namespace needs an extra fork), it is reparented to us and
  // its exit status can be collected.
  if (!opts.detach && opts.subreaper !== false) rt.cfg.sys.setChildSubreaper(true);
  // A terminal in the foreground without --console-socket: keel holds the pty itself (as runc).
  let proxy: TtyProxy | undefined;
  // (launch hands over a pty only when process.terminal is set, so the config is not read here.)
  const ownTty = !opts.detach && !opts.consoleSocket;
  const size = callerConsoleSize();
  let rec: Awaited<ReturnType<typeof createContainer>>;
  try {
    rec = await createContainer(rt, id, ownTty ? { ...opts, onPty: (fd) => (proxy = proxyTty(fd)), ...(size ? { consoleSize: size } : {}) } : opts);
  } catch (e) {
    // The pty may have been handed over before a later step failed: its reader and our raw stdin
    // would keep the event loop, and so the caller, waiting forever.
    proxy?.close();
    throw e;
  }
  try {
    rt.start(id);
  } catch (e) {
    proxy?.close();
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
    const status = await waitExitStatus(rt.cfg.sys, rec.pid);
    await proxy?.drain();
    rt.cfg.log.debug({ id, status }, 'container exited');
    return status;
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
    proxy?.close();
    // The exit status is the container's: what its removal could not undo is only reported (runc).
    if (!opts.keep) await rt.delete(id, true).catch((e: Error) => rt.cfg.log.warn(`remove container ${id}: ${e.message}`));
  }
}
