// One Engine API call per plan operation (plus the dependency waits), with compose v2's progress
// lines. Used by up, down and scale through executePlan; container starts are serialized there.
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError } from '../api/client';
import { RuntimeError } from '../../errors/index';
import { createRequest, networkRequest, volumeRequest } from './convert';
import type { Engine } from './engine';
import { executePlan } from './execute';
import type { Project } from './model';
import { projectContainers, type ObservedContainer } from './observe';
import type { Plan, PlanNode } from './plan';
import type { Progress } from './progress';

export type OpsContext = {
  engine: Engine;
  project: Project;
  progress: Progress;
  /** Image IDs by service, recorded in com.docker.compose.image. */
  images?: Record<string, string | undefined>;
  /** DELETE containers with v=1 (down -v). */
  removeVolumes?: boolean;
  /** Called with each container id right after it is created (attach before start). */
  onCreated?: (service: string, id: string, name: string) => Promise<void>;
};

const C = (name: string) => `Container ${name}`;

/** "db:alias" links as compose v2 resolves them: every container of the linked service. */
export async function resolveLinks(engine: Engine, p: Project, service: string, number: number): Promise<string[]> {
  const s = p.services[service]!;
  const out: string[] = [];
  for (const raw of s.links ?? []) {
    const [svc, alias = svc] = raw.split(':') as [string, string?];
    for (const c of await projectContainers(engine, p.name, { services: [svc] })) {
      out.push(`${c.name}:${alias}`, `${c.name}:${svc}-${number}`, `${c.name}:${p.name}-${svc}-${number}`);
    }
  }
  for (const raw of s.external_links ?? []) {
    const [name, alias = name] = raw.split(':') as [string, string?];
    out.push(`${name}:${alias}`);
  }
  return [...new Set(out)];
}

/** First containers of the services a service refers to (volumes_from, service: modes). */
async function referencedContainers(engine: Engine, p: Project, service: string): Promise<Map<string, string>> {
  const s = p.services[service]!;
  const refs = new Set<string>();
  for (const m of [s.network_mode, s.ipc, s.pid]) if (m?.startsWith('service:')) refs.add(m.slice('service:'.length));
  for (const v of s.volumes_from ?? []) if (!v.startsWith('container:')) refs.add(v.split(':')[0]!);
  const out = new Map<string, string>();
  for (const r of refs) {
    const cs = await projectContainers(engine, p.name, { services: [r] });
    if (!cs.length) throw new RuntimeError('NotFound', `service ${JSON.stringify(service)} refers to service ${JSON.stringify(r)}, which has no container`);
    out.set(r, cs[0]!.name);
  }
  return out;
}

/** Creates one container of a service (and connects its extra networks on engines before 1.44). */
export async function createServiceContainer(
  ctx: OpsContext,
  service: string,
  number: number,
  name: string,
  extra: { inherit?: ObservedContainer; replaces?: string; oneoff?: { slug: string }; useAliases?: boolean; autoRemove?: boolean; attachStdin?: boolean; publishPorts?: boolean; override?: Partial<Project['services'][string]> } = {},
): Promise<string> {
  const { engine, project } = ctx;
  const base = project.services[service]!;
  const s = extra.override ? { ...base, ...extra.override } : base;
  const refs = await referencedContainers(engine, project, service);
  const req = createRequest({
    project,
    service: s,
    number,
    name,
    apiVersion: await engine.apiVersion(),
    links: await resolveLinks(engine, project, service, number),
    containerOf: (svc) => refs.get(svc)!,
    inherit: extra.inherit,
    imageId: ctx.images?.[service],
    useAliases: extra.useAliases ?? true,
    oneoff: extra.oneoff,
    replaces: extra.replaces,
    autoRemove: extra.autoRemove,
    attachStdin: extra.attachStdin,
    publishPorts: extra.publishPorts,
  });
  const id = await engine.createContainer(req.name, req.body, req.platform);
  for (const c of req.connectAfter) await engine.connectNetwork(c.network, id, c.endpoint);
  return id;
}

async function waitDependency(ctx: OpsContext, service: string, dependency: string, condition: string): Promise<void> {
  const { engine, project, progress } = ctx;
  const cs = await projectContainers(engine, project.name, { services: [dependency] });
  for (const c of cs) {
    progress.event(C(c.name), 'Waiting');
    if (condition === 'service_completed_successfully') {
      const code = await engine.waitContainer(c.id, 'not-running');
      if (code !== 0) throw new RuntimeError('FailedPrecondition', `service ${JSON.stringify(dependency)} didn't complete successfully: exit ${code}`);
      progress.event(C(c.name), 'Exited');
      continue;
    }
    for (;;) {
      const i = await engine.inspectContainer(c.id);
      const h = i.State.Health?.Status;
      if (!i.State.Health) throw new RuntimeError('FailedPrecondition', `container ${c.name} has no healthcheck configured`);
      if (h === 'healthy') break;
      if (h === 'unhealthy') throw new RuntimeError('FailedPrecondition', `dependency failed to start: container ${c.name} is unhealthy`);
      if (!i.State.Running) throw new RuntimeError('FailedPrecondition', `dependency failed to start: container ${c.name} exited (${i.State.ExitCode})`);
      await sleep(250);
    }
    progress.event(C(c.name), 'Healthy');
  }
  void service;
}

/** Whether an error of a removal means "still in use" (compose warns and goes on). */
function inUse(e: unknown): boolean {
  return e instanceof ApiError && (e.status === 403 || e.status === 409) && /in use|active endpoints/i.test(e.message);
}

/** The runner of one plan node. */
export function runNode(ctx: OpsContext): (n: PlanNode, results: Map<number, string>) => Promise<string | void> {
  const { engine, project, progress } = ctx;
  return async (n, results) => {
    const op = n.op;
    switch (op.kind) {
      case 'CreateNetwork': {
        progress.event(`Network ${op.network.name}`, 'Creating');
        try {
          await engine.createNetwork(networkRequest(project.name, op.key, op.network));
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 409)) throw e;
        }
        progress.event(`Network ${op.network.name}`, 'Created');
        return;
      }
      case 'CreateVolume':
        progress.event(`Volume "${op.volume.name}"`, 'Creating');
        await engine.createVolume(volumeRequest(project.name, op.key, op.volume));
        progress.event(`Volume "${op.volume.name}"`, 'Created');
        return;
      case 'CreateContainer': {
        const shown = op.replaces ? op.replaces.name : op.name;
        progress.event(C(shown), op.replaces ? 'Recreate' : 'Creating');
        const id = await createServiceContainer(ctx, op.service, op.number, op.name, { inherit: op.inherit, replaces: op.replaces?.name });
        if (!op.replaces) {
          progress.event(C(op.name), 'Created');
          await ctx.onCreated?.(op.service, id, op.name);
        }
        return id;
      }
      case 'RenameContainer': {
        const id = results.get(op.created)!;
        await engine.renameContainer(id, op.name);
        progress.event(C(op.name), 'Recreated');
        await ctx.onCreated?.(op.service, id, op.name);
        return id;
      }
      case 'StartContainer': {
        const id = op.container?.id ?? results.get(op.created!)!;
        progress.event(C(op.name), 'Starting');
        await engine.startContainer(id);
        progress.event(C(op.name), 'Started');
        return id;
      }
      case 'StopContainer':
        progress.event(C(op.container.name), 'Stopping');
        await engine.stopContainer(op.container.id, op.timeout);
        progress.event(C(op.container.name), 'Stopped');
        return;
      case 'RemoveContainer':
        progress.event(C(op.container.name), 'Removing');
        try {
          await engine.removeContainer(op.container.id, { volumes: ctx.removeVolumes, force: true });
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 404)) throw e;
        }
        progress.event(C(op.container.name), 'Removed');
        return;
      case 'RemoveNetwork':
        progress.event(`Network ${op.name}`, 'Removing');
        try {
          await engine.removeNetwork(op.name);
          progress.event(`Network ${op.name}`, 'Removed');
        } catch (e) {
          if (!inUse(e)) throw e;
          progress.event(`Network ${op.name}`, 'Resource is still in use');
        }
        return;
      case 'RemoveVolume':
        progress.event(`Volume ${op.name}`, 'Removing');
        try {
          await engine.removeVolume(op.name);
          progress.event(`Volume ${op.name}`, 'Removed');
        } catch (e) {
          if (!inUse(e)) throw e;
          progress.event(`Volume ${op.name}`, 'Resource is still in use');
        }
        return;
      case 'WaitDependency':
        await waitDependency(ctx, op.service, op.dependency, op.condition);
        return;
    }
  };
}

/**
 * Executes a plan with compose's rules: containers that publish ports start one at a time (the
 * engine allocates published ports non-atomically, compose v2 convergence.go), the rest in parallel.
 */
export function runPlan(ctx: OpsContext, plan: Plan): Promise<Map<number, string>> {
  const publishes = (service: string) => (ctx.project.services[service]?.ports?.length ?? 0) > 0;
  return executePlan(plan, runNode(ctx), { serial: (n) => n.op.kind === 'StartContainer' && publishes(n.op.service) });
}
