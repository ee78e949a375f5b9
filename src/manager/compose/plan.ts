// Convergence planning: project + observed state → a DAG of single-step operations (compose v2's
// reconcile/Plan). Pure and printable: Plan.toString() is what the unit tests compare. Each
// operation is one Engine API call, except WaitDependency (a wait on a dependency's condition).
import { RuntimeError } from '../../errors/index';
import { containerName } from './convert';
import { serviceHash } from './hash';
import { dependenciesOf, replicasOf, serviceOrder, type DependsOnCondition, type Network, type Project, type Volume } from './model';
import type { Observed, ObservedContainer } from './observe';
import { parseDuration } from './syntax';

export type Op =
  | { kind: 'CreateNetwork'; key: string; network: Network }
  | { kind: 'RemoveNetwork'; name: string }
  | { kind: 'CreateVolume'; key: string; volume: Volume }
  | { kind: 'RemoveVolume'; name: string }
  | { kind: 'CreateContainer'; service: string; number: number; name: string; inherit?: ObservedContainer; replaces?: ObservedContainer }
  | { kind: 'StartContainer'; service: string; name: string; container?: ObservedContainer; created?: number }
  | { kind: 'StopContainer'; service: string; container: ObservedContainer; timeout?: number }
  | { kind: 'RemoveContainer'; service: string; container: ObservedContainer }
  | { kind: 'RenameContainer'; service: string; created: number; name: string }
  | { kind: 'WaitDependency'; service: string; dependency: string; condition: DependsOnCondition };

export type PlanNode = { id: number; op: Op; deps: number[]; cause: string };

export class Plan {
  readonly nodes: PlanNode[] = [];

  add(op: Op, cause: string, deps: (PlanNode | undefined)[] = []): PlanNode {
    const ids = [...new Set(deps.filter((d): d is PlanNode => !!d).map((d) => d.id))].sort((a, b) => a - b);
    const node = { id: this.nodes.length + 1, op, deps: ids, cause };
    this.nodes.push(node);
    return node;
  }

  get empty(): boolean {
    return this.nodes.length === 0;
  }

  /** One line a node: "[deps] -> #id Kind resource, cause". */
  toString(): string {
    return this.nodes.map((n) => `[${n.deps.join(',')}] -> #${n.id} ${n.op.kind} ${resource(n.op)}, ${n.cause}\n`).join('');
  }
}

function resource(op: Op): string {
  switch (op.kind) {
    case 'CreateNetwork':
      return `network:${op.key} (${op.network.name})`;
    case 'RemoveNetwork':
      return `network:${op.name}`;
    case 'CreateVolume':
      return `volume:${op.key} (${op.volume.name})`;
    case 'RemoveVolume':
      return `volume:${op.name}`;
    case 'CreateContainer':
      return `service:${op.service}:${op.number} (${op.name})`;
    case 'StartContainer':
      return `container:${op.name}`;
    case 'StopContainer':
    case 'RemoveContainer':
      return `container:${op.container.name}`;
    case 'RenameContainer':
      return `container:#${op.created} -> ${op.name}`;
    case 'WaitDependency':
      return `service:${op.dependency} ${op.condition} (for ${op.service})`;
  }
}

export type UpPlanOptions = {
  /** Services named on the command line (default: all enabled ones). */
  services?: string[];
  noDeps?: boolean;
  recreate?: 'diverged' | 'force' | 'never';
  scale?: Record<string, number>;
  removeOrphans?: boolean;
  /** Start what is created (false: `create`). */
  start?: boolean;
  /** Stop timeout in seconds, overriding stop_grace_period. */
  timeout?: number;
  /** Current image ID of each service's image, when known (a changed image recreates). */
  images?: Record<string, string | undefined>;
};

export type UpPlan = { plan: Plan; orphans: ObservedContainer[] };

const ACTIVE = new Set(['running', 'restarting', 'paused']);

/** The services an operation covers: the named ones and, unless noDeps, what they depend on. */
export function withDependencies(p: Project, names: string[] | undefined, noDeps = false): string[] {
  const targets = names?.length ? names : Object.keys(p.services);
  for (const n of targets) if (!p.services[n]) throw new RuntimeError('NotFound', `no such service: ${n}`);
  const set = new Set<string>();
  const add = (n: string) => {
    if (set.has(n) || !p.services[n]) return;
    set.add(n);
    if (!noDeps) for (const d of dependenciesOf(p.services[n]!)) add(d);
  };
  targets.forEach(add);
  return serviceOrder(p.services).filter((n) => set.has(n));
}

function stopTimeout(p: Project, service: string, override?: number): number | undefined {
  if (override !== undefined) return override;
  const g = p.services[service]?.stop_grace_period;
  return g ? Math.round(parseDuration(g) / 1e9) : undefined;
}

/** Adds the networks and volumes the services use and the engine lacks; external ones must exist. */
function addResources(plan: Plan, p: Project, observed: Observed, services: string[]): { netNodes: Map<string, PlanNode>; volNodes: Map<string, PlanNode> } {
  const netNodes = new Map<string, PlanNode>();
  const volNodes = new Map<string, PlanNode>();
  const used = (kind: 'net' | 'vol') => new Set(services.flatMap((n) => (kind === 'net' ? Object.keys(p.services[n]!.networks ?? {}) : (p.services[n]!.volumes ?? []).filter((v) => v.type === 'volume' && v.source && p.volumes[v.source]).map((v) => v.source!))));
  for (const key of [...used('net')].sort()) {
    const n = p.networks[key]!;
    if (observed.networks.has(n.name)) continue;
    if (n.external) throw new RuntimeError('NotFound', `network ${n.name} declared as external, but could not be found`);
    netNodes.set(key, plan.add({ kind: 'CreateNetwork', key, network: n }, 'not found'));
  }
  for (const key of [...used('vol')].sort()) {
    const v = p.volumes[key]!;
    if (observed.volumes.has(v.name)) continue;
    if (v.external) throw new RuntimeError('NotFound', `external volume "${v.name}" not found`);
    volNodes.set(key, plan.add({ kind: 'CreateVolume', key, volume: v }, 'not found'));
  }
  return { netNodes, volNodes };
}

/** Plans only the networks and volumes of some services (what `run` needs before its container). */
export function planResources(p: Project, observed: Observed, services: string[]): Plan {
  const plan = new Plan();
  addResources(plan, p, observed, services);
  return plan;
}

/** Plans `up`: networks, volumes, then each service's containers in dependency order. */
export function planUp(p: Project, observed: Observed, o: UpPlanOptions = {}): UpPlan {
  const plan = new Plan();
  const start = o.start !== false;
  const services = withDependencies(p, o.services, o.noDeps);
  const inPlan = new Set(services);
  const { netNodes, volNodes } = addResources(plan, p, observed, services);
  const created = new Map<string, PlanNode[]>();
  const started = new Map<string, PlanNode[]>();
  const recreated = new Set<string>();
  for (const name of services) {
    const s = p.services[name]!;
    const deps = dependenciesOf(s).filter((d) => inPlan.has(d));
    const createDeps: (PlanNode | undefined)[] = [
      ...Object.keys(s.networks ?? {}).map((k) => netNodes.get(k)),
      ...(s.volumes ?? []).map((v) => (v.source ? volNodes.get(v.source) : undefined)),
      ...deps.flatMap((d) => created.get(d) ?? []),
    ];
    // What a start of this service waits for; the condition waits are planned only when
    // something of the service is actually started.
    let startDepsMemo: (PlanNode | undefined)[] | undefined;
    const startDeps = (): (PlanNode | undefined)[] => {
      if (startDepsMemo) return startDepsMemo;
      startDepsMemo = [];
      for (const d of deps) {
        startDepsMemo.push(...(started.get(d) ?? []));
        const cond = s.depends_on?.[d]?.condition ?? 'service_started';
        if (cond !== 'service_started') {
          startDepsMemo.push(plan.add({ kind: 'WaitDependency', service: name, dependency: d, condition: cond }, `depends_on ${cond}`, started.get(d) ?? []));
        }
      }
      return startDepsMemo;
    };
    const hash = serviceHash(s);
    const image = o.images?.[name];
    const existing = observed.containers.filter((c) => c.service === name && !c.oneoff).sort((a, b) => a.number - b.number);
    const want = o.scale?.[name] ?? replicasOf(s);
    const mine: PlanNode[] = [];
    const starts: PlanNode[] = [];
    const timeout = stopTimeout(p, name, o.timeout);
    for (const c of existing.slice(want)) {
      const stop = ACTIVE.has(c.state) ? plan.add({ kind: 'StopContainer', service: name, container: c, timeout }, 'scale down') : undefined;
      plan.add({ kind: 'RemoveContainer', service: name, container: c }, 'scale down', [stop]);
    }
    // A container sharing a namespace or volumes of a recreated one (or, in the v1 layout, linked
    // to it) would keep a stale reference: recreate it too.
    const parents = [s.network_mode, s.ipc, s.pid].filter((m) => m?.startsWith('service:')).map((m) => m!.slice('service:'.length));
    parents.push(...(s.volumes_from ?? []).filter((v) => !v.startsWith('container:')).map((v) => v.split(':')[0]!));
    if (p.legacy) parents.push(...(s.links ?? []).map((l) => l.split(':')[0]!));
    const parentRecreated = parents.some((x) => recreated.has(x));
    for (const c of existing.slice(0, want)) {
      let cause: string | undefined;
      if (o.recreate === 'force') cause = 'forced';
      else if (o.recreate !== 'never') {
        if (parentRecreated) cause = 'dependency recreated';
        else if (c.hash !== hash) cause = 'config changed';
        else if (image && c.imageId && c.imageId !== image) cause = 'image changed';
      }
      if (cause) {
        recreated.add(name);
        const create = plan.add({ kind: 'CreateContainer', service: name, number: c.number, name: `${c.id.slice(0, 12)}_${c.name}`, inherit: c, replaces: c }, cause, createDeps);
        const stop = ACTIVE.has(c.state) ? plan.add({ kind: 'StopContainer', service: name, container: c, timeout }, 'replaced', [create]) : undefined;
        const rm = plan.add({ kind: 'RemoveContainer', service: name, container: c }, 'replaced', [stop ?? create]);
        const rename = plan.add({ kind: 'RenameContainer', service: name, created: create.id, name: c.name }, 'replaced', [rm]);
        mine.push(rename);
        if (start) starts.push(plan.add({ kind: 'StartContainer', service: name, name: c.name, created: create.id }, 'recreated', [rename, ...startDeps()]));
      } else if (start && (c.state === 'created' || c.state === 'exited' || c.state === 'dead')) {
        starts.push(plan.add({ kind: 'StartContainer', service: name, name: c.name, container: c }, c.state, startDeps()));
      }
    }
    let next = Math.max(0, ...existing.map((c) => c.number)) + 1;
    for (let i = existing.length; i < want; i++) {
      const n = next++;
      const cname = containerName(p.name, s, n);
      const create = plan.add({ kind: 'CreateContainer', service: name, number: n, name: cname }, i === 0 ? 'not found' : 'scale up', createDeps);
      mine.push(create);
      if (start) starts.push(plan.add({ kind: 'StartContainer', service: name, name: cname, created: create.id }, 'created', [create, ...startDeps()]));
    }
    created.set(name, mine);
    started.set(name, starts);
  }
  const known = new Set([...Object.keys(p.services), ...Object.keys(p.disabledServices)]);
  const orphans = observed.containers.filter((c) => !c.oneoff && !known.has(c.service));
  if (o.removeOrphans) {
    for (const c of orphans) {
      const stop = ACTIVE.has(c.state) ? plan.add({ kind: 'StopContainer', service: c.service, container: c, timeout: o.timeout }, 'orphan') : undefined;
      plan.add({ kind: 'RemoveContainer', service: c.service, container: c }, 'orphan', [stop]);
    }
  }
  return { plan, orphans: o.removeOrphans ? [] : orphans };
}

export type DownPlanOptions = {
  /** Only these services' containers (then networks and volumes stay). */
  services?: string[];
  removeOrphans?: boolean;
  /** Remove named volumes (-v). */
  volumes?: boolean;
  timeout?: number;
};

/**
 * Plans `down`: containers stopped dependents first, removed, then the project's networks (and
 * volumes with -v). Without a project (down -p name) every container of the project goes.
 */
export function planDown(p: Project | string, observed: Observed, o: DownPlanOptions = {}): { plan: Plan; orphans: ObservedContainer[] } {
  const plan = new Plan();
  const name = typeof p === 'string' ? p : p.name;
  const project = typeof p === 'string' ? undefined : p;
  const known = project ? new Set([...Object.keys(project.services), ...Object.keys(project.disabledServices)]) : undefined;
  const isOrphan = (c: ObservedContainer) => !!known && !c.oneoff && !known.has(c.service);
  const orphans = observed.containers.filter(isOrphan);
  const only = o.services?.length ? new Set(o.services) : undefined;
  const victims = observed.containers.filter((c) => (!isOrphan(c) || o.removeOrphans) && (!only || only.has(c.service)));
  // Dependents stop before their dependencies: walk the dependency order backwards.
  const order = project ? serviceOrder(project.services) : [];
  const rank = (svc: string) => {
    const i = order.indexOf(svc);
    return i < 0 ? order.length : i;
  };
  const stops = new Map<string, PlanNode[]>();
  const removes: PlanNode[] = [];
  const bySvc = [...new Set(victims.map((c) => c.service))].sort((a, b) => rank(b) - rank(a) || (a < b ? -1 : 1));
  for (const svc of bySvc) {
    const dependents = project ? Object.values(project.services).filter((s) => dependenciesOf(s).includes(svc)).map((s) => s.name) : [];
    const after = dependents.flatMap((d) => stops.get(d) ?? []);
    const mine: PlanNode[] = [];
    for (const c of victims.filter((x) => x.service === svc)) {
      const stop = ACTIVE.has(c.state) ? plan.add({ kind: 'StopContainer', service: svc, container: c, timeout: project ? stopTimeout(project, svc, o.timeout) : o.timeout }, 'down', after) : undefined;
      if (stop) mine.push(stop);
      removes.push(plan.add({ kind: 'RemoveContainer', service: svc, container: c }, 'down', stop ? [stop] : after));
    }
    stops.set(svc, mine);
  }
  if (only) return { plan, orphans: [] };
  const external = new Set(project ? Object.values(project.networks).filter((n) => n.external).map((n) => n.name) : []);
  const nets = [...observed.networks.values()].filter((n) => (n.Labels ?? {})['com.docker.compose.project'] === name && !external.has(n.Name));
  for (const n of nets.sort((a, b) => (a.Name < b.Name ? -1 : 1))) plan.add({ kind: 'RemoveNetwork', name: n.Name }, 'down', removes);
  if (o.volumes) {
    const extVols = new Set(project ? Object.values(project.volumes).filter((v) => v.external).map((v) => v.name) : []);
    const vols = [...observed.volumes.values()].filter((v) => (v.Labels ?? {})['com.docker.compose.project'] === name && !extVols.has(v.Name));
    for (const v of vols.sort((a, b) => (a.Name < b.Name ? -1 : 1))) plan.add({ kind: 'RemoveVolume', name: v.Name }, 'down -v', removes);
  }
  return { plan, orphans: o.removeOrphans ? [] : orphans };
}
