// docker exec: exec records (create, start, inspect, resize), run through the shim's Task.Exec in
// the container's namespaces with its own stdio fifos. The exit code is recorded before the
// client's stream closes (the CLI inspects exactly once).
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Process } from '../../../spec/types/runtime';
import { RuntimeError, messageOf } from '../../errors/index';
import { resolveUser } from '../bundle/user';
import { ProcessStreams, type OutputStream } from '../tasks/io';
import { task } from '../tasks/shim';
import { containerCapabilities } from './capabilities';
import type { Engine } from './engine';

export type ExecConfig = {
  User?: string;
  Privileged?: boolean;
  Tty?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Detach?: boolean;
  DetachKeys?: string;
  Env?: string[] | null;
  WorkingDir?: string;
  Cmd?: string[];
  ConsoleSize?: [number, number] | null;
};

export type ExecRecord = {
  ID: string;
  ContainerID: string;
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
  config: ExecConfig;
  started: boolean;
  io?: ProcessStreams;
  /** Settles when the exit is recorded. */
  done?: Promise<void>;
  pendingResize?: [number, number];
};

export class ExecStore {
  private readonly execs = new Map<string, ExecRecord>();

  get(id: string): ExecRecord {
    const x = this.execs.get(id);
    if (!x) throw new RuntimeError('NotFound', `No such exec instance: ${id}`);
    return x;
  }

  add(x: ExecRecord): void {
    this.execs.set(x.ID, x);
    // Keep the newest 256 finished execs per daemon: the rest is history nobody asks about.
    if (this.execs.size > 512) {
      for (const [id, r] of this.execs) {
        if (!r.Running && r.started) this.execs.delete(id);
        if (this.execs.size <= 256) break;
      }
    }
  }

  ofContainer(cid: string): ExecRecord[] {
    return [...this.execs.values()].filter((x) => x.ContainerID === cid);
  }

  dropContainer(cid: string): void {
    for (const [id, r] of this.execs) if (r.ContainerID === cid) this.execs.delete(id);
  }
}

/** POST /containers/{id}/exec. */
export function createExec(e: Engine, execs: ExecStore, ref: string, cfg: ExecConfig): { Id: string } {
  const rec = e.find(ref);
  if (!rec.State.Running) throw new RuntimeError('FailedPrecondition', `Container ${rec.ID} is not running`);
  if (rec.State.Paused) throw new RuntimeError('FailedPrecondition', `Container ${rec.ID} is paused, unpause the container before exec`);
  if (!cfg.Cmd || cfg.Cmd.length === 0) throw new RuntimeError('InvalidArgument', 'No exec command specified');
  const id = randomBytes(32).toString('hex');
  execs.add({ ID: id, ContainerID: rec.ID, Running: false, ExitCode: null, Pid: 0, config: cfg, started: false });
  e.event(rec, `exec_create: ${cfg.Cmd.join(' ')}`, { execID: id });
  return { Id: id };
}

export type ExecSink = {
  /** Output of the process (stream, bytes). */
  output?(stream: OutputStream, data: Buffer): void;
  /** stdin for the process is fed by the caller through the returned writer. */
  wantStdin: boolean;
};

/**
 * Starts an exec. Returns once the process runs, with its stdin (if asked) and a promise of its
 * exit code (recorded on the exec before it resolves).
 */
export async function startExec(e: Engine, execs: ExecStore, id: string, sink: ExecSink): Promise<{ stdin?: NodeJS.WritableStream; closeStdin(): void; exit: Promise<number> }> {
  const x = execs.get(id);
  if (x.started) throw new RuntimeError('AlreadyExists', `Error: Exec command ${id} is already running`);
  const rec = e.find(x.ContainerID);
  if (!rec.State.Running) throw new RuntimeError('FailedPrecondition', `Container ${rec.ID} is not running`);
  if (rec.State.Paused) throw new RuntimeError('FailedPrecondition', `Container ${rec.ID} is paused, unpause the container before exec`);
  const live = e.live(rec.ID);
  const conn = live.conn;
  if (!conn) throw new RuntimeError('FailedPrecondition', `Container ${rec.ID} is not running`);
  x.started = true;
  const bundle = e.bundleDir(rec.ID);
  const cs = JSON.parse(await fs.readFile(path.join(bundle, 'config.json'), 'utf8')) as { process: Process };
  const c = x.config;
  const proc: Process = { ...cs.process, args: c.Cmd!, terminal: !!c.Tty };
  delete proc.consoleSize;
  if (c.Tty && c.ConsoleSize && c.ConsoleSize[0]) proc.consoleSize = { height: c.ConsoleSize[0], width: c.ConsoleSize[1] };
  const env = [...(proc.env ?? [])];
  for (const kv of c.Env ?? []) {
    const k = kv.split('=', 1)[0]!;
    const i = env.findIndex((v) => v.split('=', 1)[0] === k);
    if (i >= 0) env[i] = kv;
    else env.push(kv);
  }
  proc.env = env;
  if (c.WorkingDir) proc.cwd = c.WorkingDir;
  if (c.User) {
    const u = await resolveUser(e.rootfsDir(rec.ID), c.User);
    proc.user = { uid: u.uid, gid: u.gid, ...(u.additionalGids.length ? { additionalGids: u.additionalGids } : {}) };
  }
  if (c.Privileged) {
    const all = containerCapabilities({ capAdd: [], capDrop: [], privileged: true });
    proc.capabilities = { bounding: all, effective: all, permitted: all };
  }
  const io = await ProcessStreams.open(e.d.sys, bundle, id.slice(0, 24), { stdin: sink.wantStdin, tty: !!c.Tty });
  x.io = io;
  try {
    await task.exec(conn, rec.ID, id, io.paths, proc);
    io.startReading((s, d) => sink.output?.(s, d));
    const { pid } = await task.start(conn, rec.ID, id);
    x.Pid = pid;
    x.Running = true;
  } catch (err) {
    io.close();
    await io.removeFiles();
    await task.delete(conn, rec.ID, id).catch(() => undefined);
    x.Running = false;
    x.ExitCode = 126;
    let msg = messageOf(err);
    if (/ENOENT/.test(msg)) msg = `OCI runtime exec failed: exec failed: unable to start container process: exec: "${c.Cmd![0]}": executable file not found in $PATH: unknown`;
    throw new RuntimeError('Internal', msg);
  }
  if (x.pendingResize) await task.resize(conn, rec.ID, x.pendingResize[1], x.pendingResize[0], id).catch(() => undefined);
  e.event(rec, `exec_start: ${c.Cmd!.join(' ')}`, { execID: id });
  const exit = (async () => {
    let code = 126;
    try {
      code = (await task.wait(conn, rec.ID, id)).status;
    } catch (err) {
      e.d.log.warn({ id: rec.ID, exec: id, err: messageOf(err) }, 'exec wait');
    }
    await Promise.race([io.done, new Promise((r) => setTimeout(r, 3000))]);
    io.close();
    await io.removeFiles().catch(() => undefined);
    await task.delete(conn, rec.ID, id).catch(() => undefined);
    x.ExitCode = code;
    x.Running = false;
    x.Pid = 0;
    e.event(rec, 'exec_die', { execID: id, exitCode: String(code) });
    return code;
  })();
  x.done = exit.then(() => undefined);
  return { stdin: io.stdin(), closeStdin: () => io.closeStdin(), exit };
}

/** POST /exec/{id}/resize: answered even before the process runs (applied when it does). */
export async function resizeExec(e: Engine, execs: ExecStore, id: string, h: number, w: number): Promise<void> {
  const x = execs.get(id);
  const live = e.live(x.ContainerID);
  if (!x.Running || !live.conn) {
    x.pendingResize = [h, w];
    return;
  }
  await task.resize(live.conn, x.ContainerID, w, h, id).catch(() => undefined);
}

/** GET /exec/{id}/json. */
export function inspectExec(execs: ExecStore, id: string): Record<string, unknown> {
  const x = execs.get(id);
  const c = x.config;
  return {
    ID: x.ID,
    Running: x.Running,
    ExitCode: x.ExitCode,
    ProcessConfig: { tty: !!c.Tty, entrypoint: c.Cmd?.[0] ?? '', arguments: c.Cmd?.slice(1) ?? [], privileged: !!c.Privileged, user: c.User ?? '' },
    OpenStdin: !!c.AttachStdin,
    OpenStderr: !!c.AttachStderr,
    OpenStdout: !!c.AttachStdout,
    CanRemove: false,
    ContainerID: x.ContainerID,
    DetachKeys: c.DetachKeys ?? '',
    Pid: x.Pid,
  };
}
