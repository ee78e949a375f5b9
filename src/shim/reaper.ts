// The shim's one reaper: it owns every wait. SIGCHLD (and a slow safety timer) trigger a sweep of
// waitid(P_ALL, WNOHANG) that reaps every child and orphan of this subreaper, and routes each exit
// to whoever watches that pid. Must not be mixed with child_process in the same process.
//
// Why one sweep and not a waitid per pid: the container init is not our child when runc starts it;
// it is reparented to us (PR_SET_CHILD_SUBREAPER) when `runc create` exits, and so are any
// daemonised grandchildren. Only a P_ALL sweep reaps all of them, as containerd's
// pkg/sys/reaper Monitor does. libuv runs its own waitpid(pid) for child_process children only;
// a P_ALL sweep would steal those statuses (libuv then never fires 'exit'), which is why every
// process this shim starts goes through spawn() below (native posix_spawn + pidfd) instead.
//
// Exits nobody watches yet are kept for UNCLAIMED_TTL_MS: `runc exec --detach` may return after the
// process already exited, and the shim only learns the pid from the pid file afterwards.
import { realSys, realShimSys, P_ALL, WNOHANG, type ShimSys, type Sys } from '../native/index';
import type { Logger } from '../log/index';

/** One reaped process. status is the exit code, or 128 + the signal that killed it (containerd's convention). */
export type Exit = { pid: number; status: number; exitedAt: Date };

const CLD_EXITED = 1;
const UNCLAIMED_TTL_MS = 30_000;

export type SpawnRequest = {
  argv: string[];
  env?: string[];
  cwd?: string;
  /** fds for the child's 0/1/2; -1 = /dev/null. */
  stdio?: [number, number, number];
  setsid?: boolean;
};

export class Reaper {
  private readonly watchers = new Map<number, ((e: Exit) => void)[]>();
  private readonly unclaimed = new Map<number, Exit>();
  private readonly listeners = new Set<(e: Exit) => void>();
  private timer: NodeJS.Timeout | undefined;
  private readonly onSignal = () => this.sweep();

  constructor(
    private readonly sys: Pick<Sys, 'waitid' | 'setChildSubreaper'> = realSys,
    private readonly shimSys: Pick<ShimSys, 'spawn'> = realShimSys,
    private readonly log?: Logger,
  ) {}

  /** Becomes a child subreaper and starts listening for SIGCHLD. */
  start(subreaper = true): void {
    if (subreaper) this.sys.setChildSubreaper(true);
    process.on('SIGCHLD', this.onSignal);
    // SIGCHLD coalesces and libuv delivers it asynchronously; a slow sweep bounds any miss.
    this.timer = setInterval(this.onSignal, 2000);
    this.holdLoop();
  }

  stop(): void {
    process.off('SIGCHLD', this.onSignal);
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Starts a process owned by this reaper. The wait promise settles when it is reaped. */
  spawn(req: SpawnRequest): { pid: number; pidfd: number; exited: Promise<Exit> } {
    const { pid, pidfd } = this.shimSys.spawn(req.argv, req.env ?? envList(), req.cwd ?? null, req.stdio ?? [-1, -1, -1], req.setsid ?? false);
    // Registered before returning to the event loop, so no sweep can reap it unwatched.
    const exited = this.wait(pid);
    return { pid, pidfd, exited };
  }

  /** Resolves when pid is reaped (at once if it already was, within the unclaimed window). */
  wait(pid: number): Promise<Exit> {
    const early = this.unclaimed.get(pid);
    if (early) {
      this.unclaimed.delete(pid);
      return Promise.resolve(early);
    }
    return new Promise((resolve) => {
      const list = this.watchers.get(pid) ?? [];
      list.push(resolve);
      this.watchers.set(pid, list);
      this.holdLoop();
    });
  }

  /**
   * Signal listeners do not keep Node's event loop alive; a pending wait must (the daemon's
   * listener does anyway, a library user may have nothing else). The sweep timer is ref'd while
   * anyone waits.
   */
  private holdLoop(): void {
    if (!this.timer) return;
    if (this.watchers.size > 0) this.timer.ref();
    else this.timer.unref();
  }

  /** Whether pid was reaped without a watcher (it exited before its owner learnt the pid). */
  hasExited(pid: number): boolean {
    return this.unclaimed.has(pid);
  }

  /** Calls fn for every exit (e.g. to log orphans); returns the unsubscribe function. */
  subscribe(fn: (e: Exit) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Reaps every exited child now. */
  sweep(): void {
    for (;;) {
      let r;
      try {
        r = this.sys.waitid(P_ALL, 0, WNOHANG);
      } catch {
        break; // ECHILD: no children at all
      }
      if (!r) break;
      const exit: Exit = { pid: r.pid, status: r.code === CLD_EXITED ? r.status : 128 + r.status, exitedAt: new Date() };
      this.deliver(exit);
    }
    const now = Date.now();
    for (const [pid, e] of this.unclaimed) if (now - e.exitedAt.getTime() > UNCLAIMED_TTL_MS) this.unclaimed.delete(pid);
  }

  private deliver(exit: Exit): void {
    const list = this.watchers.get(exit.pid);
    if (list) {
      this.watchers.delete(exit.pid);
      this.holdLoop();
      for (const fn of list) fn(exit);
    } else {
      this.unclaimed.set(exit.pid, exit);
      this.log?.debug({ pid: exit.pid, status: exit.status }, 'reaped unwatched process');
    }
    for (const fn of this.listeners) fn(exit);
  }
}

/** The current environment as KEY=VALUE strings. */
export function envList(env: NodeJS.ProcessEnv = process.env): string[] {
  return Object.entries(env)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`);
}
