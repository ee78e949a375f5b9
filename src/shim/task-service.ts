// containerd.task.v2.Task: the 17 methods over the containers this shim serves. Owns the
// container/process table, event order (create → start → exit → delete; exec-added → exec-started
// → exit), rootfs mounts, stdio, OOM watches and metrics; the OCI operations go to a Runtime.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createCgroupManager, type CgroupManager, type OomWatch } from '../cgroups/index';
import { RuntimeError, errors, messageOf, wrap } from '../errors/index';
import type { Logger } from '../log/index';
import type { ShimSys, Sys } from '../native/index';
import { ownsPidNamespace } from '../runtime/container';
import type { EventSink } from './events';
import { decode, encode, timestamp, toAny, type AnyMsg } from './messages';
import { metricsAny } from './metrics';
import { ShimProcess } from './process';
import type { Exit, Reaper } from './reaper';
import { mountAll, unmountAll, type Mount } from './rootfs';
import type { Runtime, RuntimeOptions } from './runtime';
import { decodeStateRequest, encodeStateResponse, type StateRequest } from './state-codec';
import { ProcessIO } from './stdio';
import type { Handler } from './ttrpc-server';

const T = 'containerd.task.v2.';
type Req = Record<string, any>;

/** One container served by this shim. */
type Container = {
  id: string;
  bundle: string;
  namespace: string;
  runtime: Runtime;
  init: ShimProcess;
  execs: Map<string, ShimProcess>;
  rootfsMounted: boolean;
  cgroup?: CgroupManager;
  oom?: OomWatch;
  /** OOM kills already published as TaskOOM. */
  oomSeen: number;
  /** Settles once the cgroup manager is resolved (or failed). */
  cgroupReady?: Promise<void>;
  /** No pid namespace of its own: the init's exit kills what is left in the cgroup (runc shim ShouldKillAllOnExit). */
  killAllOnExit: boolean;
  /** linux.cgroupsPath from config.json. */
  cgroupsPath: string;
};

export type TaskServiceDeps = {
  namespace: string;
  reaper: Pick<Reaper, 'wait'>;
  sys: Pick<Sys, 'recvMsg' | 'poll'>;
  shimSys: ShimSys;
  events: EventSink;
  log: Logger;
  /** Picks the runtime for a container from its shim options. */
  runtimeFor(opts: RuntimeOptions, namespace: string, bundle: string): Runtime;
  /** Called when Shutdown finds nothing left to serve. */
  onShutdown(): void;
  /** Called whenever a container is added or removed (log fifo bookkeeping). */
  onContainersChanged?(bundles: string[]): void;
  version: string;
};

export class TaskService {
  private readonly containers = new Map<string, Container>();
  /** Runtime deletes still running after Delete answered (see delete()). */
  private readonly pendingDeletes = new Map<string, Promise<void>>();

  constructor(private readonly d: TaskServiceDeps) {}

  /** Number of containers served (Shutdown only exits at zero). */
  get size(): number {
    return this.containers.size;
  }

  /** The ttrpc method table. */
  handlers(): Record<string, Handler> {
    const h = <I, O extends object>(reqType: string, resType: string | null, fn: (r: I, ns: string) => Promise<O | void>): Handler => async (payload, ctx) => {
      const req = decode<I & Req>(T + reqType, payload);
      const ns = ctx.metadata.get('containerd-namespace-ttrpc') || this.d.namespace;
      const out = await fn(req, ns);
      return resType && out ? encode(T + resType, out) : Buffer.alloc(0);
    };
    return {
      // By hand and cached (state-codec.ts): the call containerd makes most, twice per CRI PodSandboxStatus.
      State: (payload) => this.state(decodeStateRequest(payload)),
      Create: h('CreateTaskRequest', 'CreateTaskResponse', (r: Req, ns) => this.create(r, ns)),
      Start: h('StartRequest', 'StartResponse', (r: Req) => this.start(r)),
      Delete: h('DeleteRequest', 'DeleteResponse', (r: Req) => this.delete(r)),
      Pids: h('PidsRequest', 'PidsResponse', (r: Req) => this.pids(r)),
      Pause: h('PauseRequest', null, (r: Req) => this.pause(r)),
      Resume: h('ResumeRequest', null, (r: Req) => this.resume(r)),
      Checkpoint: h('CheckpointTaskRequest', null, async () => {
        throw errors.notImplemented('checkpoint is not supported by the keel shim');
      }),
      Kill: h('KillRequest', null, (r: Req) => this.kill(r)),
      Exec: h('ExecProcessRequest', null, (r: Req) => this.exec(r)),
      ResizePty: h('ResizePtyRequest', null, async (r: Req) => this.proc(r.id, r.execId).io?.resize(r.width, r.height)),
      CloseIO: h('CloseIORequest', null, async (r: Req) => {
        if (r.stdin) this.proc(r.id, r.execId).io?.closeStdin();
      }),
      Update: h('UpdateTaskRequest', null, (r: Req) => this.update(r)),
      Wait: h('WaitRequest', 'WaitResponse', (r: Req) => this.wait(r)),
      Stats: h('StatsRequest', 'StatsResponse', (r: Req) => this.stats(r)),
      Connect: h('ConnectRequest', 'ConnectResponse', async (r: Req) => ({
        shimPid: process.pid,
        taskPid: this.containers.get(r.id)?.init.pid ?? 0,
        version: this.d.version,
      })),
      Shutdown: h('ShutdownRequest', null, async () => {
        // Like the runc shim: a shim that still serves containers ignores Shutdown.
        if (this.containers.size === 0) setImmediate(() => this.d.onShutdown());
      }),
    };
  }

  private container(id: string): Container {
    const c = this.containers.get(id);
    if (!c) throw new RuntimeError('NotFound', `container ${id}: not found`);
    return c;
  }

  private proc(id: string, execId: string): ShimProcess {
    const c = this.container(id);
    if (!execId) return c.init;
    const p = c.execs.get(execId);
    if (!p) throw new RuntimeError('NotFound', `process ${execId} does not exist`);
    return p;
  }

  /** Queues an event; the publisher delivers in queue order, so callers never wait for delivery. */
  private publish(c: Container, type: string, ev: object): Promise<void> {
    return this.d.events.publish(c.namespace, type, ev);
  }

  private changed(): void {
    this.d.onContainersChanged?.([...this.containers.values()].map((c) => c.bundle));
  }

  private async create(r: Req, ns: string): Promise<{ pid: number }> {
    if (this.containers.has(r.id)) throw new RuntimeError('AlreadyExists', `container ${r.id}: already exists`);
    await this.pendingDeletes.get(r.id);
    if (this.containers.has(r.id)) throw new RuntimeError('AlreadyExists', `container ${r.id}: already exists`);
    if (r.checkpoint) throw errors.notImplemented('restore from checkpoint is not supported');
    const log = this.d.log.child({ id: r.id });
    // Log into this bundle's fifo from the first line on (the previous owner may be gone).
    this.d.onContainersChanged?.([...[...this.containers.values()].map((x) => x.bundle), r.bundle]);
    log.debug('create request');
    const opts = runtimeOptions(r.options as AnyMsg | null);
    const runtime = this.d.runtimeFor(opts, ns, r.bundle);
    const init = new ShimProcess(r.id, '', { stdin: r.stdin, stdout: r.stdout, stderr: r.stderr, terminal: r.terminal });
    const spec = readSpec(r.bundle);
    const c: Container = {
      id: r.id,
      bundle: r.bundle,
      namespace: ns,
      runtime,
      init,
      execs: new Map(),
      rootfsMounted: false,
      oomSeen: 0,
      killAllOnExit: spec !== undefined && !ownsPidNamespace(spec),
      cgroupsPath: spec?.linux?.cgroupsPath ?? '',
    };
    // Reserve the id before the first await so a concurrent Create of the same id fails.
    this.containers.set(r.id, c);
    const rootfs = path.join(r.bundle, 'rootfs');
    try {
      const mounts = (r.rootfs as Mount[]) ?? [];
      if (mounts.length > 0) {
        mountAll(this.d.shimSys, mounts, rootfs);
        c.rootfsMounted = true;
      }
      init.pid = await this.launch(init, (io) => runtime.create({ id: r.id, bundle: r.bundle, pidFile: path.join(r.bundle, 'init.pid'), io }));
    } catch (e) {
      this.containers.delete(r.id);
      if (c.rootfsMounted) unmountAll(this.d.shimSys, rootfs);
      init.io?.close();
      throw e;
    }
    this.watchExit(c, init);
    this.changed();
    log.info({ pid: init.pid, runtime: runtime.name }, 'created');
    void this.publish(c, 'TaskCreate', {
      containerId: r.id,
      bundle: r.bundle,
      rootfs: r.rootfs,
      io: { stdin: r.stdin, stdout: r.stdout, stderr: r.stderr, terminal: r.terminal },
      checkpoint: r.checkpoint,
      pid: init.pid,
    });
    c.cgroupReady = this.watchCgroup(c);
    return { pid: init.pid };
  }

  /** Launches run one at a time (see launchOne). */
  private launchChain: Promise<unknown> = Promise.resolve();

  /**
   * One launch at a time: an in-process clone copies every fd of the shim, and a container init
   * keeps those copies until its start (they are close-on-exec). Were another process's fifos open
   * at that moment, that init would hold their write ends and containerd would never see EOF.
   */
  private launch(p: ShimProcess, run: (io: { fds: [number, number, number]; consoleSocket?: string }) => Promise<number>): Promise<number> {
    const next = this.launchChain.then(() => this.launchOne(p, run));
    this.launchChain = next.catch(() => undefined);
    return next;
  }

  /** Opens stdio (or a console socket), runs the runtime call, then drops our copies of the fds. */
  private async launchOne(p: ShimProcess, run: (io: { fds: [number, number, number]; consoleSocket?: string }) => Promise<number>): Promise<number> {
    const io = ProcessIO.open(this.d.shimSys, p.stdio);
    p.io = io;
    let console: { dir: string; path: string; fd: number } | undefined;
    try {
      if (p.stdio.terminal) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-shim-pty-'));
        const sock = path.join(dir, 'pty.sock');
        console = { dir, path: sock, fd: this.d.shimSys.unixListen(sock, 1) };
      }
      const pid = await run({ fds: io.childFds, consoleSocket: console?.path });
      if (console) {
        // runc sent the master before create/exec exited, so the connection is already queued.
        const conn = this.d.shimSys.accept(console.fd);
        if (conn < 0) throw errors.internal('console socket: the runtime sent no terminal');
        try {
          const { fd } = this.d.sys.recvMsg(conn, 4096, 5000);
          if (fd < 0) throw errors.internal('console socket: no fd received');
          io.attachConsole(fd);
        } finally {
          fs.closeSync(conn);
        }
      }
      return pid;
    } finally {
      io.released();
      if (console) {
        fs.closeSync(console.fd);
        fs.rmSync(console.dir, { recursive: true, force: true });
      }
    }
  }

  /** Routes the reaper's exit of p to its state, then TaskExit (after TaskStart went out). */
  private watchExit(c: Container, p: ShimProcess): void {
    void this.d.reaper.wait(p.pid).then(async (e: Exit) => {
      if (p === c.init && c.init.stateName !== 'stopped') {
        // The init's death ends every exec in its pid namespace; record theirs if the reaper missed them.
        for (const x of c.execs.values()) if (!x.pid) x.setExited(e);
      }
      await p.startPublished;
      if (p === c.init && c.killAllOnExit) {
        // Its children would outlive it in the shared pid namespace (runc shim: KillAll on init exit).
        await c.runtime.kill(c.id, 9, true).catch((err) => this.d.log.warn({ id: c.id, err: messageOf(err) }, 'kill remaining processes'));
      }
      // An OOM kill is reported before the exit it caused: the poll may not have run yet. The
      // OOM killer sends SIGKILL, so other exits skip the cgroup read.
      if (p === c.init && c.cgroupReady && e.status === 137) {
        await c.cgroupReady;
        const n = await c.cgroup?.oomKillCount().catch(() => undefined);
        if (n !== undefined) this.noteOom(c, n);
      }
      await p.io?.drained(this.d.sys);
      p.setExited(e);
      this.d.log.info({ id: c.id, execId: p.execId || undefined, pid: p.pid, status: e.status }, 'exited');
      void this.publish(c, 'TaskExit', { containerId: c.id, id: p.execId || c.id, pid: p.pid, exitStatus: e.status, exitedAt: timestamp(e.exitedAt) });
    });
  }

  /**
   * The cgroup for stats and OOM events. The in-process runtime hands over the one it made, so
   * this costs one counter read inside Create; with a runtime binary the host layout is read,
   * after the reply.
   */
  private watchCgroup(c: Container): Promise<void> {
    let known: CgroupManager | undefined;
    try {
      known = c.runtime.cgroupOf?.(c.id);
    } catch (e) {
      this.d.log.debug({ id: c.id, err: messageOf(e) }, 'cgroup from the runtime');
    }
    if (!known) return this.resolveCgroup(c);
    c.cgroup = known;
    c.oom = known.watchOom((count) => this.noteOom(c, count), 1000);
    return Promise.resolve();
  }

  private async resolveCgroup(c: Container): Promise<void> {
    try {
      c.cgroup = await createCgroupManager({ id: c.id, cgroupsPath: c.cgroupsPath });
      c.oom = c.cgroup.watchOom((count) => this.noteOom(c, count), 1000);
    } catch (e) {
      this.d.log.warn({ id: c.id, err: messageOf(e) }, 'cgroup: no stats or oom events');
    }
  }

  /** Publishes TaskOOM once per new OOM kill count. */
  private noteOom(c: Container, count: number): void {
    if (count <= c.oomSeen) return;
    c.oomSeen = count;
    this.d.log.info({ id: c.id, count }, 'oom');
    void this.publish(c, 'TaskOOM', { containerId: c.id });
  }

  private async start(r: Req): Promise<{ pid: number }> {
    const c = this.container(r.id);
    const p = this.proc(r.id, r.execId);
    p.check('start');
    let release!: () => void;
    p.startPublished = new Promise((res) => (release = res));
    try {
      if (p === c.init) {
        await c.runtime.start(c.id);
        p.apply('start');
        p.io?.started();
        this.d.log.info({ id: c.id, pid: p.pid }, 'started');
        void this.publish(c, 'TaskStart', { containerId: c.id, pid: p.pid });
      } else {
        c.init.check('exec');
        const pid = await this.launch(p, (io) =>
          c.runtime.exec({ id: c.id, execId: p.execId, processJson: p.processJson, pidFile: path.join(c.bundle, `${p.execId}.pid`), io }),
        );
        p.pid = pid;
        p.apply('start');
        p.io?.started();
        this.watchExit(c, p);
        void this.publish(c, 'TaskExecStarted', { containerId: c.id, execId: p.execId, pid });
      }
    } catch (e) {
      if (p !== c.init) p.io?.close();
      throw e;
    } finally {
      release();
    }
    return { pid: p.pid };
  }

  private async delete(r: Req): Promise<object> {
    const c = this.container(r.id);
    const p = this.proc(r.id, r.execId);
    p.check('delete');
    if (p !== c.init) {
      p.apply('delete');
      p.io?.close();
      c.execs.delete(p.execId);
      return { pid: p.pid, exitStatus: p.exit?.status ?? 0, exitedAt: timestamp(p.exit?.exitedAt ?? new Date()) };
    }
    if (c.execs.size > 0 && [...c.execs.values()].some((x) => x.stateName === 'running')) throw errors.precondition('cannot delete a container with running execs');
    if (p.stateName === 'created') {
      // The init is alive (blocked before exec): it must be gone before we answer.
      try {
        await c.runtime.delete(c.id, true);
      } catch (e) {
        throw wrap(e, `delete ${c.id}`);
      }
    } else {
      // Stopped: what is left is runtime state, the cgroup and poststop hooks. They are removed
      // after the answer, off containerd's critical path; a Create of the same id waits for it,
      // and so does the daemon's exit.
      const id = c.id;
      const done = c.runtime
        .delete(id, false)
        .catch((e) => this.d.log.warn({ id, err: messageOf(e) }, 'runtime delete'))
        .finally(() => this.pendingDeletes.delete(id));
      this.pendingDeletes.set(id, done);
    }
    p.apply('delete');
    c.oom?.close();
    p.io?.close();
    for (const x of c.execs.values()) x.io?.close();
    if (c.rootfsMounted) unmountAll(this.d.shimSys, path.join(c.bundle, 'rootfs'));
    this.containers.delete(c.id);
    this.changed();
    const exit = p.exit ?? { status: 137, exitedAt: new Date(), pid: p.pid };
    const resp = { pid: p.pid, exitStatus: exit.status, exitedAt: timestamp(exit.exitedAt) };
    // containerd runs the shim binary's `delete` after every task; the launcher answers it from
    // this file without starting Node (cmd/shim/containerd-shim-keel-v2.sh).
    try {
      const f = deleteResponseFormat(encode(T + 'DeleteResponse', withoutZeros(resp)));
      if (f !== undefined) fs.writeFileSync(path.join(c.bundle, 'keel-delete-response'), f);
    } catch (e) {
      this.d.log.warn({ id: c.id, err: messageOf(e) }, 'write delete response');
    }
    void this.publish(c, 'TaskDelete', { containerId: c.id, pid: p.pid, exitStatus: exit.status, exitedAt: timestamp(exit.exitedAt), id: c.id });
    this.d.log.info({ id: c.id }, 'deleted');
    return resp;
  }

  /** Encoded StateResponse per process, reused while its pid, status and exit are unchanged. */
  private readonly stateCache = new WeakMap<ShimProcess, { pid: number; status: number; exit: Exit | undefined; bytes: Buffer }>();

  private state(r: StateRequest): Buffer {
    const c = this.container(r.id);
    const p = this.proc(r.id, r.execId);
    const hit = this.stateCache.get(p);
    if (hit && hit.pid === p.pid && hit.status === p.status && hit.exit === p.exit) return hit.bytes;
    const bytes = encodeStateResponse({
      id: p.execId || c.id,
      bundle: c.bundle,
      pid: p.pid,
      status: p.status,
      stdin: p.stdio.stdin,
      stdout: p.stdio.stdout,
      stderr: p.stdio.stderr,
      terminal: p.stdio.terminal,
      exitStatus: p.exit?.status ?? 0,
      exitedAt: p.exit?.exitedAt,
      execId: p.execId,
    });
    this.stateCache.set(p, { pid: p.pid, status: p.status, exit: p.exit, bytes });
    return bytes;
  }

  private async pids(r: Req): Promise<object> {
    const c = this.container(r.id);
    const pids = await c.runtime.ps(c.id);
    const byPid = new Map([...c.execs.values()].map((x) => [x.pid, x.execId] as const));
    return {
      processes: pids.map((pid) => {
        const execId = byPid.get(pid);
        return execId ? { pid, info: toAny('containerd.runc.v1.ProcessDetails', { execId }) } : { pid };
      }),
    };
  }

  private async pause(r: Req): Promise<void> {
    const c = this.container(r.id);
    c.init.check('pause');
    await c.runtime.pause(c.id);
    c.init.apply('pause');
    void this.publish(c, 'TaskPaused', { containerId: c.id });
  }

  private async resume(r: Req): Promise<void> {
    const c = this.container(r.id);
    c.init.check('resume');
    await c.runtime.resume(c.id);
    c.init.apply('resume');
    void this.publish(c, 'TaskResumed', { containerId: c.id });
  }

  private async kill(r: Req): Promise<void> {
    const c = this.container(r.id);
    const p = this.proc(r.id, r.execId);
    if (p === c.init) {
      // runc kill --all still works on a stopped init when other processes are left (shared pid ns).
      if (!r.all) p.check('kill');
      try {
        await c.runtime.kill(c.id, r.signal, r.all);
      } catch (e) {
        // The init died and its exit is still being processed (output draining): containerd's
        // runc shim maps these runtime errors to NotFound too (checkKillError), which CRI's
        // StopContainer treats as "already stopped".
        if (/container not running|process already finished|no such process/.test(messageOf(e))) throw new RuntimeError('NotFound', 'process already finished');
        throw e;
      }
      return;
    }
    p.check('kill');
    try {
      process.kill(p.pid, r.signal);
    } catch (e) {
      throw new RuntimeError('NotFound', `process already finished: ${messageOf(e)}`);
    }
  }

  private async exec(r: Req): Promise<void> {
    const c = this.container(r.id);
    c.init.check('exec');
    if (c.execs.has(r.execId)) throw new RuntimeError('AlreadyExists', `id ${r.execId}: already exists`);
    const spec = r.spec as AnyMsg | null;
    const json = spec ? Buffer.from(spec.value).toString() : '{}';
    const p = new ShimProcess(c.id, r.execId, { stdin: r.stdin, stdout: r.stdout, stderr: r.stderr, terminal: r.terminal }, json);
    c.execs.set(r.execId, p);
    void this.publish(c, 'TaskExecAdded', { containerId: c.id, execId: r.execId });
  }

  private async update(r: Req): Promise<void> {
    const c = this.container(r.id);
    const res = r.resources as AnyMsg | null;
    await c.runtime.update(c.id, res ? Buffer.from(res.value).toString() : '{}');
  }

  private async wait(r: Req): Promise<object> {
    const p = this.proc(r.id, r.execId);
    const e = await p.exited;
    return { exitStatus: e.status, exitedAt: timestamp(e.exitedAt) };
  }

  private async stats(r: Req): Promise<object> {
    const c = this.container(r.id);
    // The manager is resolved in the background after Create answered (watchCgroup).
    await c.cgroupReady;
    if (!c.cgroup) throw errors.precondition(`container ${c.id}: no cgroup to read stats from`);
    const [s, oom] = await Promise.all([c.cgroup.stats(), c.cgroup.oomKillCount().catch(() => undefined)]);
    return { stats: metricsAny(c.cgroup.version, s, oom) };
  }

  /** Resolves when every deferred runtime delete has finished. */
  async drain(): Promise<void> {
    await Promise.all([...this.pendingDeletes.values()]);
  }

  /** Called when the daemon exits: stops watches. */
  close(): void {
    for (const c of this.containers.values()) c.oom?.close();
  }
}

type BundleSpec = { linux?: { cgroupsPath?: string; namespaces?: { type: string; path?: string }[] } };

/** The parts of <bundle>/config.json the shim itself needs (the runtime validates the whole). */
function readSpec(bundle: string): BundleSpec | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')) as BundleSpec;
  } catch {
    return undefined;
  }
}

/** BinaryName / Root / SystemdCgroup from a containerd.runc.v1.Options Any (other types ignored). */
export function runtimeOptions(any: AnyMsg | null | undefined): RuntimeOptions {
  if (!any || !any.value || any.value.length === 0) return {};
  if (!/containerd\.runc\.v1\.Options$|runctypes\.RuncOptions$/.test(any.type_url)) return {};
  try {
    const o = decode<{ binaryName: string; root: string; systemdCgroup: boolean }>('containerd.runc.v1.Options', any.value);
    return { binaryName: o.binaryName || undefined, root: o.root || undefined, systemdCgroup: o.systemdCgroup };
  } catch {
    return {};
  }
}

/** A message with its zero scalars and empty messages left out (proto3 reads absent as zero). */
function withoutZeros<M extends object>(m: M): M {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) {
    if (v === 0 || v === undefined || v === null) continue;
    if (typeof v !== 'object' || v instanceof Uint8Array) out[k] = v;
    else {
      const inner = withoutZeros(v as object);
      if (Object.keys(inner).length > 0) out[k] = inner; // an empty one would be a 0 length byte
    }
  }
  return out as M;
}

/**
 * The launcher's copy of a DeleteResponse: a printf(1) format whose every byte is an octal escape,
 * on one line, so that sh prints it with builtins. Undefined for bytes a format cannot carry (a
 * NUL: written without zero fields, a DeleteResponse has none): the launcher then asks the Node
 * program.
 */
export function deleteResponseFormat(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return undefined;
  let out = '';
  for (const b of bytes) out += '\\' + b.toString(8).padStart(3, '0');
  return `${out}\n`;
}
