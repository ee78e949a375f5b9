// Semantic checks of a loaded project, the ones a schema cannot express: references to services,
// networks and volumes that do not exist, dependency cycles, profiles that leave a dependency out,
// container_name with several replicas. Each failure is one line; nothing has been created yet.
import { RuntimeError } from '../../errors/index';
import { replicasOf, type Project, type Service } from './model';

const invalid = (msg: string) => new RuntimeError('InvalidArgument', `${msg}: invalid compose project`);

function referencedService(s: Service, target: string, what: string, p: Project): void {
  if (p.services[target]) return;
  if (p.disabledServices[target]) {
    throw new RuntimeError(
      'InvalidArgument',
      `service ${JSON.stringify(target)} was pulled in as a dependency of service ${JSON.stringify(s.name)} but is not enabled by the active profiles. You may fix this by adding a common profile to ${JSON.stringify(target)} and ${JSON.stringify(s.name)}`,
    );
  }
  throw invalid(`service ${JSON.stringify(s.name)} ${what} undefined service ${JSON.stringify(target)}`);
}

/** Throws the first problem found, in a stable order (services by name). */
export function validateProject(p: Project): void {
  const names = Object.keys(p.services).sort();
  for (const n of names) {
    const s = p.services[n]!;
    if (!s.image && !s.build) throw invalid(`service ${JSON.stringify(n)} has neither an image nor a build context specified`);
    for (const l of s.links ?? []) referencedService(s, l.split(':')[0]!, 'links to', p);
    for (const v of s.volumes_from ?? []) if (!v.startsWith('container:')) referencedService(s, v.split(':')[0]!, 'takes volumes_from', p);
    for (const k of ['network_mode', 'ipc', 'pid'] as const) {
      const m = s[k];
      if (m?.startsWith('service:')) referencedService(s, m.slice('service:'.length), `uses ${k} of`, p);
    }
    for (const [d, cond] of Object.entries(s.depends_on ?? {})) {
      if (!cond.required && !p.services[d]) continue;
      referencedService(s, d, 'depends on', p);
    }
    for (const net of Object.keys(s.networks ?? {})) {
      if (!p.networks[net]) throw invalid(`service ${JSON.stringify(n)} refers to undefined network ${net}`);
    }
    if (s.network_mode && s.networks && Object.keys(s.networks).some((k) => k !== 'default')) {
      throw invalid(`service ${JSON.stringify(n)} declares mutually exclusive network_mode and networks`);
    }
    for (const v of s.volumes ?? []) {
      if (v.type === 'volume' && v.source && !p.volumes[v.source] && !p.legacy) throw invalid(`service ${JSON.stringify(n)} refers to undefined volume ${v.source}`);
    }
    if (s.container_name && replicasOf(s) > 1) {
      throw invalid(`services.${n}: can't set container_name and ${n} as container name must be unique`);
    }
  }
  checkCycles(p.services);
}

/** Depth-first search over depends_on; reports the cycle as compose does (a -> b -> a). */
export function checkCycles(services: Record<string, Service>): void {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string) => {
    const st = state.get(n);
    if (st === 'done') return;
    if (st === 'visiting') {
      const from = stack.indexOf(n);
      throw new RuntimeError('InvalidArgument', `dependency cycle detected: ${[...stack.slice(from), n].join(' -> ')}`);
    }
    state.set(n, 'visiting');
    stack.push(n);
    for (const d of Object.keys(services[n]?.depends_on ?? {}).sort()) if (services[d]) visit(d);
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of Object.keys(services).sort()) visit(n);
}
