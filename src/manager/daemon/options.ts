// dockerd-style daemon flags → DaemonOptions: defaults, --default-ulimit parsing, finding the shim
// launcher and docker-init, and the TLS rule for TCP hosts. Pure apart from looking at files.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntimeError } from '../../errors/index';
import { parseHost } from '../api/client';
import type { DaemonOptions } from './daemon';

export const DEFAULT_DATA_ROOT = '/var/lib/dock';
export const DEFAULT_EXEC_ROOT = '/run/dock';
export const DEFAULT_SOCKET = '/run/dock/dock.sock';

/** name=soft[:hard] (dockerd --default-ulimit / docker run --ulimit). */
export function parseUlimit(v: string): { Name: string; Soft: number; Hard: number } {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(v.trim());
  if (!m) throw new RuntimeError('InvalidArgument', `invalid ulimit argument: ${v}`);
  const names = ['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack', 'as'];
  if (!names.includes(m[1]!)) throw new RuntimeError('InvalidArgument', `invalid ulimit type: ${m[1]}`);
  const soft = Number(m[2]);
  const hard = m[3] !== undefined ? Number(m[3]) : soft;
  if (soft > hard && hard !== -1) throw new RuntimeError('InvalidArgument', `ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: m[1]!, Soft: soft, Hard: hard };
}

function executable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The shim launcher: $DOCK_SHIM_BINARY, next to this program, in the source tree's bin/, or on PATH. */
export function findShim(selfPath: string): string {
  const env = process.env.DOCK_SHIM_BINARY;
  if (env) return env;
  const self = fs.realpathSync(selfPath);
  for (const dir of [path.dirname(self), path.resolve(path.dirname(self), '..', '..', 'bin')]) {
    const p = path.join(dir, 'containerd-shim-keel-v2');
    if (executable(p)) return p;
  }
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = path.join(dir, 'containerd-shim-keel-v2');
    if (dir && executable(p)) return p;
  }
  throw new RuntimeError('NotFound', 'containerd-shim-keel-v2 not found (build it with make, or set DOCK_SHIM_BINARY)');
}

/** docker-init: --init-path, else docker-init or tini on PATH (Debian's tini provides both). */
export function findInit(flag?: string): string | undefined {
  if (flag) return flag;
  for (const name of ['docker-init', 'tini']) {
    for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
      const p = path.join(dir, name);
      if (dir && executable(p)) return fs.realpathSync(p);
    }
  }
  return undefined;
}

export type DaemonFlags = {
  host?: string[];
  dataRoot?: string;
  execRoot?: string;
  pidfile?: string;
  insecureRegistry?: string[];
  defaultUlimit?: string[];
  group?: string;
  tls?: boolean;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  cgroupParent?: string;
  logDriver?: string;
  logOpt?: string[];
  initPath?: string;
  bridge?: string;
  bip?: string;
  iptables?: boolean;
};

export function daemonOptions(f: DaemonFlags, self: string, version: string, commit: string): DaemonOptions {
  const execRoot = f.execRoot ?? DEFAULT_EXEC_ROOT;
  const hosts = f.host?.length ? f.host : [`unix://${execRoot === DEFAULT_EXEC_ROOT ? DEFAULT_SOCKET : path.join(execRoot, 'dock.sock')}`];
  for (const h of hosts) {
    const ep = parseHost(h);
    if (ep.kind === 'tcp' && !f.tlsverify) {
      throw new RuntimeError('InvalidArgument', `refusing to serve ${h} without --tlsverify: give --tlsverify --tlscacert --tlscert --tlskey (clients must present a certificate the CA signed)`);
    }
  }
  const logOpts: Record<string, string> = {};
  for (const o of f.logOpt ?? []) {
    const i = o.indexOf('=');
    if (i < 1) throw new RuntimeError('InvalidArgument', `invalid log-opt: ${o}`);
    logOpts[o.slice(0, i)] = o.slice(i + 1);
  }
  const driver = f.logDriver ?? 'json-file';
  if (driver !== 'json-file' && driver !== 'none') throw new RuntimeError('InvalidArgument', `logger: no log driver named '${driver}' is registered`);
  return {
    hosts,
    dataRoot: f.dataRoot ?? DEFAULT_DATA_ROOT,
    execRoot,
    pidfile: f.pidfile ?? path.join(execRoot, 'dock.pid'),
    insecureRegistries: f.insecureRegistry ?? [],
    defaultUlimits: (f.defaultUlimit ?? []).map(parseUlimit),
    group: f.group,
    tls: f.tlsverify ? { verify: true, ca: f.tlscacert, cert: f.tlscert, key: f.tlskey } : undefined,
    cgroupParent: f.cgroupParent ?? '/dock',
    shimBinary: findShim(self),
    initPath: findInit(f.initPath),
    logDriver: driver,
    logOpts,
    version,
    commit,
    bridge: f.bridge ?? 'keel0',
    bip: f.bip,
    iptables: f.iptables !== false,
  };
}
