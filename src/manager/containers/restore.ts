// Daemon start-up: every container record meets what the shims and the kernel say. A task still
// running is adopted (stdio re-opened: output written while the daemon was down is still in the
// pipes; exit monitored); one that exited meanwhile is settled with its real status; one whose shim
// is gone is cleaned up and reported exited (137). Then restart policies apply, and leftovers of
// containers that no longer exist are removed.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { messageOf } from '../../errors/index';
import { JsonFileWriter, jsonFileOptions } from '../logs/jsonfile';
import { unmountDir as unmountAll } from './rootfs';
import { ProcessStreams } from '../tasks/io';
import { TaskStatus, task, type ShimConn } from '../tasks/shim';
import type { Engine } from './engine';
import { startHealth } from './health';
import { handleExit, monitor, startLocked } from './lifecycle';
import { restartOnDaemonStart } from './restart-policy';
import type { ContainerRecord } from './types';

async function adopt(e: Engine, rec: ContainerRecord, conn: ShimConn, exitedStatus?: number, exitedAt?: Date): Promise<void> {
  const live = e.live(rec.ID);
  const bundle = e.bundleDir(rec.ID);
  const tty = !!rec.Config.Tty;
  const f = (n: string) => path.join(bundle, `init-${n}`);
  const io = ProcessStreams.reopen({ stdin: rec.Config.OpenStdin ? f('stdin') : '', stdout: f('stdout'), stderr: tty ? '' : f('stderr'), terminal: tty });
  const log = rec.HostConfig.LogConfig?.Type === 'none' ? undefined : new JsonFileWriter(e.logPath(rec), jsonFileOptions(rec.HostConfig.LogConfig?.Config));
  live.io = io;
  live.log = log;
  live.conn = conn;
  live.running = true;
  live.startedAtMs = Date.parse(rec.State.StartedAt) || Date.now();
  io.startReading((stream, data) => {
    log?.write(stream, data);
    live.emit(stream, data);
  });
  live.releaseStart = async () => {
    for (const m of rec.MountPoints) if (m.Type === 'volume' && m.Name && e.d.volumes.has(m.Name)) await e.d.volumes.release(m.Name).catch(() => undefined);
    await unmountAll(e.rootfsDir(rec.ID)).catch(() => undefined);
  };
  if (exitedStatus !== undefined) {
    await handleExit(e, rec, live, exitedStatus, exitedAt ?? new Date(), false);
    return;
  }
  monitor(e, rec, live, conn);
  if (rec.Config.Healthcheck && rec.Config.Healthcheck.Test?.[0] !== 'NONE') live.stopHealth = startHealth(e, rec);
}

/** A container whose shim is gone: the runtime's force delete, then an exit like containerd's (137). */
async function lost(e: Engine, rec: ContainerRecord): Promise<void> {
  const live = e.live(rec.ID);
  live.running = true;
  live.startedAtMs = Date.parse(rec.State.StartedAt) || Date.now();
  live.releaseStart = async () => {
    await unmountAll(e.rootfsDir(rec.ID)).catch(() => undefined);
  };
  await handleExit(e, rec, live, 137, new Date(), true);
}

async function restoreOne(e: Engine, rec: ContainerRecord): Promise<'running' | 'stopped'> {
  if (rec.State.Status === 'removing') {
    await e.destroy(rec, false).catch((err) => e.d.log.warn({ id: rec.ID, err: messageOf(err) }, 'finish removal'));
    return 'stopped';
  }
  if (!rec.State.Running) {
    if (rec.State.Restarting) Object.assign(rec.State, { Status: 'exited', Restarting: false });
    return 'stopped';
  }
  let conn: ShimConn | undefined;
  if (rec.ShimAddress) conn = await e.d.shims.connect(rec.ShimAddress).catch(() => undefined);
  if (!conn) {
    await lost(e, rec);
    return 'stopped';
  }
  let st;
  try {
    st = await task.state(conn, rec.ID);
  } catch {
    await lost(e, rec);
    return 'stopped';
  }
  if (st.status === TaskStatus.STOPPED) {
    await adopt(e, rec, conn, st.exitStatus, st.exitedAt);
    return 'stopped';
  }
  rec.State.Paused = st.status === TaskStatus.PAUSED;
  rec.State.Status = rec.State.Paused ? 'paused' : 'running';
  rec.State.Pid = st.pid;
  await adopt(e, rec, conn);
  return 'running';
}

export async function restoreContainers(e: Engine): Promise<void> {
  const recs = e.d.store.all();
  await Promise.all(
    recs.map(async (rec) => {
      try {
        await e.lock.run(rec.ID, () => restoreOne(e, rec));
      } catch (err) {
        e.d.log.error({ id: rec.ID, err: messageOf(err) }, 'restore container');
      }
    }),
  );
  // Restart policies, as dockerd applies them at start-up.
  for (const rec of recs) {
    if (rec.State.Running || !e.d.store.get(rec.ID) || !restartOnDaemonStart(rec)) continue;
    await e.lock
      .run(rec.ID, () => startLocked(e, rec))
      .catch((err) => e.d.log.warn({ id: rec.ID, err: messageOf(err) }, 'restart at daemon start'));
  }
  // Bundles of containers that no longer exist (a crash between create and record).
  const dir = path.join(e.d.config.execRoot, 'containers');
  for (const id of await fs.readdir(dir).catch(() => [] as string[])) {
    if (e.d.store.get(id)) continue;
    const bundle = path.join(dir, id);
    await e.d.shims.cleanupDeadShim(id, bundle);
    await unmountAll(path.join(bundle, 'rootfs')).catch(() => undefined);
    await fs.rm(bundle, { recursive: true, force: true }).catch(() => undefined);
    e.d.log.info({ id }, 'removed the leftovers of a container without a record');
  }
  // Writable layers of containers that no longer exist.
  for (const s of await e.d.snapshotter.list()) {
    const m = /^container-([a-f0-9]{64})$/.exec(s.name);
    if (m && !e.d.store.get(m[1]!)) {
      await e.d.snapshotter.remove(s.name).catch(() => undefined);
      e.d.log.info({ snapshot: s.name }, 'removed an orphaned container layer');
    }
  }
}
