// exec and run: a process of a service with the caller's stdio wired through a hijacked connection
// (raw with a TTY, multiplexed without), resolving with its exit status. The caller owns the
// terminal (raw mode, resize events); this file only moves bytes and makes API calls.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { Demuxer } from '../api/client';
import { RuntimeError } from '../../errors/index';
import type { Engine } from './engine';
import { ensureImages } from './images';
import type { Project, Service } from './model';
import { observe, projectContainers } from './observe';
import { createServiceContainer, runPlan } from './ops';
import { planResources, withDependencies } from './plan';
import type { Progress } from './progress';
import { parsePortSpec, shellSplit } from './syntax';
import { up } from './up';

export type Stdio = {
  stdin?: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Terminal size, when the caller has a terminal. */
  size?: () => { rows: number; columns: number };
};

/** Pumps stdin into the connection (half-closing at EOF) and its output to stdout/stderr. */
function pipe(sock: Socket, tty: boolean, io: Stdio): Promise<void> {
  if (io.stdin) {
    io.stdin.on('data', (d: Buffer) => sock.write(d));
    io.stdin.on('end', () => sock.end());
    io.stdin.resume();
  }
  const demux = tty ? undefined : new Demuxer((s, data) => (s === 2 ? io.stderr : io.stdout).write(data));
  return new Promise((resolve) => {
    sock.on('data', (c: Buffer) => (demux ? demux.push(c) : io.stdout.write(c)));
    const done = () => {
      io.stdin?.pause();
      resolve();
    };
    sock.on('end', done);
    sock.on('close', done);
    sock.on('error', done);
  });
}

export type ExecOptions = {
  service: string;
  index?: number;
  command: string[];
  tty: boolean;
  interactive: boolean;
  env?: string[];
  user?: string;
  workdir?: string;
  privileged?: boolean;
  detach?: boolean;
};

export async function exec(engine: Engine, project: string, o: ExecOptions, io: Stdio): Promise<number> {
  const cs = (await projectContainers(engine, project, { services: [o.service] })).filter((c) => c.state === 'running');
  const index = o.index ?? 1;
  const c = cs.find((x) => x.number === index) ?? (o.index === undefined ? cs[0] : undefined);
  if (!c) throw new RuntimeError('FailedPrecondition', o.index === undefined ? `service ${JSON.stringify(o.service)} is not running` : `service ${JSON.stringify(o.service)} is not running container #${index}`);
  const id = await engine.createExec(c.id, {
    AttachStdin: o.interactive && !o.detach,
    AttachStdout: !o.detach,
    AttachStderr: !o.detach,
    Tty: o.tty,
    Env: o.env,
    User: o.user,
    WorkingDir: o.workdir,
    Privileged: o.privileged ?? false,
    Cmd: o.command,
  });
  if (o.detach) {
    await engine.client.json('POST', `/exec/${encodeURIComponent(id)}/start`, { body: { Detach: true, Tty: o.tty } });
    return 0;
  }
  const sock = await engine.startExec(id, o.tty);
  if (o.tty && io.size) {
    const { rows, columns } = io.size();
    await engine.resizeExec(id, rows, columns).catch(() => undefined);
  }
  await pipe(sock, o.tty, { ...io, stdin: o.interactive ? io.stdin : undefined });
  const r = await engine.inspectExec(id);
  return r.ExitCode ?? 0;
}

export type RunOptions = {
  service: string;
  command?: string[];
  entrypoint?: string;
  env?: string[];
  labels?: string[];
  user?: string;
  workdir?: string;
  name?: string;
  tty: boolean;
  interactive: boolean;
  rm?: boolean;
  noDeps?: boolean;
  detach?: boolean;
  servicePorts?: boolean;
  publish?: string[];
  useAliases?: boolean;
  build?: boolean;
};

/** `compose run`: a one-off container of a service (`<project>-<service>-run-<id>`). */
export async function run(engine: Engine, p: Project, o: RunOptions, io: Stdio, progress: Progress): Promise<number> {
  const s = p.services[o.service];
  if (!s) throw new RuntimeError('NotFound', `no such service: ${o.service}`);
  if (!o.noDeps) {
    const deps = withDependencies(p, [o.service]).filter((n) => n !== o.service);
    if (deps.length) await up(engine, p, { out: io.stderr, progress }, { services: deps, detach: true });
  }
  const images = await ensureImages(engine, p, [o.service], progress, { build: o.build });
  await runPlan({ engine, project: p, progress }, planResources(p, await observe(engine, p), [o.service]));
  const slug = randomBytes(32).toString('hex');
  const name = o.name ?? `${p.name}-${o.service}-run-${slug.slice(0, 12)}`;
  const env = { ...(s.environment ?? {}) };
  for (const e of o.env ?? []) {
    const i = e.indexOf('=');
    env[i < 0 ? e : e.slice(0, i)] = i < 0 ? (process.env[e] ?? null) : e.slice(i + 1);
  }
  const labels = { ...(s.labels ?? {}) };
  for (const l of o.labels ?? []) {
    const i = l.indexOf('=');
    labels[i < 0 ? l : l.slice(0, i)] = i < 0 ? '' : l.slice(i + 1);
  }
  const override: Partial<Service> = {
    environment: env,
    labels,
    tty: o.tty,
    stdin_open: o.interactive,
    restart: undefined,
    deploy: s.deploy ? { ...s.deploy, restart_policy: undefined } : undefined,
    container_name: undefined,
  };
  if (o.command?.length) override.command = o.command;
  if (o.entrypoint !== undefined) override.entrypoint = shellSplit(o.entrypoint);
  if (o.user) override.user = o.user;
  if (o.workdir) override.working_dir = o.workdir;
  if (o.publish?.length) override.ports = o.publish.flatMap((x) => parsePortSpec(x));
  const ctx = { engine, project: p, progress, images };
  const id = await createServiceContainer(ctx, o.service, 0, name, {
    oneoff: { slug },
    useAliases: o.useAliases ?? false,
    // Attached, --rm is done here after the exit status is read; detached, the engine does it.
    autoRemove: o.detach ? o.rm : false,
    attachStdin: o.interactive && !o.detach,
    publishPorts: !!o.servicePorts || !!o.publish?.length,
    override,
  });
  if (o.detach) {
    await engine.startContainer(id);
    io.stdout.write(`${name}\n`);
    return 0;
  }
  const sock = await engine.attachContainer(id, { stdin: o.interactive });
  const exited = engine.waitContainer(id, 'next-exit');
  try {
    await engine.startContainer(id);
    if (o.tty && io.size) {
      const { rows, columns } = io.size();
      await engine.resizeContainer(id, rows, columns).catch(() => undefined);
    }
    await pipe(sock, o.tty, { ...io, stdin: o.interactive ? io.stdin : undefined });
    return await exited;
  } finally {
    sock.destroy();
    if (o.rm) await engine.removeContainer(id, { force: true, volumes: true }).catch(() => undefined);
  }
}
