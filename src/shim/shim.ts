// The shim binary's `delete` action (clean up after a dead shim, return a DeleteResponse;
// runtime-interfaces.md §4.3) and the daemon itself (`start` is in start.ts). Returns values;
// cmd/shim prints them and picks exit codes.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import { messageOf } from '../errors/index';
import { realMemSys, realShimSys, realSys } from '../native/index';
import { IdleRelease } from '../util/idle-release';
import { CliRuntime, readPid } from './cli-runtime';
import { TtrpcPublisher } from './events';
import { LogSink } from './log-sink';
import { encode, timestamp, warmUp } from './messages';
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
async function waitAdoption(f: ShimFlags, idleWork?: () => void): Promise<{ socket: string; bundle: string }> {
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
    // Announced first: a launcher's claim waits for this, never for the spare's announcement.
    if (idleWork) setImmediate(idleWork);
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

/** How many spares of this containerd and namespace are announced (waiting to be claimed). */
function spareCount(f: ShimFlags): number {
  const prefix = sparePrefix(f);
  const base = `${path.basename(prefix)}.`;
  try {
    return fs.readdirSync(path.dirname(prefix)).filter((n) => n.startsWith(base) && /^\d+$/.test(n.slice(base.length))).length;
  } catch {
    return 0;
  }
}

/** Pods one daemon serves, one after another, before it exits instead of waiting as a spare. */
const REUSE = Number(process.env.KEEL_SHIM_REUSE ?? 50);
/** Spares kept per containerd and namespace when a pod's daemon finishes. */
const MAX_SPARES = 2;

/** The daemon: serves ttrpc on fd 3 (or -socket) until Shutdown with no containers left. */
export async function serveShim(f: ShimFlags, version: string, makeInProcess: InProcessFactory | undefined, opts: { spare?: boolean } = {}): Promise<void> {
  // A daemon may wait long as a spare; V8 would flush the bytecode of functions unused meanwhile
  // (an idle process still collects garbage), and the first calls of its next pod compile again.
  v8.setFlagsFromString('--no-flush-bytecode');
  // One malloc arena for all threads (the reaper's and libuv's workers otherwise keep one each).
  realMemSys.mallocArenaMax(1);
  if (opts.spare) f = { ...f, ...(await waitAdoption(f, warmUp)) };
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
  // A quiet second after the last call, the daemon hands back what the calls left (a GC, malloc_trim).
  const idleRelease = new IdleRelease(() => realMemSys.releaseMemory(), 1000);
  const server = new TtrpcServer(log, f.debug, () => idleRelease.touch());
  let listener = net.createServer();
  let sockPath = f.socket;
  // Pods served so far; a pod's daemon (not a namespace's) goes back to waiting as a spare after
  // its pod, so that consecutive pods skip Node's start-up as well as the spare's.
  let uses = 1;
  let pod = false;
  let retiring = false;
  const runtimes = new Map<string, Runtime>();
  let tasks: TaskService;
  let idleTimer: NodeJS.Timeout | undefined;
  /** Stops taking connections on the group's socket and removes it and its pid file. */
  const unbind = () => {
    listener.close();
    if (sockPath) {
      fs.rmSync(sockPath, { force: true });
      fs.rmSync(`${sockPath}.pid`, { force: true });
    }
  };
  const shutdown = async () => {
    unbind();
    await tasks.drain();
    tasks.close();
    server.closeAll();
    events.close();
    reaper.stop();
    idleRelease.stop();
    log.info('shim exiting');
    // Let the Shutdown response reach containerd before the process goes.
    setTimeout(() => process.exit(0), 10).unref();
  };
  /** Binds the group's socket, writes its pid file and readies the next pod's spare; false when another daemon holds it. */
  const bind = async (): Promise<boolean> => {
    // comm becomes "keel-shim: cont…": the launcher's start fast path checks it against the pid file.
    process.title = `keel-shim: containerd-shim-keel-v2 -namespace ${f.namespace} -address ${f.address} -socket ${sockPath ?? ''}`;
    server.serve(listener);
    if (f.listenFd !== undefined) await listen(listener, { fd: f.listenFd });
    else if (!sockPath || !(await bindSocket(listener, sockPath))) return false;
    // The launcher script's `start` fast path reuses this daemon while the pid file names it.
    if (sockPath) writeAtomic(`${sockPath}.pid`, String(process.pid));
    pod = groupOf(f.bundle, f.id, f.namespace).startsWith('group/');
    log.info({ pid: process.pid, socket: sockPath, adopted: opts.spare || uses > 1 || undefined }, 'shim serving');
    // A pod's daemon readies the next pod's (ctr's namespace daemons need none).
    if (sockPath && pod) spawnSpare(f, reaper, log);
    return true;
  };
  /**
   * After its pod: waits as a spare for the next pod (up to KEEL_SHIM_REUSE pods, MAX_SPARES
   * spares). Nothing of the old pod is kept: its containers, connections and socket are gone.
   */
  const retire = async (): Promise<void> => {
    retiring = true;
    unbind();
    await tasks.drain();
    server.closeAll();
    log.info({ uses }, 'pod served; waiting as a spare');
    const next = await waitAdoption(f);
    f = { ...f, ...next, listenFd: undefined };
    sockPath = f.socket;
    uses++;
    sink.retarget([f.bundle]);
    listener = net.createServer();
    retiring = false;
    if (!(await bind())) {
      log.info({ socket: sockPath }, 'socket already served; exiting');
      process.exit(0);
    }
  };
  tasks = new TaskService({
    namespace: f.namespace,
    reaper,
    sys: realSys,
    shimSys: realShimSys,
    events,
    log,
    version,
    // Shutdown with nothing left to serve: a pod's daemon becomes a spare (above); else exit after
    // KEEL_SHIM_IDLE_MS (default 10 s) unless a new container arrives first. containerd 1.6 does
    // not wait for the shim to exit after Shutdown (shimTask.delete sends it, then closes the
    // connection), and `start` reuses a live socket, so back-to-back containers of a namespace
    // skip a daemon start-up.
    onShutdown: () => {
      if (retiring) return;
      if (pod && uses < REUSE && process.env.KEEL_SHIM_SPARE !== '0' && spareCount(f) < MAX_SPARES) return void retire();
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
  if (!(await bind())) {
    // Another daemon won the race for this group's socket (two cold starts): it serves, we go.
    log.info({ socket: sockPath }, 'socket already served; exiting');
    process.exit(0);
  }
}
