// Drives keel's shim over ttrpc, the way containerd's runtime v2 does: `containerd-shim-keel-v2
// start` finds or launches the shim daemon serving dock's namespace and prints its address; the
// containerd.task.v2.Task methods go over one connection per address. Also serves the events
// endpoint the shim publishes to (TaskOOM and friends). Knows tasks, not containers.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { RuntimeError, type ErrorKind } from '../../errors/index';
import type { Logger } from '../../log/index';
import { decode, encode, type AnyMsg } from '../../shim/messages';
import { TtrpcClient, TtrpcError } from '../../shim/ttrpc-client';
import { TtrpcServer } from '../../shim/ttrpc-server';

const T = 'containerd.task.v2.';
const SVC = 'containerd.task.v2.Task';

/** containerd's task status numbers. */
export const TaskStatus = { UNKNOWN: 0, CREATED: 1, RUNNING: 2, STOPPED: 3, PAUSED: 4, PAUSING: 5 } as const;

export type RootfsMount = { type: string; source: string; options: string[] };

export type TaskIO = { stdin: string; stdout: string; stderr: string; terminal: boolean };

export type TaskState = { pid: number; status: number; exitStatus: number; exitedAt?: Date };

export type Exit = { status: number; exitedAt: Date };

const codeKinds: Record<number, ErrorKind> = { 3: 'InvalidArgument', 5: 'NotFound', 6: 'AlreadyExists', 7: 'PermissionDenied', 9: 'FailedPrecondition', 12: 'NotImplemented', 14: 'Unavailable' };

/** A ttrpc error as a RuntimeError of the matching kind (the shim's message kept). */
function asRuntimeError(e: unknown): unknown {
  if (e instanceof TtrpcError) return new RuntimeError(codeKinds[e.code] ?? 'Internal', e.message);
  return e;
}

function tsDate(t: { seconds?: number; nanos?: number } | null | undefined): Date | undefined {
  if (!t || !t.seconds) return undefined;
  return new Date(t.seconds * 1000 + Math.floor((t.nanos ?? 0) / 1e6));
}

export type ShimOptions = {
  /** The containerd-shim-keel-v2 launcher. */
  binary: string;
  /** The shim namespace (one per daemon). */
  namespace: string;
  /** Sockets, runtime state and the events socket live here. */
  stateDir: string;
  log: Logger;
  /** Extra environment for the shim (KEEL_SHIM_BINARY to run a CLI runtime, tests). */
  env?: Record<string, string>;
};

export type TaskEvent = { topic: string; type: string; event: Record<string, unknown> };

/** One shim daemon, reached at address. */
export class ShimConn {
  private closedHandlers: (() => void)[] = [];
  closed = false;
  constructor(readonly address: string, private readonly client: TtrpcClient, sock: net.Socket) {
    sock.on('close', () => {
      this.closed = true;
      for (const h of this.closedHandlers.splice(0)) h();
    });
  }
  onClose(h: () => void): void {
    this.closedHandlers.push(h);
  }
  async call<T = Record<string, unknown>>(method: string, reqType: string, resType: string | null, req: object): Promise<T> {
    try {
      const out = await this.client.call(SVC, method, encode(T + reqType, req));
      return (resType ? decode<T>(T + resType, out) : undefined) as T;
    } catch (e) {
      throw asRuntimeError(e);
    }
  }
  close(): void {
    this.client.close();
  }
}

export class ShimManager {
  private readonly conns = new Map<string, Promise<ShimConn>>();
  private events: { server: TtrpcServer; listener: net.Server } | undefined;
  private readonly eventHandlers: ((e: TaskEvent) => void)[] = [];

  constructor(private readonly o: ShimOptions) {}

  get socketDir(): string {
    return path.join(this.o.stateDir, 's');
  }
  get runtimeRoot(): string {
    return path.join(this.o.stateDir, 'runtime');
  }
  get eventsAddress(): string {
    return path.join(this.o.stateDir, 'events.sock');
  }

  private env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      KEEL_SHIM_SOCKET_DIR: this.socketDir,
      KEEL_SHIM_ROOT: this.runtimeRoot,
      KEEL_SHIM_IDLE_MS: '0',
      TTRPC_ADDRESS: this.eventsAddress,
      ...(this.o.env ?? {}),
    };
  }

  /** Serves the events endpoint the shim forwards TaskExit, TaskOOM… to. */
  async serveEvents(onEvent: (e: TaskEvent) => void): Promise<void> {
    this.eventHandlers.push(onEvent);
    if (this.events) return;
    fs.mkdirSync(this.o.stateDir, { recursive: true, mode: 0o711 });
    fs.rmSync(this.eventsAddress, { force: true });
    const server = new TtrpcServer(this.o.log);
    server.register('containerd.services.events.ttrpc.v1.Events', {
      Forward: async (payload) => {
        const r = decode<{ envelope?: { topic: string; event?: AnyMsg } }>('containerd.events.ForwardRequest', payload);
        const env = r.envelope;
        if (env?.event) {
          const type = env.event.type_url.replace(/^.*\./, '');
          let event: Record<string, unknown> = {};
          try {
            event = decode(env.event.type_url, env.event.value);
          } catch {
            /* an event type we do not know */
          }
          for (const h of this.eventHandlers) h({ topic: env.topic, type, event });
        }
        return Buffer.alloc(0);
      },
    });
    const listener = net.createServer();
    server.serve(listener);
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(this.eventsAddress, () => resolve());
    });
    fs.chmodSync(this.eventsAddress, 0o600);
    this.events = { server, listener };
  }

  /**
   * The address of the shim serving a new task: the one already connected (every dock task is in
   * one group, the namespace), else what `shim start` says. Saves a process per container start.
   */
  async addressFor(id: string, bundle: string): Promise<string> {
    for (const [a, p] of this.conns) {
      const c = await p.catch(() => undefined);
      if (c && !c.closed) return a;
    }
    return this.startShim(id, bundle);
  }

  /** `shim start` for a bundle: the address of the daemon serving it (launched if needed). */
  startShim(id: string, bundle: string): Promise<string> {
    const argv = ['-namespace', this.o.namespace, '-address', path.join(this.o.stateDir, 'dock.sock'), '-publish-binary', '', '-id', id, '-bundle', bundle, 'start'];
    return new Promise((resolve, reject) => {
      const child = spawn(this.o.binary, argv, { cwd: bundle, env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', (e) => reject(new RuntimeError('Internal', `start shim ${this.o.binary}: ${e.message}`)));
      child.on('close', (code) => {
        const addr = Buffer.concat(out).toString().trim();
        if (code === 0 && addr) resolve(addr);
        else reject(new RuntimeError('Internal', `start shim: ${Buffer.concat(err).toString().trim() || `exit status ${code}`}`));
      });
    });
  }

  /** The connection to the shim at address (made once, made again after it closed). */
  connect(address: string): Promise<ShimConn> {
    let p = this.conns.get(address);
    if (!p) {
      p = (async () => {
        const sockPath = address.replace(/^unix:\/\//, '');
        const sock = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect(sockPath);
          s.once('error', reject);
          s.once('connect', () => {
            s.off('error', reject);
            resolve(s);
          });
        });
        sock.on('error', () => undefined);
        const conn = new ShimConn(address, TtrpcClient.over(sock), sock);
        conn.onClose(() => this.conns.delete(address));
        return conn;
      })();
      this.conns.set(address, p);
      p.catch(() => this.conns.delete(address));
    }
    return p;
  }

  /** `shim delete` for a bundle whose shim is gone: the runtime's force delete and the rootfs unmount. */
  cleanupDeadShim(id: string, bundle: string): Promise<void> {
    const argv = ['-namespace', this.o.namespace, '-address', path.join(this.o.stateDir, 'dock.sock'), '-id', id, '-bundle', bundle, 'delete'];
    return new Promise((resolve) => {
      const child = spawn(this.o.binary, argv, { cwd: fs.existsSync(bundle) ? bundle : '/', env: this.env(), stdio: ['ignore', 'ignore', 'pipe'] });
      const err: Buffer[] = [];
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', () => resolve());
      child.on('close', (code) => {
        if (code !== 0) this.o.log.warn({ id, err: Buffer.concat(err).toString().trim() }, 'shim delete failed');
        resolve();
      });
    });
  }

  /** Asks every connected shim to shut down; one still serving containers ignores it. */
  async shutdownIdle(): Promise<void> {
    for (const p of this.conns.values()) {
      const c = await p.catch(() => undefined);
      if (c) await task.shutdown(c).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    for (const p of this.conns.values()) (await p.catch(() => undefined))?.close();
    this.conns.clear();
    if (this.events) {
      this.events.listener.close();
      this.events.server.closeAll();
      fs.rmSync(this.eventsAddress, { force: true });
      this.events = undefined;
    }
  }
}

/** The Task calls dock makes, over one shim connection. */
export const task = {
  create: (c: ShimConn, id: string, bundle: string, rootfs: RootfsMount[], io: TaskIO) =>
    c.call<{ pid: number }>('Create', 'CreateTaskRequest', 'CreateTaskResponse', { id, bundle, rootfs, ...io }),
  start: (c: ShimConn, id: string, execId = '') => c.call<{ pid: number }>('Start', 'StartRequest', 'StartResponse', { id, execId }),
  async state(c: ShimConn, id: string, execId = ''): Promise<TaskState> {
    const r = await c.call<{ pid: number; status: number; exitStatus: number; exitedAt?: { seconds: number; nanos: number } }>('State', 'StateRequest', 'StateResponse', { id, execId });
    return { pid: r.pid, status: r.status, exitStatus: r.exitStatus, exitedAt: tsDate(r.exitedAt) };
  },
  kill: (c: ShimConn, id: string, signal: number, all = false, execId = '') => c.call('Kill', 'KillRequest', null, { id, execId, signal, all }),
  async wait(c: ShimConn, id: string, execId = ''): Promise<Exit> {
    const r = await c.call<{ exitStatus: number; exitedAt?: { seconds: number; nanos: number } }>('Wait', 'WaitRequest', 'WaitResponse', { id, execId });
    return { status: r.exitStatus, exitedAt: tsDate(r.exitedAt) ?? new Date() };
  },
  async delete(c: ShimConn, id: string, execId = ''): Promise<Exit & { pid: number }> {
    const r = await c.call<{ pid: number; exitStatus: number; exitedAt?: { seconds: number; nanos: number } }>('Delete', 'DeleteRequest', 'DeleteResponse', { id, execId });
    return { pid: r.pid, status: r.exitStatus, exitedAt: tsDate(r.exitedAt) ?? new Date() };
  },
  exec: (c: ShimConn, id: string, execId: string, io: TaskIO, processSpec: object) =>
    c.call('Exec', 'ExecProcessRequest', null, {
      id,
      execId,
      ...io,
      spec: { type_url: 'types.containerd.io/opencontainers/runtime-spec/1/Process', value: Buffer.from(JSON.stringify(processSpec)) },
    }),
  resize: (c: ShimConn, id: string, width: number, height: number, execId = '') => c.call('ResizePty', 'ResizePtyRequest', null, { id, execId, width, height }),
  closeStdin: (c: ShimConn, id: string, execId = '') => c.call('CloseIO', 'CloseIORequest', null, { id, execId, stdin: true }),
  pause: (c: ShimConn, id: string) => c.call('Pause', 'PauseRequest', null, { id }),
  resume: (c: ShimConn, id: string) => c.call('Resume', 'ResumeRequest', null, { id }),
  async pids(c: ShimConn, id: string): Promise<number[]> {
    const r = await c.call<{ processes: { pid: number }[] }>('Pids', 'PidsRequest', 'PidsResponse', { id });
    return r.processes.map((p) => p.pid);
  },
  update: (c: ShimConn, id: string, resources: object) =>
    c.call('Update', 'UpdateTaskRequest', null, {
      id,
      resources: { type_url: 'types.containerd.io/opencontainers/runtime-spec/1/LinuxResources', value: Buffer.from(JSON.stringify(resources)) },
      annotations: {},
    }),
  connect: (c: ShimConn, id: string) => c.call<{ shimPid: number; taskPid: number; version: string }>('Connect', 'ConnectRequest', 'ConnectResponse', { id }),
  shutdown: (c: ShimConn) => c.call('Shutdown', 'ShutdownRequest', null, { id: '', now: false }),
};

