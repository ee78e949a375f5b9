// The exec verb: build the process to run (a process.json, or the container's own process with the
// command line's overrides, as runc does), join the running container through launchJoin, place it
// in the container's cgroups, and in the foreground wait for it and report its status.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Process } from '../../spec/types/runtime';
import { errors, RuntimeError } from '../errors/index';
import { joinCgroupsSync } from './cgroups';
import { writePidFile, type ContainerRuntime } from './container';
import { launchJoin } from './launch';
import { checkLsmRequests, hostLsm } from './lsm';
import { withHome } from './passwd';
import { checkTransition } from './status';
import { callerConsoleSize, proxyTty, type TtyProxy } from './tty-proxy';
import { waitExitStatus } from './wait';

export type ExecOptions = {
  processFile?: string;
  args: string[];
  tty?: boolean;
  consoleSocket?: string;
  detach?: boolean;
  pidFile?: string;
  env?: string[];
  cwd?: string;
  user?: string;
  additionalGids?: number[];
  caps?: string[];
  noNewPrivs?: boolean;
  preserveFds?: number;
  ignorePaused?: boolean;
  apparmor?: string;
  processLabel?: string;
  /** --cgroup: [<controller>[,<controller>]:]<path>, sub-cgroups of the container's to run in */
  cgroups?: string[];
};

const forwarded: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

/** Sets or replaces KEY=VALUE entries in an env list. */
function mergeEnv(base: readonly string[], extra: readonly string[]): string[] {
  const out = [...base];
  for (const kv of extra) {
    const key = kv.split('=', 1)[0]!;
    const i = out.findIndex((e) => e.split('=', 1)[0] === key);
    if (i >= 0) out[i] = kv;
    else out.push(kv);
  }
  return out;
}

/** The process exec runs: process.json as given, or the container's process with overrides. */
export function execProcessSpec(base: Process | undefined, o: ExecOptions): Process {
  if (o.processFile) {
    let p: Process;
    try {
      p = JSON.parse(fs.readFileSync(o.processFile, 'utf8')) as Process;
    } catch (e) {
      throw new RuntimeError('InvalidArgument', `exec: read process ${o.processFile}: ${(e as Error).message}`);
    }
    if (!p || typeof p !== 'object' || !Array.isArray(p.args) || p.args.length === 0) {
      throw new RuntimeError('InvalidArgument', `exec: process ${o.processFile}: args must not be empty`);
    }
    if (typeof p.cwd !== 'string') p.cwd = '/';
    if (!p.user) p.user = { uid: 0, gid: 0 };
    return p;
  }
  if (o.args.length === 0) throw new RuntimeError('InvalidArgument', 'exec: args must not be empty');
  const p: Process = structuredClone(base ?? { cwd: '/', user: { uid: 0, gid: 0 } });
  p.args = o.args;
  p.terminal = o.tty ?? false;
  if (o.cwd) p.cwd = o.cwd;
  if (o.env?.length) p.env = mergeEnv(p.env ?? [], o.env);
  if (o.user) {
    const m = /^(\d+)(?::(\d+))?$/.exec(o.user);
    if (!m) throw new RuntimeError('InvalidArgument', `exec: invalid user ${JSON.stringify(o.user)}: expected uid[:gid]`);
    p.user = { ...p.user, uid: Number(m[1]), gid: m[2] !== undefined ? Number(m[2]) : p.user?.gid ?? 0 };
  }
  if (o.additionalGids?.length) p.user = { ...p.user!, additionalGids: o.additionalGids };
  if (o.caps?.length) {
    const c = (p.capabilities ??= {});
    for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const) c[set] = [...new Set([...(c[set] ?? []), ...o.caps])];
  }
  if (o.noNewPrivs) p.noNewPrivileges = true;
  if (o.apparmor) p.apparmorProfile = o.apparmor;
  if (o.processLabel) p.selinuxLabel = o.processLabel;
  return p;
}

/**
 * `exec --cgroup` arguments as runc reads them: "<controller>[,<controller>...]:<path>" each, or a
 * single bare "<path>" for every controller. Returns controller ("" = all) → sub-path.
 */
export function parseSubCgroups(args: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of args) {
    const parts = a.split(':');
    if (parts.length > 2) throw errors.invalid(`invalid --cgroup argument: ${a}`);
    if (parts.length === 1) {
      if (args.length !== 1) throw errors.invalid(`invalid --cgroup argument: ${a} (missing <controller>: prefix)`);
      out.set('', a);
      continue;
    }
    for (const ctrl of parts[0]!.split(',')) {
      if (!ctrl) throw errors.invalid(`invalid --cgroup argument: ${a} (empty <controller> prefix)`);
      if (out.has(ctrl)) throw errors.invalid(`invalid --cgroup argument(s): controller ${ctrl} specified multiple times`);
      out.set(ctrl, parts[1]!);
    }
  }
  return out;
}

/**
 * The cgroups an exec'd process joins: the container's, with the --cgroup sub-paths applied. A
 * sub-path must stay below the container's cgroup (runc: "… is not a sub cgroup path").
 */
export function execCgroupPaths(container: Record<string, string>, sub: Map<string, string>): Record<string, string> {
  const out = { ...container };
  const below = (base: string, add: string) => {
    const p = path.join(base, add);
    const rel = path.relative(base, p);
    if (rel.startsWith('..') || path.isAbsolute(rel)) throw errors.invalid(`${add} is not a sub cgroup path`);
    return p;
  };
  for (const [ctrl, add] of sub) {
    if (ctrl === '') {
      for (const k of Object.keys(out)) out[k] = below(container[k]!, add);
    } else {
      if (container[ctrl] === undefined) throw errors.invalid(`unknown controller ${ctrl} in --cgroup`);
      out[ctrl] = below(container[ctrl], add);
    }
  }
  return out;
}

/** `exec`: returns the status the CLI exits with (0 when detached). */
export async function execInContainer(rt: ContainerRuntime, id: string, o: ExecOptions): Promise<number> {
  const log = rt.cfg.log.child({ id });
  const rec = rt.store.read(id);
  checkTransition('exec', rt.status(rec), id, { ignorePaused: o.ignorePaused ?? false });
  const proc = withHome(execProcessSpec(rec.config.process, o), `/proc/${rec.pid}/root`);
  const sub = parseSubCgroups(o.cgroups ?? []);
  if (sub.size > 0 && !rec.cgroupPaths) throw errors.invalid('--cgroup: the container has no cgroup');
  const cgroupPaths = rec.cgroupPaths ? execCgroupPaths(rec.cgroupPaths, sub) : undefined;
  checkLsmRequests(proc, undefined, hostLsm());
  // Foreground: become a subreaper so the process, once its helper parent exits after the
  // pid-namespace fork, is reparented to us and its status can be collected.
  if (!o.detach) rt.cfg.sys.setChildSubreaper(true);
  let proxy: TtyProxy | undefined;
  const ownTty = !o.detach && !o.consoleSocket && proc.terminal === true;
  const size = callerConsoleSize();
  if (ownTty && size && !proc.consoleSize) proc.consoleSize = size;
  let launched: { pid: number };
  try {
    launched = launchJoin({
      ...(ownTty ? { onPty: (fd: number) => (proxy = proxyTty(fd)) } : {}),
      id,
      initPid: rec.pid,
      spec: rec.config,
      process: proc,
      bundle: rec.bundle,
      consoleSocket: o.consoleSocket,
      preserveFds: o.preserveFds ?? 0,
      log,
      onJoined: (p) => {
        if (cgroupPaths) joinCgroupsSync(cgroupPaths, p, rec.rootless);
      },
    });
  } catch (e) {
    // A pty handed over before a later step failed would keep the event loop alive forever.
    proxy?.close();
    throw e;
  }
  const { pid } = launched;
  if (o.pidFile) {
    try {
      writePidFile(o.pidFile, pid);
    } catch (e) {
      // Nobody could find the process without its pid file: do not leave it running (runc terminates it).
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
      throw e;
    }
  }
  if (o.detach) return 0;
  const handlers = forwarded.map((sig) => {
    const h = () => {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  try {
    const status = await waitExitStatus(rt.cfg.sys, pid);
    await proxy?.drain();
    return status;
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
    proxy?.close();
  }
}
