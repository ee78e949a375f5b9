// The shim binary's three roles (containerd runtime v2 README, runtime-interfaces.md §4.2–4.3):
// `start` (find or launch the daemon for this container's group, write <bundle>/address, return
// the address), `delete` (clean up after a dead shim, return a DeleteResponse) and the daemon
// itself. Returns values; cmd/shim prints them and picks exit codes.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { messageOf } from '../errors/index';
import { realShimSys, realSys } from '../native/index';
import { CliRuntime, readPid } from './cli-runtime';
import { TtrpcPublisher } from './events';
import { LogSink } from './log-sink';
import { encode, timestamp } from './messages';
import { Reaper } from './reaper';
import { unmountAll } from './rootfs';
import type { Runtime, RuntimeOptions } from './runtime';
import { TaskService } from './task-service';
import { TtrpcServer } from './ttrpc-server';

export type ShimFlags = {
  namespace: string;
  address: string;
  publishBinary: string;
  id: string;
  bundle: string;
  debug: boolean;
  socket?: string;
};

/** Which runtime a bundle was created with, so `delete` can clean up after a dead daemon. */
type RuntimeRecord = { binary: string; root: string };
const RECORD = 'keel-runtime.json';

/** Directory of shim sockets, as the runc shim uses (/run/containerd/s); KEEL_SHIM_SOCKET_DIR overrides. */
function socketDir(): string {
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

export function socketPathOf(f: ShimFlags, group: string): string {
  const h = createHash('sha256').update(`keel:${f.address}/${f.namespace}/${group}`).digest('hex');
  return path.join(socketDir(), h);
}

function canConnect(p: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(p);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function writeAtomic(file: string, data: string): void {
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
    let fd: number;
    try {
      fd = realShimSys.unixListen(sockPath, 128);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== 'EADDRINUSE') throw e;
      // A stale socket from a dead daemon, or another `start` racing us: look again.
      if (!(await canConnect(sockPath))) {
        try {
          const st = fs.statSync(sockPath);
          if (Date.now() - st.mtimeMs > 2000) fs.rmSync(sockPath, { force: true });
        } catch {
          /* gone already */
        }
      }
      await new Promise((r) => setTimeout(r, 20));
      continue;
    }
    fs.chmodSync(sockPath, 0o600);
    writeAtomic(path.join(f.bundle, 'address'), address);
    let logFd: number | 'ignore' = 'ignore';
    try {
      logFd = fs.openSync(path.join(f.bundle, 'log'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    } catch {
      /* containerd not reading a log fifo (tests): the daemon logs nowhere */
    }
    // `start` is short-lived and never reaps, so child_process is fine here; the daemon detaches.
    const child = spawn(daemonArgv[0]!, [...daemonArgv.slice(1), '-socket', sockPath], {
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

/** The runtime recorded for a bundle (delete) or chosen from options and the environment (create). */
function runtimeRecord(opts: RuntimeOptions, namespace: string): RuntimeRecord {
  const binary = opts.binaryName || process.env.KEEL_SHIM_BINARY || '';
  const root = opts.root || path.join(process.env.KEEL_SHIM_ROOT ?? '/run/containerd/keel', namespace);
  return { binary, root };
}

function resolveBinary(b: string): string {
  if (path.isAbsolute(b)) return b;
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = path.join(dir, b);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return b;
}

/** `delete`: force-deletes the container, unmounts its rootfs, and returns the DeleteResponse bytes. */
export async function deleteShim(f: ShimFlags, makeInProcess: InProcessFactory | undefined): Promise<Buffer> {
  let rec: RuntimeRecord | undefined;
  try {
    rec = JSON.parse(fs.readFileSync(path.join(f.bundle, RECORD), 'utf8')) as RuntimeRecord;
  } catch {
    rec = runtimeRecord({}, f.namespace);
  }
  const reaper = new Reaper(realSys, realShimSys);
  reaper.start(false);
  const log = new LogSink(-1, undefined).logger(false);
  try {
    const rt: Runtime | undefined = rec.binary
      ? new CliRuntime(resolveBinary(rec.binary), rec.root, reaper, realShimSys, log)
      : makeInProcess?.({ root: rec.root, reaper, log });
    await rt?.delete(f.id, true);
  } catch (e) {
    process.stderr.write(`delete ${f.id}: ${messageOf(e)}\n`);
  } finally {
    reaper.stop();
  }
  unmountAll(realShimSys, path.join(f.bundle, 'rootfs'));
  let pid = 0;
  try {
    pid = readPid(path.join(f.bundle, 'init.pid'));
  } catch {
    /* never created */
  }
  return encode('containerd.task.v2.DeleteResponse', { pid, exitStatus: 137, exitedAt: timestamp(new Date()) });
}

/** Builds the in-process runtime (src/shim/inprocess-runtime.ts) without this file importing src/runtime eagerly. */
export type InProcessFactory = (o: { root: string; reaper: Reaper; log: import('../log/index').Logger; systemdCgroup?: boolean }) => Runtime;

/** The daemon: serves ttrpc on fd 3 (or -socket) until Shutdown with no containers left. */
export async function serveShim(f: ShimFlags, version: string, makeInProcess: InProcessFactory | undefined): Promise<void> {
  const sink = new LogSink(2, f.bundle);
  const log = sink.logger(f.debug);
  const reaper = new Reaper(realSys, realShimSys, log);
  reaper.start(true);
  const events = new TtrpcPublisher(process.env.TTRPC_ADDRESS ?? `${f.address}.ttrpc`, log);
  const server = new TtrpcServer(log);
  const listener = net.createServer();
  const sockPath = f.socket;
  const runtimes = new Map<string, Runtime>();
  let tasks: TaskService;
  const shutdown = () => {
    listener.close();
    if (sockPath) fs.rmSync(sockPath, { force: true });
    tasks.close();
    server.closeAll();
    events.close();
    reaper.stop();
    log.info('shim exiting');
    // Let the Shutdown response reach containerd before the process goes.
    setTimeout(() => process.exit(0), 10).unref();
  };
  tasks = new TaskService({
    namespace: f.namespace,
    reaper,
    sys: realSys,
    shimSys: realShimSys,
    events,
    log,
    version,
    onShutdown: shutdown,
    onContainersChanged: (bundles) => sink.retarget(bundles),
    runtimeFor: (opts, ns, bundle) => {
      const rec = runtimeRecord(opts, ns);
      writeAtomic(path.join(bundle, RECORD), JSON.stringify(rec));
      const key = `${rec.binary}\0${rec.root}`;
      let rt = runtimes.get(key);
      if (!rt) {
        if (rec.binary) rt = new CliRuntime(resolveBinary(rec.binary), rec.root, reaper, realShimSys, log, { systemdCgroup: opts.systemdCgroup });
        else if (makeInProcess) rt = makeInProcess({ root: rec.root, reaper, log, systemdCgroup: opts.systemdCgroup });
        else throw new Error('no runtime: set BinaryName or KEEL_SHIM_BINARY');
        runtimes.set(key, rt);
      }
      return rt;
    },
  });
  server.register('containerd.task.v2.Task', tasks.handlers());
  server.serve(listener);
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(fs.existsSync('/proc/self/fd/3') && !process.env.KEEL_SHIM_NO_FD3 ? { fd: 3 } : { path: sockPath! }, () => resolve());
  });
  log.info({ pid: process.pid, socket: sockPath }, 'shim serving');
}
