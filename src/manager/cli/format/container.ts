// `ps` output: docker's ContainerContext fields (ID, Names, Image, Command, CreatedAt, RunningFor,
// Ports, State, Status, Size, Labels, Label, Mounts, LocalVolumes, Networks, Platform) and formats.
import { goQuote } from '../go-strconv';
import { GoStruct } from '../template/values';
import { humanDuration, humanSizeWithPrecision } from '../units';
import { familiarString, parseNormalized } from '../../images/reference';
import { DEFAULT_QUIET, ellipsis, goTimeString, joinLabels, RAW, TABLE, truncateId } from './formatter';

export type Port = { IP?: string; PrivatePort: number; PublicPort?: number; Type: string };

export type ContainerSummary = {
  Id: string;
  Names?: string[] | null;
  Image?: string;
  ImageID?: string;
  Command?: string;
  Created?: number;
  Ports?: Port[] | null;
  SizeRw?: number;
  SizeRootFs?: number;
  Labels?: Record<string, string> | null;
  State?: string;
  Status?: string;
  Mounts?: { Name?: string; Source?: string; Driver?: string }[] | null;
  NetworkSettings?: { Networks?: Record<string, unknown> | null } | null;
  ImageManifestDescriptor?: { platform?: { os?: string; architecture?: string; variant?: string } } | null;
};

export const CONTAINER_HEADER: Record<string, string> = {
  ID: 'CONTAINER ID',
  Names: 'NAMES',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
  Platform: 'PLATFORM',
};

const DEFAULT_TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

export function containerFormat(source: string, quiet: boolean, size: boolean): string {
  if (source === TABLE || source === '') {
    if (quiet) return DEFAULT_QUIET;
    return DEFAULT_TABLE + (size ? '\\t{{.Size}}' : '');
  }
  if (source === RAW) {
    if (quiet) return 'container_id: {{.ID}}';
    return (
      'container_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\ncreated_at: {{.CreatedAt}}\nstate: {{- pad .State 1 0}}\nstatus: {{- pad .Status 1 0}}\nnames: {{.Names}}\nlabels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\n' +
      (size ? 'size: {{.Size}}\\n' : '')
    );
  }
  return quiet ? DEFAULT_QUIET : source;
}

export class ContainerContext extends GoStruct {
  /** Set when a template reads .Size (ps then asks the engine for sizes). */
  sizeUsed = false;
  constructor(
    private readonly c: ContainerSummary = { Id: '' },
    private readonly trunc = false,
    private readonly now = Date.now(),
  ) {
    super();
  }
  goType(): string {
    return '*formatter.ContainerContext';
  }
  get ID(): string {
    return this.trunc ? truncateId(this.c.Id) : this.c.Id;
  }
  get Names(): string {
    let names = (this.c.Names ?? []).map((n) => n.slice(1));
    if (this.trunc) {
      const plain = names.find((n) => n.split('/').length === 1);
      if (plain !== undefined) names = [plain];
    }
    return names.join(',');
  }
  get Image(): string {
    const img = this.c.Image ?? '';
    if (img === '') return '<no image>';
    if (this.trunc) {
      const t = truncateId(this.c.ImageID ?? '');
      if (t === truncateId(img)) return t;
      try {
        const ref = parseNormalized(img);
        return familiarString({ domain: ref.domain, path: ref.path, ...(ref.tag !== undefined ? { tag: ref.tag } : {}) });
      } catch {
        /* not a reference: as is */
      }
    }
    return img;
  }
  get Command(): string {
    const cmd = this.c.Command ?? '';
    return goQuote(this.trunc ? ellipsis(cmd, 20) : cmd);
  }
  get CreatedAt(): string {
    return goTimeString((this.c.Created ?? 0) * 1000);
  }
  get RunningFor(): string {
    return `${humanDuration(this.now - (this.c.Created ?? 0) * 1000)} ago`;
  }
  get Ports(): string {
    return displayablePorts(this.c.Ports ?? []);
  }
  get State(): string {
    return this.c.State ?? '';
  }
  get Status(): string {
    return this.c.Status ?? '';
  }
  get Size(): string {
    this.sizeUsed = true;
    const srw = humanSizeWithPrecision(this.c.SizeRw ?? 0, 3);
    const sv = humanSizeWithPrecision(this.c.SizeRootFs ?? 0, 3);
    return (this.c.SizeRootFs ?? 0) > 0 ? `${srw} (virtual ${sv})` : srw;
  }
  get Labels(): string {
    return joinLabels(this.c.Labels);
  }
  Label(name: string): string {
    return this.c.Labels?.[name] ?? '';
  }
  get Mounts(): string {
    return (this.c.Mounts ?? [])
      .map((m) => {
        const n = m.Name ? m.Name : (m.Source ?? '');
        return this.trunc ? ellipsis(n, 15) : n;
      })
      .join(',');
  }
  get LocalVolumes(): string {
    return String((this.c.Mounts ?? []).filter((m) => m.Driver === 'local').length);
  }
  get Networks(): string {
    if (!this.c.NetworkSettings) return '';
    return Object.keys(this.c.NetworkSettings.Networks ?? {}).join(',');
  }
  get Platform(): unknown {
    const p = this.c.ImageManifestDescriptor?.platform;
    if (!p) return null;
    return `${p.os ?? 'unknown'}/${p.architecture ?? 'unknown'}${p.variant ? `/${p.variant}` : ''}`;
  }
}

function comparePorts(a: Port, b: Port): number {
  if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort;
  if ((a.IP ?? '') !== (b.IP ?? '')) return (a.IP ?? '') < (b.IP ?? '') ? -1 : 1;
  if ((a.PublicPort ?? 0) !== (b.PublicPort ?? 0)) return (a.PublicPort ?? 0) - (b.PublicPort ?? 0);
  return a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0;
}

function joinHostPort(ip: string, port: string): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function formGroup(key: string, start: number, last: number): string {
  const parts = key.split('/');
  let type = parts[0]!;
  let ip = '';
  if (parts.length > 1) {
    ip = parts[0]!;
    type = parts[1]!;
  }
  let group = String(start);
  if (start !== last) group = `${group}-${last}`;
  if (ip) group = `${joinHostPort(ip, group)}->${group}`;
  return `${group}/${type}`;
}

/** formatter.DisplayablePorts: "0.0.0.0:8080->80/tcp, 443/tcp", consecutive ports grouped. */
export function displayablePorts(ports: Port[]): string {
  const groups = new Map<string, { first: number; last: number }>();
  const keys: string[] = [];
  const result: string[] = [];
  const hostMappings: string[] = [];
  for (const p of [...ports].sort(comparePorts)) {
    const cur = p.PrivatePort;
    let key = p.Type;
    if (p.IP) {
      if ((p.PublicPort ?? 0) !== cur) {
        hostMappings.push(`${joinHostPort(p.IP, String(p.PublicPort ?? 0))}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) {
      groups.set(key, { first: cur, last: cur });
      keys.push(key);
      continue;
    }
    if (cur === g.last + 1) {
      g.last = cur;
      continue;
    }
    result.push(formGroup(key, g.first, g.last));
    groups.set(key, { first: cur, last: cur });
  }
  for (const k of keys) {
    const g = groups.get(k)!;
    result.push(formGroup(k, g.first, g.last));
  }
  return [...result, ...hostMappings].join(', ');
}
