// A container's runs: start (rootfs, mounts, network, spec, stdio, shim task), the exit monitor
// (drain output, delete the task, release, restart policy, --rm), stop/kill/restart/pause, wait.
// Everything here takes the container's lock except the monitor, which lock holders wait for.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { constants as osConstants } from 'node:os';
import { RuntimeError, messageOf } from '../../errors/index';
import { HttpError } from '../api/http';
import { PortAllocatedError } from '../network/errors';
import { mountSnapshot, unmountDir as unmountAll } from './rootfs';
import { JsonFileWriter, jsonFileOptions } from '../logs/jsonfile';
import { ProcessStreams } from '../tasks/io';
import { task, type ShimConn } from '../tasks/shim';
import type { Engine } from './engine';
import { startHealth } from './health';
import type { Live } from './live';
import { startMounts } from './mounts';
import { shouldRestart, nextBackoff } from './restart-policy';
import { buildSpec, type NamespacePaths } from './spec';
import type { ContainerRecord } from './types';

const nowIso = () => new Date().toISOString().replace(/(\.\d{3})Z$/, '$1000000Z');
const isoOf = (d: Date) => d.toISOString().replace(/(\.\d{3})Z$/, '$1000000Z');

/** Signal names and numbers as Docker accepts them (9, KILL, SIGKILL, kill). */
export function parseSignal(s: string | undefined, dflt = 'SIGKILL'): number {
  const v = (s || dflt).trim();
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (n < 1 || n > 64) throw new RuntimeError('InvalidArgument', `Invalid signal: ${v}`);
    return n;
  }
  const name = v.toUpperCase().startsWith('SIG') ? v.toUpperCase() : `SIG${v.toUpperCase()}`;
  const n = (osConstants.signals as Record<string, number>)[name];
  if (n === undefined) throw new RuntimeError('InvalidArgument', `Invalid signal: ${v}`);
  return n;
}

function notRunning(rec: ContainerRecord): RuntimeError {
  return new RuntimeError('FailedPrecondition', `Container ${rec.ID} is not running`);
}

/** Mounts the writable layer on the bundle's rootfs unless it already is. */
async function mountRootfs(e: Engine, rec: ContainerRecord): Promise<string> {
  const rootfs = e.rootfsDir(rec.ID);
  await mountSnapshot(await e.d.snapshotter.mounts(rec.SnapshotKey), rootfs);
  return rootfs;
}

/** The pid of another container's task (container:<ref> namespaces). */
function pidOf(e: Engine, ref: string): number {
  const other = e.find(ref);
  if (!other.State.Running || !other.State.Pid) throw new RuntimeError('FailedPrecondition', `cannot join network of a non running container: ${other.ID}`);
  return other.State.Pid;
}

function nsMode(e: Engine, mode: string | undefined, kind: 'pid' | 'ipc'): string {
  if (!mode || mode === 'private' || mode === 'shareable' || mode === '') return 'new';
  if (mode === 'host') return 'host';
  if (mode.startsWith('container:')) return `/proc/${pidOf(e, mode.slice(10))}/ns/${kind}`;
  throw new RuntimeError('InvalidArgument', `invalid ${kind.toUpperCase()} mode: ${mode}`);
}

/** Docker's start-failure exit codes, from the runtime's message (the CLI maps them to 126/127). */
function startFailureCode(msg: string): number {
  if (/executable file not found|no such file or directory/i.test(msg)) return 127;
  if (/permission denied/i.test(msg)) return 126;
  return 128;
}

/** Turns keel's exec errors into the wording the docker CLI recognises. */
function startError(rec: ContainerRecord, err: unknown): RuntimeError {
  let msg = messageOf(err);
  if (!/executable file not found|permission denied|no such file or directory/i.test(msg)) {
    if (/exec\b.*\bENOENT|ENOENT.*exec/i.test(msg)) msg = `exec: "${rec.Path}": executable file not found in $PATH: ${msg}`;
    else if (/exec\b.*\bEACCES|EACCES.*exec/.test(msg)) msg = `exec: "${rec.Path}": permission denied: ${msg}`;
  }
  return new RuntimeError('Internal', `failed to create task for container: ${msg}`, { cause: err });
}

/** POST /containers/{id}/start. 304 when it runs already. */
export async function start(e: Engine, ref: string): Promise<void> {
  const rec = e.find(ref);
  try {
    await e.lock.run(rec.ID, () => startLocked(e, rec));
  } catch (err) {
    // dockerd removes an --rm container whose start failed (and wakes wait?condition=removed).
    if (rec.HostConfig.AutoRemove && !(err instanceof HttpError)) await e.remove(rec.ID, { volumes: true }).catch(() => undefined);
    throw err;
  }
}

export async function startLocked(e: Engine, rec: ContainerRecord): Promise<void> {
  if (rec.State.Paused) throw new RuntimeError('FailedPrecondition', 'cannot start a paused container, try unpause instead');
  if (rec.State.Running) throw new HttpError(304, 'Container already started');
  if (rec.State.Status === 'removing') throw new RuntimeError('FailedPrecondition', `container is marked for removal and cannot be started`);
  if (rec.State.Dead) throw new RuntimeError('FailedPrecondition', 'cannot start a container that has been removed');
  const live = e.live(rec.ID);
  if (live.restartTimer) {
    clearTimeout(live.restartTimer);
    live.restartTimer = undefined;
  }
  const bundle = e.bundleDir(rec.ID);
  const undo: (() => Promise<void>)[] = [];
  let conn: ShimConn | undefined;
  let created = false;
  /** Set once the runtime is involved: its failures are worded as a task creation failure. */
  let inTask = false;
  // Where a start spends its time, at debug level: {phase: ms since the start began}.
  const t0 = performance.now();
  const phases: Record<string, number> = {};
  const mark = (p: string) => (phases[p] = Math.round(performance.now() - t0));
  try {
    await fs.mkdir(bundle, { recursive: true, mode: 0o711 });
    const rootfs = await mountRootfs(e, rec);
    undo.push(() => unmountAll(rootfs));
    mark('rootfs');
    const m = await startMounts({ volumes: e.d.volumes, findContainer: (x) => e.find(x) }, rec, rootfs);
    undo.push(m.release);
    const dir = e.d.store.containerDir(rec.ID);
    const net = await e.d.network.setup(rec, dir, (x) => pidOf(e, x));
    undo.push(() => e.d.network.teardown(rec));
    mark('network');
    const namespaces: NamespacePaths = {
      network: net.netns,
      pid: nsMode(e, rec.HostConfig.PidMode, 'pid'),
      ipc: nsMode(e, rec.HostConfig.IpcMode, 'ipc'),
      uts: rec.HostConfig.UTSMode === 'host' ? 'host' : 'new',
    };
    const recForSpec = net.env?.length ? { ...rec, Config: { ...rec.Config, Env: [...net.env, ...(rec.Config.Env ?? [])] } } : rec;
    const spec = await buildSpec({
      rec: recForSpec,
      rootfs,
      etcFiles: net.etcFiles,
      mounts: m.mounts,
      namespaces,
      cgroupsPath: path.posix.join(rec.HostConfig.CgroupParent || e.d.config.cgroupParent, rec.ID),
      initPath: e.d.config.initPath,
      defaultUlimits: e.d.config.defaultUlimits,
      hostDevices: () => [],
    });
    await fs.writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
    mark('spec');
    const io = await ProcessStreams.open(e.d.sys, bundle, 'init', { stdin: !!rec.Config.OpenStdin, tty: !!rec.Config.Tty });
    undo.push(async () => {
      io.close();
      await io.removeFiles();
    });
    const log = rec.HostConfig.LogConfig?.Type === 'none' ? undefined : new JsonFileWriter(e.logPath(rec), jsonFileOptions(rec.HostConfig.LogConfig?.Config));
    undo.push(async () => log?.close());
    const address = await e.d.shims.addressFor(rec.ID, bundle);
    conn = await e.d.shims.connect(address);
    mark('shim');
    inTask = true;
    const { pid } = await task.create(conn, rec.ID, bundle, [], io.paths);
    mark('create');
    created = true;
    live.io = io;
    live.log = log;
    live.conn = conn;
    live.oomKilled = false;
    io.startReading((stream, data) => {
      log?.write(stream, data);
      live.emit(stream, data);
    });
    await task.start(conn, rec.ID);
    mark('start');
    live.flushStdin();
    live.releaseStart = async () => {
      await m.release();
      await unmountAll(rootfs).catch((err) => e.d.log.warn({ id: rec.ID, err: messageOf(err) }, 'unmount rootfs'));
    };
    Object.assign(rec.State, { Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: pid, ExitCode: 0, Error: '', StartedAt: nowIso() });
    rec.HasBeenManuallyStopped = false;
    rec.HasBeenStartedBefore = true;
    rec.ShimAddress = address;
    delete rec.LastStartError;
    live.running = true;
    live.startedAtMs = Date.now();
    await e.d.store.save(rec);
    mark('saved');
    e.d.log.debug({ id: rec.ID, ...phases }, 'started');
    e.event(rec, 'start');
    monitor(e, rec, live, conn);
    if (rec.Config.Healthcheck && rec.Config.Healthcheck.Test?.[0] !== 'NONE') live.stopHealth = startHealth(e, rec);
  } catch (err) {
    if (created && conn) await task.delete(conn, rec.ID).catch(() => undefined);
    for (const u of undo.reverse()) await u().catch(() => undefined);
    live.io = undefined;
    live.log = undefined;
    let wrapped: RuntimeError;
    if (inTask) wrapped = startError(rec, err);
    else if (err instanceof PortAllocatedError && err.holder) {
      // Docker's words, then who holds the port.
      const holder = e.d.store.get(err.holder);
      wrapped = new RuntimeError(err.kind, `${err.message} (held by container ${holder ? holder.Name.slice(1) : err.holder.slice(0, 12)})`, { cause: err });
    } else wrapped = err instanceof RuntimeError ? err : new RuntimeError('Internal', messageOf(err), { cause: err });
    rec.State.Error = wrapped.message;
    rec.State.ExitCode = startFailureCode(wrapped.message);
    rec.LastStartError = wrapped.message;
    await e.d.store.save(rec).catch(() => undefined);
    throw wrapped;
  }
}

/**
 * Waits for the task's exit, then settles it. A connection lost while the daemon shuts down is
 * not an exit (the task lives on); lost otherwise, the shim died and the task goes with it.
 */
export function monitor(e: Engine, rec: ContainerRecord, live: Live, conn: ShimConn): void {
  let done!: () => void;
  live.exitHandled = new Promise((r) => (done = r));
  void (async () => {
    let status = 137;
    let exitedAt = new Date();
    let shimLost = false;
    try {
      const x = await task.wait(conn, rec.ID);
      status = x.status;
      exitedAt = x.exitedAt;
    } catch (err) {
      if (e.shuttingDown) return;
      shimLost = true;
      e.d.log.warn({ id: rec.ID, err: messageOf(err) }, 'lost the shim serving this container; cleaning up');
    }
    try {
      await handleExit(e, rec, live, status, exitedAt, shimLost);
    } catch (err) {
      e.d.log.error({ id: rec.ID, err: messageOf(err) }, 'handle exit');
    } finally {
      done();
    }
  })();
}

/** Settles an exit: drains output, deletes the task, releases, records, then restart or --rm. */
export async function handleExit(e: Engine, rec: ContainerRecord, live: Live, status: number, exitedAt: Date, shimLost: boolean): Promise<void> {
  live.stopHealth?.();
  live.stopHealth = undefined;
  if (shimLost) await e.d.shims.cleanupDeadShim(rec.ID, e.bundleDir(rec.ID));
  if (live.io) {
    // Output ends when every writer in the container is gone; a process that escaped the
    // container's pid namespace may keep the fifo open: give up on it after a while.
    await Promise.race([live.io.done, new Promise((r) => setTimeout(r, 3000))]);
    live.io.close();
    await live.io.removeFiles().catch(() => undefined);
  }
  live.log?.close();
  live.io = undefined;
  live.log = undefined;
  if (live.conn && !shimLost) {
    try {
      await task.delete(live.conn, rec.ID);
    } catch (err) {
      if ((err as RuntimeError).kind !== 'NotFound') e.d.log.warn({ id: rec.ID, err: messageOf(err) }, 'delete task');
    }
  }
  live.conn = undefined;
  await live.releaseStart?.().catch(() => undefined);
  live.releaseStart = undefined;
  await e.d.network.teardown(rec).catch((err) => e.d.log.warn({ id: rec.ID, err: messageOf(err) }, 'network teardown'));
  live.running = false;
  const ranMs = Date.now() - live.startedAtMs;
  Object.assign(rec.State, { Status: 'exited', Running: false, Paused: false, Restarting: false, Pid: 0, ExitCode: status, FinishedAt: isoOf(exitedAt), OOMKilled: live.oomKilled });
  delete rec.ShimAddress;
  const restart = !e.shuttingDown && !rec.HostConfig.AutoRemove && shouldRestart(rec, status);
  if (restart) {
    live.backoffMs = nextBackoff(live.backoffMs, ranMs);
    Object.assign(rec.State, { Status: 'restarting', Restarting: true });
  }
  await e.d.store.save(rec).catch((err) => e.d.log.error({ id: rec.ID, err: messageOf(err) }, 'save state'));
  if (live.oomKilled) e.event(rec, 'oom');
  e.event(rec, 'die', { exitCode: String(status) });
  live.outputEnded();
  live.exited({ code: status });
  if (rec.HostConfig.AutoRemove && !e.shuttingDown) {
    setImmediate(() => {
      void e.remove(rec.ID, { volumes: true }).catch((err) => e.d.log.warn({ id: rec.ID, err: messageOf(err) }, 'auto-remove'));
    });
  } else if (restart) scheduleRestart(e, rec, live);
}

function scheduleRestart(e: Engine, rec: ContainerRecord, live: Live): void {
  live.restartTimer = setTimeout(() => {
    live.restartTimer = undefined;
    void e.lock
      .run(rec.ID, async () => {
        if (!rec.State.Restarting || rec.HasBeenManuallyStopped) return;
        rec.RestartCount++;
        await startLocked(e, rec);
        e.event(rec, 'restart');
      })
      .catch(async (err) => {
        Object.assign(rec.State, { Status: 'exited', Restarting: false });
        await e.d.store.save(rec).catch(() => undefined);
        e.d.log.warn({ id: rec.ID, err: messageOf(err) }, 'restart failed');
      });
  }, live.backoffMs);
}

/** Sends a signal to the task's init (all processes with all). */
async function signal(e: Engine, rec: ContainerRecord, sig: number, all = false): Promise<void> {
  const live = e.live(rec.ID);
  if (!live.conn) throw notRunning(rec);
  await task.kill(live.conn, rec.ID, sig, all);
}

/** POST /containers/{id}/kill. */
export async function kill(e: Engine, ref: string, sigName?: string): Promise<void> {
  const rec = e.find(ref);
  const sig = parseSignal(sigName, 'SIGKILL');
  await e.lock.run(rec.ID, async () => {
    if (!rec.State.Running) {
      if (rec.State.Restarting) {
        rec.HasBeenManuallyStopped = true;
        await cancelRestart(e, rec);
        return;
      }
      throw notRunning(rec);
    }
    const stopSig = parseSignal(rec.Config.StopSignal, 'SIGTERM');
    if (sig === 9 || sig === stopSig) {
      rec.HasBeenManuallyStopped = true;
      await e.d.store.save(rec);
    }
    if (rec.State.Paused && (sig === 9 || sig === stopSig)) await task.resume(e.live(rec.ID).conn!, rec.ID).catch(() => undefined);
    await signal(e, rec, sig);
    e.event(rec, 'kill', { signal: String(sig) });
  });
}

async function cancelRestart(e: Engine, rec: ContainerRecord): Promise<void> {
  const live = e.live(rec.ID);
  if (live.restartTimer) clearTimeout(live.restartTimer);
  live.restartTimer = undefined;
  Object.assign(rec.State, { Status: 'exited', Restarting: false });
  await e.d.store.save(rec);
}

/** Stops a running container: stop signal, wait up to t seconds, then SIGKILL. Lock held. */
export async function stopLocked(e: Engine, rec: ContainerRecord, o: { timeout?: number; signal?: string }): Promise<boolean> {
  const live = e.live(rec.ID);
  if (rec.State.Restarting) {
    rec.HasBeenManuallyStopped = true;
    await cancelRestart(e, rec);
    return true;
  }
  if (!rec.State.Running || !live.conn) return false;
  rec.HasBeenManuallyStopped = true;
  await e.d.store.save(rec);
  const sig = parseSignal(o.signal || rec.Config.StopSignal, 'SIGTERM');
  const t = o.timeout ?? rec.Config.StopTimeout ?? 10;
  if (rec.State.Paused) await task.resume(live.conn, rec.ID).catch(() => undefined);
  const exited = live.exitHandled;
  try {
    await task.kill(live.conn, rec.ID, sig);
    e.event(rec, 'kill', { signal: String(sig) });
  } catch (err) {
    if ((err as RuntimeError).kind !== 'NotFound' && (err as RuntimeError).kind !== 'FailedPrecondition') throw err;
  }
  const graceful = t < 0 ? exited.then(() => true) : Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), t * 1000))]);
  if (!(await graceful)) {
    try {
      if (live.conn) await task.kill(live.conn, rec.ID, 9, true);
      e.event(rec, 'kill', { signal: '9' });
    } catch {
      /* exited meanwhile */
    }
    await exited;
  }
  e.event(rec, 'stop');
  return true;
}

/** POST /containers/{id}/stop: 304 when it is not running. */
export async function stop(e: Engine, ref: string, o: { timeout?: number; signal?: string }): Promise<void> {
  const rec = e.find(ref);
  const did = await e.lock.run(rec.ID, () => stopLocked(e, rec, o));
  if (!did) throw new HttpError(304, 'Container already stopped');
}

/** For rm -f: kill at once and wait for the exit to be settled. Lock held. */
export async function stopForRemove(e: Engine, rec: ContainerRecord): Promise<void> {
  const live = e.live(rec.ID);
  if (rec.State.Restarting) {
    await cancelRestart(e, rec);
    return;
  }
  rec.HasBeenManuallyStopped = true;
  const exited = live.exitHandled;
  if (live.conn) {
    if (rec.State.Paused) await task.resume(live.conn, rec.ID).catch(() => undefined);
    await task.kill(live.conn, rec.ID, 9, true).catch(() => undefined);
    e.event(rec, 'kill', { signal: '9' });
  }
  await exited;
}

/** POST /containers/{id}/restart. */
export async function restart(e: Engine, ref: string, o: { timeout?: number; signal?: string }): Promise<void> {
  const rec = e.find(ref);
  await e.lock.run(rec.ID, async () => {
    await stopLocked(e, rec, o);
    await startLocked(e, rec);
    e.event(rec, 'restart');
  });
}

export async function pause(e: Engine, ref: string): Promise<void> {
  const rec = e.find(ref);
  await e.lock.run(rec.ID, async () => {
    if (!rec.State.Running) throw notRunning(rec);
    if (rec.State.Paused) throw new RuntimeError('FailedPrecondition', `Container ${rec.ID} is already paused`);
    await task.pause(e.live(rec.ID).conn!, rec.ID);
    Object.assign(rec.State, { Status: 'paused', Paused: true });
    await e.d.store.save(rec);
    e.event(rec, 'pause');
  });
}

export async function unpause(e: Engine, ref: string): Promise<void> {
  const rec = e.find(ref);
  await e.lock.run(rec.ID, async () => {
    if (!rec.State.Paused) throw new RuntimeError('FailedPrecondition', `Container ${rec.ID} is not paused`);
    await task.resume(e.live(rec.ID).conn!, rec.ID);
    Object.assign(rec.State, { Status: 'running', Paused: false });
    await e.d.store.save(rec);
    e.event(rec, 'unpause');
  });
}

/**
 * POST /containers/{id}/wait: not-running (default) answers at once for a stopped container;
 * next-exit waits for the next exit; removed waits for removal (with the last exit code).
 */
export async function wait(e: Engine, ref: string, condition: string): Promise<{ StatusCode: number; Error: null | { Message: string } }> {
  const rec = e.find(ref);
  const live = e.live(rec.ID);
  const cond = condition || 'not-running';
  if (!['not-running', 'next-exit', 'removed'].includes(cond)) throw new RuntimeError('InvalidArgument', `invalid condition: "${cond}"`);
  if (cond === 'removed') {
    let code = rec.State.ExitCode;
    const off = live.nextExit().then((x) => (code = x.code));
    void off;
    await live.whenRemoved();
    return { StatusCode: code, Error: null };
  }
  if (cond === 'not-running' && !rec.State.Running && !rec.State.Restarting) return { StatusCode: rec.State.ExitCode, Error: null };
  const x = await live.nextExit();
  return { StatusCode: x.code, Error: null };
}
