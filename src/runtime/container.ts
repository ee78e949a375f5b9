// Container lifecycle: create, start, state, list, kill, delete over the state store, with runc's
// status rules and wording. It sequences steps and rollback; the clone itself is launch.ts's job,
// the bundle checks are src/oci's, and it never prints or exits.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntimeError, wrap } from '../errors/index';
import type { Logger } from '../log/index';
import type { Sys } from '../native/index';
import { writeFileAtomic } from '../util/atomic-write';
import { asCgroupResources, cgroupManagerOf, isFrozenSync } from './cgroups';
import { runHooks } from './hooks';
import { isAlive, readProcStat, waitUntil } from './proc';
import { execFifoName, StateStore, type StateRecord } from './state';
import { checkTransition, type Status } from './status';
import { unmountUnder } from './shared-mounts';

export type RuntimeConfig = {
  root: string;
  sys: Sys;
  log: Logger;
  systemdCgroup: boolean;
  rootless: boolean;
};

/** The OCI state as runc prints it (runtime-spec runtime.md "State", plus runc's owner). */
export type OciState = {
  ociVersion: string;
  id: string;
  pid: number;
  status: Status;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
  owner: string;
};

/** Writes a pid file as runc does: bare decimal, no newline, atomically (go-runc Atoi's it). */
export function writePidFile(file: string, pid: number): void {
  writeFileAtomic(path.resolve(file), String(pid), 0o644);
}

/** uid → user name from /etc/passwd (no NSS: the runtime must not load libraries for this). */
function userName(uid: number): string {
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 2 && Number(f[2]) === uid) return f[0]!;
    }
  } catch {
    /* no passwd file: fall back to the number */
  }
  return `#${uid}`;
}

export class ContainerRuntime {
  readonly store: StateStore;

  constructor(readonly cfg: RuntimeConfig) {
    this.store = new StateStore(cfg.root, cfg.sys);
  }

  /** Derives the status from the kernel, as runc's refreshState does (never trusts the record). */
  status(rec: StateRecord): Status {
    if (!isAlive(rec.pid, rec.pidStart)) return 'stopped';
    if (isFrozenSync(rec.cgroupPaths)) return 'paused';
    if (fs.existsSync(path.join(this.store.dir(rec.id), execFifoName))) return 'created';
    return 'running';
  }

  private ociState(rec: StateRecord, status: Status, owner: string): OciState {
    const st: OciState = {
      ociVersion: rec.ociVersion,
      id: rec.id,
      pid: status === 'stopped' ? 0 : rec.pid,
      status,
      bundle: rec.bundle,
      rootfs: rec.rootfs,
      created: rec.created,
      owner,
    };
    if (rec.annotations && Object.keys(rec.annotations).length > 0) st.annotations = rec.annotations;
    return st;
  }

  /** `state ID`: the OCI state, owner empty as runc prints it. */
  state(id: string): OciState {
    const rec = this.store.read(id);
    return this.ociState(rec, this.status(rec), '');
  }

  /** `list`: every container's state with its owner filled in. */
  list(): OciState[] {
    const out: OciState[] = [];
    for (const id of this.store.list()) {
      let rec: StateRecord;
      try {
        rec = this.store.read(id);
      } catch {
        continue; // removed while listing
      }
      out.push(this.ociState(rec, this.status(rec), userName(rec.ownerUid)));
    }
    return out;
  }

  /** The state JSON hooks receive on stdin. */
  hookState(rec: StateRecord, status: Status): string {
    return JSON.stringify(this.ociState(rec, status, ''));
  }

  /** `start`: releases the init from the exec fifo, then runs poststart hooks. */
  start(id: string): void {
    const log = this.cfg.log.child({ id });
    const unlock = this.store.lock(id);
    try {
      const rec = this.store.read(id);
      checkTransition('start', this.status(rec), id);
      const fifo = path.join(this.store.dir(id), execFifoName);
      this.releaseFifo(rec, fifo);
      if ((rec.config.hooks?.startContainer?.length ?? 0) > 0) {
        // The init waits for a second byte (plan fifoHold): run the hooks in its namespaces and
        // root, then release it, or send nothing so that it exits without running the process.
        let failure: unknown;
        try {
          runHooks('startContainer', rec.config.hooks, this.hookState(rec, 'created'), log, false, { pid: rec.pid, containerRoot: true });
        } catch (e) {
          failure = e;
        }
        this.sendFifoByte(rec, fifo, failure === undefined);
        if (failure !== undefined) throw failure;
      }
      fs.rmSync(fifo, { force: true });
      log.debug({ pid: rec.pid }, 'container started');
      runHooks('poststart', rec.config.hooks, this.hookState(rec, 'running'), log);
    } finally {
      unlock();
    }
  }

  /**
   * Opens the exec fifo for reading and waits for the init's byte. Non-blocking reads are polled
   * together with the init's liveness, so a dead init gives an error instead of a hang.
   */
  private releaseFifo(rec: StateRecord, fifo: string): void {
    const fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      const buf = Buffer.alloc(1);
      let got = 0;
      const read = () => {
        try {
          got = fs.readSync(fd, buf, 0, 1, null);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        }
      };
      const ok = waitUntil(() => {
        read();
        if (got > 0) return true;
        if (isAlive(rec.pid, rec.pidStart)) return false;
        // A quick process may write its byte, exec and exit between our read and this check:
        // the byte is still in the fifo, so read once more before calling the init dead.
        read();
        return true;
      }, 30_000, 1);
      if (got === 0) {
        throw new RuntimeError('FailedPrecondition', ok ? 'cannot start a container that has stopped' : 'start: timed out waiting for the container init');
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * Second phase of the exec fifo: opens it for writing once the init waits on the read side
   * (ENXIO until then) and writes "1" to let it exec, or nothing to make it give up.
   */
  private sendFifoByte(rec: StateRecord, fifo: string, go: boolean): void {
    let fd = -1;
    waitUntil(() => {
      try {
        fd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENXIO') throw e;
        return !isAlive(rec.pid, rec.pidStart);
      }
    }, 30_000, 1);
    if (fd < 0) return;
    try {
      if (go) fs.writeSync(fd, '1');
    } finally {
      fs.closeSync(fd);
    }
  }

  /** `kill ID SIGNAL`: signals the init or, with all, every process in the container's cgroup. */
  async kill(id: string, signal: number, all = false): Promise<void> {
    const rec = this.store.read(id);
    // --all still signals what is left in the cgroup after the init stopped (runc Signal: a
    // container sharing a pid namespace leaves its children behind).
    const status = this.status(rec);
    if (!(all && status === 'stopped')) checkTransition('kill', status, id);
    const cg = cgroupManagerOf(rec);
    if (all && cg) {
      await cg.killAll(signal);
      return;
    }
    try {
      process.kill(rec.pid, signal);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') throw new RuntimeError('NotFound', 'container not running');
      throw wrap(e, `kill container ${id}`);
    }
  }

  /** `pause`: freezes every process of the container. */
  async pause(id: string): Promise<void> {
    const rec = this.store.read(id);
    checkTransition('pause', this.status(rec), id);
    const cg = cgroupManagerOf(rec);
    if (!cg) throw new RuntimeError('FailedPrecondition', 'cannot pause a container without a cgroup');
    await cg.freeze();
  }

  /** `resume`: thaws a paused container. */
  async resume(id: string): Promise<void> {
    const rec = this.store.read(id);
    checkTransition('resume', this.status(rec), id);
    await cgroupManagerOf(rec)!.thaw();
  }

  /** `update`: applies new limits to the live cgroup and records them in the stored config. */
  async update(id: string, resources: Record<string, unknown>): Promise<void> {
    const unlock = this.store.lock(id);
    try {
      const rec = this.store.read(id);
      if (this.status(rec) === 'stopped') throw new RuntimeError('FailedPrecondition', 'container not running');
      const cg = cgroupManagerOf(rec);
      if (!cg) throw new RuntimeError('FailedPrecondition', `container ${id} has no cgroup to update`);
      const r = resources as NonNullable<NonNullable<StateRecord['config']['linux']>['resources']>;
      await cg.update(asCgroupResources(r));
      const linux = (rec.config.linux ??= {});
      linux.resources = mergeResources(linux.resources ?? {}, r);
      this.store.write(rec);
    } finally {
      unlock();
    }
  }

  /** Resource usage in runc's events stats shape. */
  async stats(id: string): Promise<unknown> {
    const rec = this.store.read(id);
    if (this.status(rec) === 'stopped') throw new RuntimeError('FailedPrecondition', 'container not running');
    const cg = cgroupManagerOf(rec);
    if (!cg) throw new RuntimeError('FailedPrecondition', `container ${id} has no cgroup`);
    return cg.stats();
  }

  /**
   * `events`: a stats event every intervalMs and an oom event whenever the OOM killer strikes,
   * until the container stops.
   */
  async events(id: string, intervalMs: number, emit: (ev: unknown) => void): Promise<void> {
    const rec = this.store.read(id);
    const cg = cgroupManagerOf(rec);
    if (!cg) throw new RuntimeError('FailedPrecondition', `container ${id} has no cgroup`);
    const watch = cg.watchOom(() => emit({ type: 'oom', id }));
    try {
      while (this.status(rec) !== 'stopped') {
        emit({ type: 'stats', id, data: await cg.stats() });
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    } finally {
      watch.close();
    }
  }

  /** Host pids of every process of the container (from its cgroup; the init alone without one). */
  async pids(id: string): Promise<number[]> {
    const rec = this.store.read(id);
    const status = this.status(rec);
    if (status === 'stopped') return [];
    const cg = cgroupManagerOf(rec);
    return cg ? cg.pids() : [rec.pid];
  }

  /** Sends SIGKILL to pid and waits (bounded) until it is gone. */
  killAndWait(pid: number): void {
    const start = readProcStat(pid)?.startTime ?? -1;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    waitUntil(() => !isAlive(pid, start), 10_000);
  }

  /**
   * `delete` of a container directory without state.json: a create that died half-way (SIGKILL) or
   * is still running. Waits for the create's lock; if the create finished meanwhile, returns false
   * (delete it normally). Otherwise kills whatever its recorded cgroups hold, removes them and the
   * directory, and returns true. A directory that is gone already counts as removed.
   */
  async deleteIncomplete(id: string): Promise<boolean> {
    let unlock: () => void;
    try {
      unlock = this.store.lock(id);
    } catch (e) {
      if (e instanceof RuntimeError && e.kind === 'NotFound') return true;
      throw e;
    }
    try {
      if (this.store.exists(id)) return false;
      const pending = this.store.readPending(id);
      const paths = pending?.cgroupPaths ?? {};
      const cg = Object.keys(paths).length > 0 ? cgroupManagerOf({ cgroupPaths: paths, rootless: pending?.rootless ?? false } as StateRecord) : undefined;
      if (cg && Object.values(paths).some((p) => fs.existsSync(p))) {
        // The init dies with its create (parent-death signal, EOF on its socket); a grandchild
        // after a pid-namespace fork may still be on its way out.
        await cg.killAll('SIGKILL').catch((e: Error) => this.cfg.log.debug({ id, err: e.message }, 'kill half-created container'));
        await cg.destroy();
        this.cfg.log.debug({ id }, 'cgroups of a half-created container removed');
      }
    } finally {
      unlock();
    }
    this.store.remove(id);
    return true;
  }

  /** `delete [--force] ID`: stops what is left, runs poststop hooks, removes cgroups and state. */
  async delete(id: string, force = false): Promise<void> {
    const log = this.cfg.log.child({ id });
    const rec = this.store.read(id);
    const unlock = this.store.lock(id);
    // A cgroup that cannot be removed (a process put there from outside keeps it busy) is reported
    // once the rest is done: the container is gone either way, as with runc's Destroy.
    let cgroupError: unknown;
    try {
      const status = this.status(rec);
      checkTransition('delete', status, id, { force });
      const cg = cgroupManagerOf(rec);
      if (status === 'paused' && cg) await cg.thaw();
      if (status !== 'stopped') {
        if (cg) await cg.killAll('SIGKILL');
        this.killAndWait(rec.pid);
      } else if (cg && !ownsPidNamespace(rec.config)) {
        // The init's death did not end its children (runc destroy: signalAllProcesses).
        await cg.killAll('SIGKILL');
      }
      if (cg) {
        try {
          await cg.destroy();
          log.debug('cgroup removed');
        } catch (e) {
          cgroupError = e;
        }
      }
      if (rec.sharedMounts) log.debug({ mounts: unmountUnder(this.cfg.sys, rec.rootfs, rec.sharedMounts) }, 'container mounts detached');
      runHooks('poststop', rec.config.hooks, this.hookState(rec, 'stopped'), log, true);
    } finally {
      unlock();
    }
    this.store.remove(id);
    if (cgroupError !== undefined) throw cgroupError;
  }
}

/** Shallow-merges an update into recorded resources, one level down (memory, cpu, pids...). */
function mergeResources<T extends object>(old: T, upd: T): T {
  const out: Record<string, unknown> = { ...(old as Record<string, unknown>) };
  for (const [k, v] of Object.entries(upd as Record<string, unknown>)) {
    const prev = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' ? { ...prev, ...v } : v;
  }
  return out as T;
}

/** Whether the container has a pid namespace of its own, whose init's death kills every process in it. */
export function ownsPidNamespace(spec: { linux?: { namespaces?: { type: string; path?: string }[] } }): boolean {
  return (spec.linux?.namespaces ?? []).some((ns) => ns.type === 'pid' && !ns.path);
}

/** The /proc/<pid>/ns/ file name of an OCI namespace type. */
export function nsProcName(type: string): string {
  const names: Record<string, string> = { pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup', time: 'time' };
  return names[type] ?? type;
}
