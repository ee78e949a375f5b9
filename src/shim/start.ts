// The shim's `start` action (runtime-interfaces.md §4.2): find the daemon serving this container's
// group or launch one, write <bundle>/address and return the unix:// address. Kept free of
// protobufjs and pino so that `start`, which containerd runs for every container, loads fast.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { LOCK_EX, realShimSys, realSys } from '../native/index';

/** What containerd passes every shim action (Go-style flags). */
export type ShimFlags = {
  namespace: string;
  address: string;
  publishBinary: string;
  id: string;
  bundle: string;
  debug: boolean;
  socket?: string;
  /** The daemon's listening socket is this inherited fd (Node `start`); absent = bind `socket` (launcher script). */
  listenFd?: number;
};

/** Directory of shim sockets, as the runc shim uses (/run/containerd/s); KEEL_SHIM_SOCKET_DIR overrides. */
export function socketDir(): string {
  return process.env.KEEL_SHIM_SOCKET_DIR ?? '/run/containerd/s';
}

/**
 * The group a container's shim serves: the annotations the runc shim honours (pod sandbox), else
 * the whole namespace (KEEL_SHIM_GROUP=container gives one shim per container).
 */
export function groupOf(bundle: string, id: string, namespace: string): string {
  try {
    const spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')) as { annotations?: Record<string, string> };
    const a = spec.annotations ?? {};
    const g = a['io.containerd.runc.v2.group'] ?? a['io.kubernetes.cri.sandbox-id'];
    if (g) return `group/${g}`;
  } catch {
    /* no config: fall through */
  }
  return process.env.KEEL_SHIM_GROUP === 'container' ? `container/${id}` : `namespace/${namespace}`;
}

/**
 * Where the spare daemons of one containerd and namespace announce themselves: `<prefix>.<pid>`
 * (the launcher script computes the same name; see shim.ts waitAdoption).
 */
export function sparePrefix(f: Pick<ShimFlags, 'address' | 'namespace'>): string {
  const h = createHash('sha256').update(`keel:${f.address}/${f.namespace}`).digest('hex');
  return path.join(socketDir(), `keel-spare-${h}`);
}

export function socketPathOf(f: ShimFlags, group: string): string {
  const h = createHash('sha256').update(`keel:${f.address}/${f.namespace}/${group}`).digest('hex');
  return path.join(socketDir(), h);
}

/** Whether something accepts connections on the unix socket at p. */
export function canConnect(p: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(p);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Runs fn holding an flock on the socket directory, so that binding a group's socket and judging an
 * existing one stale are one step for every keel process: without it, a socket caught between its
 * daemon's bind and listen looks dead (ECONNREFUSED) and would be removed under a live daemon,
 * which then lingers unreachable. The lock lives on the directory: no lock file is left behind.
 */
export async function withSocketLock<T>(sockPath: string, fn: () => Promise<T>): Promise<T> {
  const fd = fs.openSync(path.dirname(sockPath), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    realSys.flock(fd, LOCK_EX);
    return await fn();
  } finally {
    fs.closeSync(fd); // releases the lock
  }
}

export function writeAtomic(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data, { mode: 0o644 });
  fs.renameSync(tmp, file);
}

/**
 * `start`: reuses the group's live daemon or launches one (listening socket passed as fd 3,
 * stderr on the bundle's log fifo, nothing inherited from our stdout), writes <bundle>/address and
 * returns the unix:// address.
 */
export async function startShim(f: ShimFlags, daemonArgv: string[]): Promise<string> {
  const sockPath = socketPathOf(f, groupOf(f.bundle, f.id, f.namespace));
  const address = `unix://${sockPath}`;
  fs.mkdirSync(path.dirname(sockPath), { recursive: true, mode: 0o711 });
  for (let attempt = 0; attempt < 50; attempt++) {
    if (await canConnect(sockPath)) {
      writeAtomic(path.join(f.bundle, 'address'), address);
      return address;
    }
    const fd = await withSocketLock(sockPath, async () => {
      try {
        return realShimSys.unixListen(sockPath, 128);
      } catch (e) {
        if ((e as { code?: string }).code !== 'EADDRINUSE') throw e;
        // Under the lock a socket nobody answers on is a dead daemon's: remove it and look again.
        if (!(await canConnect(sockPath))) fs.rmSync(sockPath, { force: true });
        return -1;
      }
    });
    if (fd < 0) continue;
    fs.chmodSync(sockPath, 0o600);
    writeAtomic(path.join(f.bundle, 'address'), address);
    let logFd: number | 'ignore' = 'ignore';
    try {
      logFd = fs.openSync(path.join(f.bundle, 'log'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    } catch {
      /* containerd not reading a log fifo (tests): the daemon logs nowhere */
    }
    // `start` is short-lived and never reaps, so child_process is fine here; the daemon detaches.
    const child = spawn(daemonArgv[0]!, [...daemonArgv.slice(1), '-socket', sockPath, '-listen-fd', '3'], {
      detached: true,
      stdio: ['ignore', 'ignore', logFd, fd],
      cwd: f.bundle,
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    child.unref();
    fs.closeSync(fd);
    if (typeof logFd === 'number') fs.closeSync(logFd);
    return address;
  }
  throw new Error(`start shim: socket ${sockPath} stays unusable`);
}

