// `compose up`: images → observe → plan → execute, then (in the foreground) the containers' output
// with prefixes until they exit, stopping everything on --abort-on-container-exit or on cancel.
// Also `scale` and `create`-like partial runs, which are the same convergence with other options.
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { RuntimeError } from '../../errors/index';
import type { Engine } from './engine';
import { ensureImages, type EnsureOptions } from './images';
import { displayName, LogPrinter, readLines } from './logs';
import type { Project } from './model';
import { observe, projectContainers, type ObservedContainer } from './observe';
import { runPlan, type OpsContext } from './ops';
import { Plan, planUp, withDependencies, type UpPlanOptions } from './plan';
import type { Progress } from './progress';

export type UpOptions = UpPlanOptions & EnsureOptions & {
  detach?: boolean;
  abortOnContainerExit?: boolean;
  exitCodeFrom?: string;
  /** Services whose output is shown (default: the targeted ones). */
  attach?: string[];
  noAttach?: string[];
  color?: boolean;
  timestamps?: boolean;
  /** Aborting it stops the project (the first Ctrl-C). */
  signal?: AbortSignal;
  /** Aborting it kills the project (the second Ctrl-C). */
  killSignal?: AbortSignal;
  /** Print the plan instead of running it. */
  dryRun?: boolean;
};

export type Io = { out: Writable; progress: Progress };

/** Converges the project; in the foreground, resolves with the exit code once all is over. */
export async function up(engine: Engine, p: Project, io: Io, o: UpOptions = {}): Promise<number> {
  if (o.exitCodeFrom && !p.services[o.exitCodeFrom]) throw new RuntimeError('NotFound', `no such service: ${o.exitCodeFrom}`);
  const services = withDependencies(p, o.services, o.noDeps);
  // Image checks (pulls, builds) and the look at the project's current state are independent: one
  // round trip of waiting instead of two.
  const [images, observed] = await Promise.all([o.dryRun ? {} : ensureImages(engine, p, services, io.progress, o), observe(engine, p)]);
  const { plan, orphans } = planUp(p, observed, { ...o, images });
  if (orphans.length) {
    io.progress.warn(`Found orphan containers (${orphans.map((c) => c.name).join(', ')}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`);
  }
  if (o.dryRun) {
    io.out.write(plan.toString());
    return 0;
  }
  const touched = new Set(plan.nodes.flatMap((n) => ('container' in n.op && n.op.container ? [n.op.container.id] : 'replaces' in n.op && n.op.replaces ? [n.op.replaces.id] : [])));
  for (const c of observed.containers) {
    if (services.includes(c.service) && c.state === 'running' && !touched.has(c.id)) io.progress.event(`Container ${c.name}`, 'Running');
  }
  const ctx: OpsContext = { engine, project: p, progress: io.progress, images };
  if (o.detach) {
    await runPlan(ctx, plan);
    return 0;
  }
  return foreground(engine, p, io, o, services, ctx, plan);
}

type Attached = { id: string; name: string; service: string; done: Promise<void> };

async function foreground(engine: Engine, p: Project, io: Io, o: UpOptions, services: string[], ctx: OpsContext, plan: Plan): Promise<number> {
  const shown = new Set((o.attach?.length ? o.attach : o.services?.length ? o.services : services).filter((s) => !o.noAttach?.includes(s)));
  const printer = new LogPrinter(io.out, { color: o.color ?? false });
  const attached = new Map<string, Attached>();
  const sockets: Socket[] = [];
  const attach = async (service: string, id: string, name: string) => {
    if (!shown.has(service) || attached.has(id)) return;
    const label = displayName({ name, labels: { 'com.docker.compose.project': p.name, 'com.docker.compose.service': service, 'com.docker.compose.container-number': name.split('-').pop() ?? '' } });
    printer.register([label]);
    const info = await engine.inspectContainer(id);
    const sock = await engine.attachContainer(id);
    sockets.push(sock);
    const done = readLines(sock, !info.Config.Tty, (l) => printer.line(label, l));
    attached.set(id, { id, name: label, service, done });
  };
  // Containers that stay (running or to be started) are attached before the plan runs, new ones
  // as soon as they exist, so no output is lost.
  const existing = (await projectContainers(engine, p.name)).filter((c) => services.includes(c.service));
  const replaced = new Set(plan.nodes.flatMap((n) => (n.op.kind === 'CreateContainer' && n.op.replaces ? [n.op.replaces.id] : n.op.kind === 'RemoveContainer' ? [n.op.container.id] : [])));
  for (const c of existing) if (!replaced.has(c.id)) await attach(c.service, c.id, c.name);
  const names = (await projectContainers(engine, p.name)).filter((c) => shown.has(c.service)).map(displayName);
  const planned = plan.nodes.flatMap((n) => (n.op.kind === 'CreateContainer' && shown.has(n.op.service) ? [n.op.replaces ? displayName(n.op.replaces) : n.op.name.slice(p.name.length + 1)] : []));
  const all = [...new Set([...names, ...planned])].sort();
  printer.register(all);
  io.out.write(`Attaching to ${all.join(', ')}\n`);
  try {
    await runPlan({ ...ctx, onCreated: attach }, plan);
  } catch (e) {
    for (const s of sockets) s.destroy();
    throw e;
  }

  let exitCode = 0;
  let stopping: Promise<void> | undefined;
  const stopAll = (kill: boolean) => {
    const run = async () => {
      const cs = (await projectContainers(engine, p.name)).filter((c) => services.includes(c.service) && c.state === 'running');
      await Promise.all(
        cs.map(async (c: ObservedContainer) => {
          io.progress.event(`Container ${c.name}`, kill ? 'Killing' : 'Stopping');
          try {
            if (kill) await engine.killContainer(c.id);
            else await engine.stopContainer(c.id);
          } catch {
            /* already gone */
          }
          io.progress.event(`Container ${c.name}`, kill ? 'Killed' : 'Stopped');
        }),
      );
    };
    stopping = run();
    return stopping;
  };
  o.signal?.addEventListener('abort', () => {
    io.progress.message('Gracefully stopping... (press Ctrl+C again to force)');
    void stopAll(false);
  });
  o.killSignal?.addEventListener('abort', () => void stopAll(true));
  let first = true;
  let codeFromSeen = false;
  await Promise.all(
    [...attached.values()].map(async (a) => {
      await a.done;
      const code = await engine.waitContainer(a.id, 'not-running').catch(() => -1);
      printer.status(a.name, `exited with code ${code}`);
      if (o.exitCodeFrom === a.service && !codeFromSeen) {
        codeFromSeen = true;
        exitCode = code;
      }
      if ((o.abortOnContainerExit || o.exitCodeFrom) && first) {
        first = false;
        if (!o.exitCodeFrom) exitCode = code;
        io.progress.message('Aborting on container exit...');
        void stopAll(false);
      }
    }),
  );
  if (stopping) await stopping;
  for (const s of sockets) s.destroy();
  return exitCode;
}
