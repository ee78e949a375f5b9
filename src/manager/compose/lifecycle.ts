// down, start, stop, restart, kill, rm, pause, unpause: operations on a project's existing
// containers, found by label, in dependency order (stops go dependents first, starts the other way).
import { RuntimeError } from '../../errors/index';
import { imageName } from './convert';
import type { Engine } from './engine';
import { namedProject, serviceOrder, type Project } from './model';
import { observe, projectContainers, type ObservedContainer } from './observe';
import { runPlan } from './ops';
import { planDown, type DownPlanOptions } from './plan';
import type { Progress } from './progress';
import { parseDuration } from './syntax';

/** A project by its loaded model, or just by name (commands run without a compose file). */
export type ProjectRef = Project | string;

const nameOf = (p: ProjectRef) => (typeof p === 'string' ? p : p.name);
const C = (n: string) => `Container ${n}`;

/** Service order for a project ref: dependencies first (by name when there is no model). */
function order(p: ProjectRef, cs: ObservedContainer[]): string[] {
  const known = typeof p === 'string' ? [] : serviceOrder(p.services);
  const rest = [...new Set(cs.map((c) => c.service))].filter((s) => !known.includes(s)).sort();
  return [...known, ...rest];
}

function checkServices(p: ProjectRef, services: string[] | undefined): void {
  if (typeof p === 'string' || !services) return;
  for (const s of services) if (!p.services[s] && !p.disabledServices[s]) throw new RuntimeError('NotFound', `no such service: ${s}`);
}

/** Runs fn over the selected containers, service group by group in order (reversed for stops). */
async function inOrder(p: ProjectRef, cs: ObservedContainer[], reverse: boolean, fn: (c: ObservedContainer) => Promise<void>): Promise<void> {
  const groups = order(p, cs);
  if (reverse) groups.reverse();
  for (const g of groups) await Promise.all(cs.filter((c) => c.service === g).map(fn));
}

function timeoutFor(p: ProjectRef, service: string, override?: number): number | undefined {
  if (override !== undefined) return override;
  const g = typeof p === 'string' ? undefined : p.services[service]?.stop_grace_period;
  return g ? Math.round(parseDuration(g) / 1e9) : undefined;
}

export type DownOptions = DownPlanOptions & { rmi?: 'local' | 'all' };

export async function down(engine: Engine, p: ProjectRef, progress: Progress, o: DownOptions = {}): Promise<void> {
  const observed = await observe(engine, nameOf(p), { oneoff: true });
  const { plan, orphans } = planDown(p, observed, o);
  if (orphans.length) {
    progress.warn(`Found orphan containers (${orphans.map((c) => c.name).join(', ')}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`);
  }
  const images = new Set<string>();
  if (o.rmi) {
    if (typeof p !== 'string') {
      for (const s of Object.values(p.services)) if (o.rmi === 'all' || !s.image) images.add(imageName(p.name, s));
    } else for (const c of observed.containers) if (o.rmi === 'all' || !c.labels['com.docker.compose.image']) images.add(c.image);
  }
  await runPlan({ engine, project: typeof p === 'string' ? namedProject(p) : p, progress, removeVolumes: o.volumes }, plan);
  for (const img of [...images].sort()) {
    progress.event(`Image ${img}`, 'Removing');
    try {
      await engine.removeImage(img);
      progress.event(`Image ${img}`, 'Removed');
    } catch (e) {
      if ((e as { status?: number }).status !== 404) throw e;
      progress.event(`Image ${img}`, 'Not found');
    }
  }
}

export type Selection = { services?: string[] };

async function selected(engine: Engine, p: ProjectRef, s: Selection, oneoff = false): Promise<ObservedContainer[]> {
  checkServices(p, s.services);
  return projectContainers(engine, nameOf(p), { services: s.services, oneoff });
}

export async function start(engine: Engine, p: ProjectRef, progress: Progress, s: Selection = {}): Promise<void> {
  const cs = await selected(engine, p, s);
  if (!cs.length) throw new RuntimeError('NotFound', s.services?.length ? `service ${JSON.stringify(s.services[0])} has no container to start` : 'no containers to start');
  await inOrder(p, cs.filter((c) => c.state !== 'running' && c.state !== 'paused'), false, async (c) => {
    progress.event(C(c.name), 'Starting');
    await engine.startContainer(c.id);
    progress.event(C(c.name), 'Started');
  });
}

export async function stop(engine: Engine, p: ProjectRef, progress: Progress, s: Selection & { timeout?: number } = {}): Promise<void> {
  const cs = (await selected(engine, p, s)).filter((c) => c.state === 'running' || c.state === 'paused' || c.state === 'restarting');
  await inOrder(p, cs, true, async (c) => {
    progress.event(C(c.name), 'Stopping');
    await engine.stopContainer(c.id, timeoutFor(p, c.service, s.timeout));
    progress.event(C(c.name), 'Stopped');
  });
}

export async function restart(engine: Engine, p: ProjectRef, progress: Progress, s: Selection & { timeout?: number } = {}): Promise<void> {
  const cs = await selected(engine, p, s);
  await inOrder(p, cs, false, async (c) => {
    progress.event(C(c.name), 'Restarting');
    await engine.restartContainer(c.id, timeoutFor(p, c.service, s.timeout));
    progress.event(C(c.name), 'Started');
  });
}

export async function kill(engine: Engine, p: ProjectRef, progress: Progress, s: Selection & { signal?: string; removeOrphans?: boolean } = {}): Promise<void> {
  const cs = (await selected(engine, p, s)).filter((c) => c.state === 'running' || c.state === 'restarting' || c.state === 'paused');
  if (!cs.length) throw new RuntimeError('NotFound', 'no container to kill');
  await Promise.all(
    cs.map(async (c) => {
      progress.event(C(c.name), 'Killing');
      await engine.killContainer(c.id, s.signal);
      progress.event(C(c.name), 'Killed');
    }),
  );
}

/** The containers `rm` would remove (stopped ones; running too with --stop). */
export async function removable(engine: Engine, p: ProjectRef, s: Selection & { stop?: boolean } = {}): Promise<ObservedContainer[]> {
  return (await selected(engine, p, s)).filter((c) => s.stop || (c.state !== 'running' && c.state !== 'paused' && c.state !== 'restarting'));
}

export async function rm(engine: Engine, cs: ObservedContainer[], progress: Progress, o: { volumes?: boolean; stop?: boolean } = {}): Promise<void> {
  await Promise.all(
    cs.map(async (c) => {
      if (o.stop && (c.state === 'running' || c.state === 'paused')) {
        progress.event(C(c.name), 'Stopping');
        await engine.stopContainer(c.id);
        progress.event(C(c.name), 'Stopped');
      }
      progress.event(C(c.name), 'Removing');
      await engine.removeContainer(c.id, { volumes: o.volumes, force: true });
      progress.event(C(c.name), 'Removed');
    }),
  );
}

export async function pause(engine: Engine, p: ProjectRef, progress: Progress, s: Selection = {}): Promise<void> {
  const cs = (await selected(engine, p, s)).filter((c) => c.state === 'running');
  await Promise.all(
    cs.map(async (c) => {
      progress.event(C(c.name), 'Pausing');
      await engine.pauseContainer(c.id);
      progress.event(C(c.name), 'Paused');
    }),
  );
}

export async function unpause(engine: Engine, p: ProjectRef, progress: Progress, s: Selection = {}): Promise<void> {
  const cs = (await selected(engine, p, s)).filter((c) => c.state === 'paused');
  await Promise.all(
    cs.map(async (c) => {
      progress.event(C(c.name), 'Unpausing');
      await engine.unpauseContainer(c.id);
      progress.event(C(c.name), 'Unpaused');
    }),
  );
}
