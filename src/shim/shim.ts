// The shim binary's `delete` action (clean up after a dead shim, return a DeleteResponse;
// runtime-interfaces.md §4.3) and the daemon itself (`start` is in start.ts). Returns values;
// cmd/shim prints them and picks exit codes.
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
import { messageType } from './messages';
import { canConnect, groupOf, sparePrefix, withSocketLock, writeAtomic, type ShimFlags } from './start';
import { TaskService } from './task-service';
import { TtrpcServer } from './ttrpc-server';


/** Which runtime a bundle was created with, so `delete` can clean up after a dead daemon. */
type RuntimeRecord = { binary: string; root: string };
const RECORD = 'keel-runtime.json';

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

function listen(l: net.Server, where: { fd: number } | { path: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    l.once('error', reject);
    l.listen(where, () => {
      l.off('error', reject);
      resolve();
    });
  });
}

/**
 * Binds the group's socket when the launcher script started us. false when a live daemon already
 * holds it; a stale file (from a daemon killed with SIGKILL) is removed and bound again.
 */
async function bindSocket(l: net.Server, sockPath: string): Promise<boolean> {
  fs.mkdirSync(path.dirname(sockPath), { recursive: true, mode: 0o711 });
  return withSocketLock(sockPath, async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await listen(l, { path: sockPath });
        fs.chmodSync(sockPath, 0o600);
        return true;
      } catch (e) {
        if ((e as { code?: string }).code !== 'EADDRINUSE') throw e;
        if (await canConnect(sockPath)) return false;
        fs.rmSync(sockPath, { force: true });
      }
    }
    throw new Error(`bind ${sockPath}: address stays in use`);
  });
}

/**
 * A spare daemon: started ahead of need (spawnSpare), with the modules loaded and the protobuf
 * definitions parsed, it waits until the launcher script of a new group (a new pod) claims it.
 * Protocol, with P = sparePrefix(f): the spare writes P.<pid> once ready; a launcher renames it to
 * P.<pid>.claimed (rename is atomic: one launcher wins), writes "<socket>\n<bundle>" to
 * P.<pid>.req and sends SIGUSR2; the spare then binds that socket and serves. Unclaimed for
 * KEEL_SHIM_SPARE_IDLE_MS (default 10 min), it renames its file away and exits; if the rename
 * fails it was just claimed and stays for the request.
 */
async function waitAdoption(f: ShimFlags): Promise<{ socket: string; bundle: string }> {
  process.title = `keel-spare: containerd-shim-keel-v2 -namespace ${f.namespace} -address ${f.address}`;
  messageType('containerd.task.v2.CreateTaskRequest');
  const file = `${sparePrefix(f)}.${process.pid}`;
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o711 });
  const idle = Number(process.env.KEEL_SHIM_SPARE_IDLE_MS ?? 600_000);
  // Signal listeners do not keep Node alive.
  const keep = setInterval(() => undefined, 1 << 30);
  return new Promise((resolve) => {
    const timer = setTimeout(function retire() {
      try {
        fs.renameSync(file, `${file}.gone`);
        fs.rmSync(`${file}.gone`, { force: true });
        process.exit(0);
      } catch {
        /* claimed meanwhile: the request follows */
      }
    }, idle);
    process.on('SIGUSR2', () => {
      let req: string[];
      try {
        req = fs.readFileSync(`${file}.req`, 'utf8').split('\n');
      } catch {
        return; /* not written yet: the launcher signals after writing */
      }
      const [socket, bundle] = req;
      if (!socket || !bundle) return;
      fs.rmSync(`${file}.req`, { force: true });
      fs.rmSync(`${file}.claimed`, { force: true });
      clearTimeout(timer);
      clearInterval(keep);
      process.removeAllListeners('SIGUSR2');
      resolve({ socket, bundle });
    });
    writeAtomic(file, String(process.pid));
  });
}

/**
 * Starts one spare daemon for this containerd and namespace unless one is announced already, so
 * that the next pod's `start` adopts a warm process instead of waiting for Node to start.
 * KEEL_SHIM_SPARE=0 turns spares off.
 */
function spawnSpare(f: ShimFlags, reaper: Reaper, log: import('../log/index').Logger): void {
  if (process.env.KEEL_SHIM_SPARE === '0') return;
  const prefix = sparePrefix(f);
  const base = `${path.basename(prefix)}.`;
  try {
    if (fs.readdirSync(path.dirname(prefix)).some((n) => n.startsWith(base) && /^\d+$/.test(n.slice(base.length)))) return;
    const argv = [process.execPath, ...process.execArgv, process.argv[1]!, '-namespace', f.namespace, '-address', f.address, '-publish-binary', f.publishBinary, ...(f.debug ? ['-debug'] : []), '-spare'];
    const child = reaper.spawn({ argv, cwd: '/', setsid: true });
    fs.closeSync(child.pidfd);
    log.debug({ pid: child.pid }, 'spare daemon started');
  } catch (e) {
    log.warn({ err: messageOf(e) }, 'spare daemon');
  }
}

/** The daemon: serves ttrpc on fd 3 (or -socket) until Shutdown with no containers left. */
export async function serveShim(f: ShimFlags, version: string, makeInProcess: InProcessFactory | undefined, opts: { spare?: boolean } = {}): Promise<void> {
  if (opts.spare) f = { ...f, ...(await waitAdoption(f)) };
  // comm becomes "keel-shim: cont…": the launcher's start fast path checks it against the pid file.
  process.title = `keel-shim: containerd-shim-keel-v2 -namespace ${f.namespace} -address ${f.address} -socket ${f.socket ?? ''}`;
  // stderr is the bundle's log fifo; a full fifo must drop lines, never block the daemon.
  try {
    realShimSys.setNonblock(2, true);
  } catch {
    /* not a fifo we may change: the sink copes with errors */
  }
  const sink = new LogSink(2, opts.spare ? undefined : f.bundle);
  // An adopted spare's stderr is /dev/null: log into the bundle's fifo from the start.
  if (opts.spare) sink.retarget([f.bundle]);
  const log = sink.logger(f.debug);
  const reaper = new Reaper(realSys, realShimSys, log);
  reaper.start(true);
  const events = new TtrpcPublisher(process.env.TTRPC_ADDRESS ?? `${f.address}.ttrpc`, log);
  const server = new TtrpcServer(log);
  const listener = net.createServer();
  const sockPath = f.socket;
  const runtimes = new Map<string, Runtime>();
  let tasks: TaskService;
  let idleTimer: NodeJS.Timeout | undefined;
  const shutdown = async () => {
    listener.close();
    if (sockPath) {
      fs.rmSync(sockPath, { force: true });
      fs.rmSync(`${sockPath}.pid`, { force: true });
    }
    await tasks.drain();
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
    // Shutdown with nothing left to serve: exit after KEEL_SHIM_IDLE_MS (default 10 s) unless a new
    // container arrives first. containerd 1.6 does not wait for the shim to exit after Shutdown
    // (shimTask.delete sends it, then closes the connection), and `start` reuses a live socket,
    // so back-to-back containers of a namespace skip a daemon start-up.
    onShutdown: () => {
      const idle = Number(process.env.KEEL_SHIM_IDLE_MS ?? 10_000);
      if (idleTimer) clearTimeout(idleTimer);
      if (idle <= 0) return void shutdown();
      idleTimer = setTimeout(() => {
        if (tasks.size === 0) void shutdown();
      }, idle);
    },
    onContainersChanged: (bundles) => {
      if (bundles.length > 0 && idleTimer) {
        clearTimeout(idleTimer);
        idleTimer = undefined;
      }
      sink.retarget(bundles);
    },
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
  if (f.listenFd !== undefined) await listen(listener, { fd: f.listenFd });
  else if (!sockPath || !(await bindSocket(listener, sockPath))) {
    // Another daemon won the race for this group's socket (two cold starts): it serves, we go.
    log.info({ socket: sockPath }, 'socket already served; exiting');
    process.exit(0);
  }
  // The launcher script's `start` fast path reuses this daemon while the pid file names it.
  if (sockPath) writeAtomic(`${sockPath}.pid`, String(process.pid));
  log.info({ pid: process.pid, socket: sockPath, adopted: opts.spare || undefined }, 'shim serving');
  // A pod's daemon readies the next pod's (ctr's namespace daemons need none).
  if (sockPath && groupOf(f.bundle, f.id, f.namespace).startsWith('group/')) spawnSpare(f, reaper, log);
}
