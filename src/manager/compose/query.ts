// Read-only views of projects, in compose v2's output shapes: ps (table, -q, --services, json),
// ls, port, top, images, events. Returns text; commands print it.
import { formatTable } from '../../util/table';
import { RuntimeError } from '../../errors/index';
import type { ContainerSummary, Engine, EngineEvent } from './engine';
import * as L from './labels';
import { canonicalName, projectContainers, toObserved, type ObservedContainer } from './observe';

/** go-units HumanDuration, as docker prints CREATED ("2 seconds ago"). */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, seconds);
  const h = s / 3600;
  if (s < 1) return 'Less than a second';
  if (s < 2) return '1 second';
  if (s < 60) return `${Math.floor(s)} seconds`;
  if (s / 60 < 2) return 'About a minute';
  if (s / 60 < 60) return `${Math.floor(s / 60)} minutes`;
  if (h < 2) return 'About an hour';
  if (h < 48) return `${Math.floor(h)} hours`;
  if (h < 24 * 14) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 60) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 730) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}

/** docker ps's PORTS column: "0.0.0.0:49153->80/tcp, 443/tcp". */
export function formatPorts(ports: ContainerSummary['Ports']): string {
  const seen = new Set<string>();
  const out: string[] = [];
  const sorted = [...ports].sort((a, b) => a.PrivatePort - b.PrivatePort || ((a.IP ?? '') < (b.IP ?? '') ? -1 : (a.IP ?? '') > (b.IP ?? '') ? 1 : 0));
  for (const p of sorted) {
    const ip = p.IP && p.IP.includes(':') ? `[${p.IP}]` : p.IP;
    const s = p.PublicPort ? `${ip ?? ''}:${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`;
    if (!seen.has(s)) out.push(s);
    seen.add(s);
  }
  return out.join(', ');
}

function quoteCommand(cmd: string): string {
  const c = cmd.length > 20 ? `${cmd.slice(0, 19)}…` : cmd;
  return JSON.stringify(c);
}

export type PsOptions = { services?: string[]; all?: boolean; status?: string[]; format?: 'table' | 'json'; quiet?: boolean; listServices?: boolean; now?: number };

export async function psContainers(engine: Engine, project: string, o: PsOptions = {}): Promise<ObservedContainer[]> {
  const cs = await projectContainers(engine, project, { services: o.services, oneoff: true });
  return cs.filter((c) => (o.status?.length ? o.status.includes(c.state) : o.all || c.state === 'running' || c.state === 'paused' || c.state === 'restarting'));
}

function psJson(c: ObservedContainer, project: string, now: number): Record<string, unknown> {
  const s = c.summary;
  return {
    Command: JSON.stringify(s.Command),
    CreatedAt: new Date(s.Created * 1000).toISOString(),
    ExitCode: Number(/Exited \((\d+)\)/.exec(s.Status)?.[1] ?? 0),
    Health: /\((healthy|unhealthy|health: starting)\)/.exec(s.Status)?.[1]?.replace('health: ', '') ?? '',
    ID: c.id,
    Image: s.Image,
    Labels: Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(','),
    LocalVolumes: String(c.mounts.filter((m) => m.Type === 'volume').length),
    Mounts: c.mounts.map((m) => m.Name ?? m.Source).join(','),
    Name: c.name,
    Names: c.name,
    Networks: Object.keys(s.NetworkSettings?.Networks ?? {}).join(','),
    Ports: formatPorts(s.Ports),
    Project: project,
    Publishers: s.Ports.map((p) => ({ URL: p.IP ?? '', TargetPort: p.PrivatePort, PublishedPort: p.PublicPort ?? 0, Protocol: p.Type })),
    RunningFor: `${humanDuration(now / 1000 - s.Created)} ago`,
    Service: c.service,
    Size: '0B',
    State: c.state,
    Status: s.Status,
  };
}

/** `compose ps` output. */
export async function ps(engine: Engine, project: string, o: PsOptions = {}): Promise<string> {
  const now = o.now ?? Date.now();
  const cs = await psContainers(engine, project, o);
  if (o.listServices) return [...new Set(cs.map((c) => c.service))].map((s) => `${s}\n`).join('');
  if (o.quiet) return cs.map((c) => `${c.id}\n`).join('');
  if (o.format === 'json') return cs.map((c) => `${JSON.stringify(psJson(c, project, now))}\n`).join('');
  const rows = [['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS']];
  for (const c of cs) {
    rows.push([c.name, c.summary.Image, quoteCommand(c.summary.Command), c.service, `${humanDuration(now / 1000 - c.created)} ago`, c.status, formatPorts(c.summary.Ports)]);
  }
  return formatTable(rows, 10, 3);
}

/** `compose ls`: projects found by the project label, with their states and files. */
export async function ls(engine: Engine, o: { all?: boolean; quiet?: boolean; format?: 'table' | 'json'; filter?: string } = {}): Promise<string> {
  const cs = (await engine.listContainers({ label: [L.PROJECT] }, true)).map(toObserved);
  const projects = new Map<string, ObservedContainer[]>();
  for (const c of cs) {
    const p = c.labels[L.PROJECT]!;
    (projects.get(p) ?? projects.set(p, []).get(p)!).push(c);
  }
  const rows: { Name: string; Status: string; ConfigFiles: string }[] = [];
  for (const [name, list] of [...projects].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!o.all && !list.some((c) => c.state === 'running')) continue;
    if (o.filter && !name.includes(o.filter.replace(/^name=/, ''))) continue;
    const counts = new Map<string, number>();
    for (const c of list) counts.set(c.state, (counts.get(c.state) ?? 0) + 1);
    const status = [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([s, n]) => `${s}(${n})`).join(', ');
    const files = [...new Set(list.map((c) => c.labels[L.CONFIG_FILES] ?? '').filter(Boolean))].join(',');
    rows.push({ Name: name, Status: status, ConfigFiles: files });
  }
  if (o.quiet) return rows.map((r) => `${r.Name}\n`).join('');
  if (o.format === 'json') return `${JSON.stringify(rows)}\n`;
  return formatTable([['NAME', 'STATUS', 'CONFIG FILES'], ...rows.map((r) => [r.Name, r.Status, r.ConfigFiles])], 10, 3);
}

async function serviceContainer(engine: Engine, project: string, service: string, index = 1): Promise<ObservedContainer> {
  const cs = await projectContainers(engine, project, { services: [service] });
  const c = cs.find((x) => x.number === index) ?? (index === 1 ? cs[0] : undefined);
  if (!c) throw new RuntimeError('NotFound', `service "${service}" is not running container #${index}`);
  return c;
}

/** `compose port SERVICE PRIVATE_PORT`: the published address. */
export async function port(engine: Engine, project: string, service: string, privatePort: number, o: { protocol?: string; index?: number } = {}): Promise<string> {
  const c = await serviceContainer(engine, project, service, o.index);
  const info = await engine.inspectContainer(c.id);
  const b = info.NetworkSettings.Ports?.[`${privatePort}/${o.protocol ?? 'tcp'}`]?.[0];
  if (!b) throw new RuntimeError('NotFound', `no port ${privatePort}/${o.protocol ?? 'tcp'} for container ${c.name}: ${formatPorts(c.summary.Ports) || 'no ports published'}`);
  return `${b.HostIp || '0.0.0.0'}:${b.HostPort}\n`;
}

/** `compose top`: each running container's processes. */
export async function top(engine: Engine, project: string, services?: string[]): Promise<string> {
  const cs = (await projectContainers(engine, project, { services })).filter((c) => c.state === 'running');
  let out = '';
  for (const c of cs) {
    const t = await engine.top(c.id);
    out += `${c.name}\n${formatTable([t.Titles, ...t.Processes], 0, 3)}\n`;
  }
  return out;
}

/** `compose images`: the image each container runs. */
export async function images(engine: Engine, project: string, o: { services?: string[]; quiet?: boolean; format?: 'table' | 'json' } = {}): Promise<string> {
  const cs = await projectContainers(engine, project, { services: o.services });
  const rows: { ContainerName: string; Repository: string; Tag: string; ID: string; Size: number }[] = [];
  for (const c of cs) {
    const img = await engine.inspectImage(c.imageId);
    const tagged = img?.RepoTags?.find((t) => t === c.image || t === `${c.image}:latest`) ?? img?.RepoTags?.[0] ?? '<none>:<none>';
    const i = tagged.lastIndexOf(':');
    rows.push({ ContainerName: c.name, Repository: tagged.slice(0, i), Tag: tagged.slice(i + 1), ID: c.imageId, Size: img?.Size ?? 0 });
  }
  if (o.quiet) return [...new Set(rows.map((r) => r.ID))].map((id) => `${id}\n`).join('');
  if (o.format === 'json') return `${JSON.stringify(rows)}\n`;
  const size = (n: number) => {
    const u = ['B', 'kB', 'MB', 'GB', 'TB'];
    let i = 0;
    let v = n;
    while (v >= 1000 && i < u.length - 1) (v /= 1000), i++;
    return `${Number(v.toPrecision(3))}${u[i]}`;
  };
  return formatTable([['CONTAINER', 'REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE'], ...rows.map((r) => [r.ContainerName, r.Repository, r.Tag, r.ID.replace(/^sha256:/, '').slice(0, 12), size(r.Size)])], 10, 3);
}

/** One `compose events` line (text or --json), or undefined for events of other services. */
export function formatEvent(e: EngineEvent, o: { json?: boolean; services?: string[] }): string | undefined {
  const a = e.Actor.Attributes ?? {};
  const service = a[L.SERVICE] ?? '';
  if (o.services?.length && !o.services.includes(service)) return undefined;
  const when = new Date(Math.floor(e.timeNano / 1e6));
  if (o.json) {
    return `${JSON.stringify({ time: when.toISOString(), type: e.Type, action: e.Action, id: e.Actor.ID, service, attributes: a })}\n`;
  }
  const nanos = String(e.timeNano % 1e9).padStart(9, '0').slice(0, 6);
  const stamp = `${when.toISOString().slice(0, 19).replace('T', ' ')}.${nanos}`;
  const attrs = Object.entries(a).filter(([k]) => !k.startsWith('com.docker.compose.')).sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(', ');
  return `${stamp} ${e.Type} ${e.Action} ${e.Actor.ID} (${attrs})\n`;
}

export { canonicalName };
