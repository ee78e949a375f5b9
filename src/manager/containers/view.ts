// The read side: container inspect (GET /containers/{id}/json) and ps rows (GET /containers/json)
// in Docker's shapes, and the ps filters. Pure over records.
import { RuntimeError } from '../../errors/index';
import type { ContainerRecord, PortMap } from './types';

export type ViewPaths = { containerDir: (id: string) => string; logPath: (rec: ContainerRecord) => string; execIds: (id: string) => string[] };

export function inspectContainer(rec: ContainerRecord, p: ViewPaths, size?: { rw: number; rootfs: number }): Record<string, unknown> {
  const dir = p.containerDir(rec.ID);
  const netMode = rec.HostConfig.NetworkMode;
  const ownEtc = !netMode?.startsWith('container:');
  return {
    Id: rec.ID,
    Created: rec.Created,
    Path: rec.Path,
    Args: rec.Args,
    State: { ...rec.State, ...(rec.State.Health ? {} : {}) },
    Image: rec.Image,
    ResolvConfPath: ownEtc ? `${dir}/resolv.conf` : '',
    HostnamePath: ownEtc ? `${dir}/hostname` : '',
    HostsPath: ownEtc ? `${dir}/hosts` : '',
    LogPath: rec.HostConfig.LogConfig?.Type === 'none' ? '' : p.logPath(rec),
    Name: rec.Name,
    RestartCount: rec.RestartCount,
    Driver: rec.Driver,
    Platform: rec.Platform,
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: p.execIds(rec.ID).length ? p.execIds(rec.ID) : null,
    HostConfig: rec.HostConfig,
    GraphDriver: { Name: 'overlay2', Data: null },
    ...(size ? { SizeRw: size.rw, SizeRootFs: size.rootfs } : {}),
    Mounts: rec.MountPoints.map((m) => ({
      Type: m.Type,
      ...(m.Name ? { Name: m.Name } : {}),
      Source: m.Source,
      Destination: m.Destination,
      ...(m.Driver ? { Driver: m.Driver } : {}),
      Mode: m.Mode,
      RW: m.RW,
      Propagation: m.Propagation,
    })),
    Config: rec.Config,
    NetworkSettings: { ...rec.NetworkSettings, HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0, SecondaryIPAddresses: null, SecondaryIPv6Addresses: null, EndpointID: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, IPv6Gateway: '' },
  };
}

/** "Up 5 seconds", "Exited (3) 2 minutes ago", "Created": Docker's status column. */
export function statusText(rec: ContainerRecord, now = Date.now()): string {
  const s = rec.State;
  if (s.Status === 'removing') return 'Removal In Progress';
  if (s.Dead) return 'Dead';
  if (s.Restarting) return `Restarting (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
  if (s.Running) {
    const up = `Up ${humanDuration(now - Date.parse(s.StartedAt))}`;
    const health = s.Health && s.Health.Status !== 'none' ? ` (${s.Health.Status === 'starting' ? 'health: starting' : s.Health.Status})` : '';
    return `${up}${s.Paused ? ' (Paused)' : ''}${health}`;
  }
  if (s.FinishedAt && !s.FinishedAt.startsWith('0001')) return `Exited (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
  return 'Created';
}

/** Go's units.HumanDuration, as the docker CLI prints it. */
export function humanDuration(ms: number): string {
  const s = Math.trunc(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.trunc(ms / 60000);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(ms / 3600000);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.trunc(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.trunc(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.trunc(h / 24 / 30)} months`;
  return `${Math.trunc(ms / 3600000 / 24 / 365)} years`;
}

function ports(p: PortMap, exposed: Record<string, object> | null | undefined): { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] {
  const out: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[] = [];
  const keys = new Set([...Object.keys(p ?? {}), ...Object.keys(exposed ?? {})]);
  for (const k of keys) {
    const [port, proto = 'tcp'] = k.split('/');
    const binds = p?.[k];
    if (binds && binds.length) for (const b of binds) out.push({ IP: b.HostIp || '0.0.0.0', PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: proto });
    else out.push({ PrivatePort: Number(port), Type: proto });
  }
  return out;
}

export function psRow(rec: ContainerRecord, imageName: string, size?: { rw: number; rootfs: number }): Record<string, unknown> {
  // dockerd's list: arguments containing a space are single-quoted (daemon/list.go).
  const cmd = [rec.Path, ...rec.Args.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' ');
  return {
    Id: rec.ID,
    Names: [rec.Name],
    Image: imageName,
    ImageID: rec.Image,
    Command: cmd,
    Created: Math.floor(Date.parse(rec.Created) / 1000),
    Ports: ports(rec.NetworkSettings.Ports, rec.State.Running ? undefined : rec.Config.ExposedPorts),
    Labels: rec.Config.Labels ?? {},
    State: rec.State.Status,
    Status: statusText(rec),
    HostConfig: { NetworkMode: rec.HostConfig.NetworkMode ?? 'default' },
    NetworkSettings: { Networks: rec.NetworkSettings.Networks },
    Mounts: rec.MountPoints.map((m) => ({ Type: m.Type, ...(m.Name ? { Name: m.Name } : {}), Source: m.Source, Destination: m.Destination, Driver: m.Driver ?? '', Mode: m.Mode, RW: m.RW, Propagation: m.Propagation })),
    ...(size ? { SizeRw: size.rw, SizeRootFs: size.rootfs } : {}),
  };
}

/** Docker's ps filters (id, name, label, status, exited, ancestor, before, since, volume, network, health, is-task, publish, expose). */
export function psFilter(all: ContainerRecord[], f: Map<string, string[]>, imageMatches: (rec: ContainerRecord, ref: string) => boolean): (rec: ContainerRecord) => boolean {
  const known = ['id', 'name', 'label', 'status', 'exited', 'ancestor', 'before', 'since', 'volume', 'network', 'health', 'is-task', 'publish', 'expose'];
  for (const k of f.keys()) if (!known.includes(k)) throw new RuntimeError('InvalidArgument', `invalid filter '${k}'`);
  const created = (ref: string) => {
    const r = all.find((c) => c.ID.startsWith(ref) || c.Name === `/${ref}`);
    return r ? Date.parse(r.Created) : undefined;
  };
  for (const s of f.get('status') ?? []) {
    if (!['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'].includes(s)) throw new RuntimeError('InvalidArgument', `invalid filter 'status=${s}'`);
  }
  return (rec) => {
    const any = (k: string, pred: (v: string) => boolean) => !f.get(k)?.length || f.get(k)!.some(pred);
    if (!any('id', (v) => rec.ID.startsWith(v))) return false;
    if (!any('name', (v) => new RegExp(v.replace(/^\//, '')).test(rec.Name.slice(1)))) return false;
    if (!any('status', (v) => rec.State.Status === v)) return false;
    if (!any('exited', (v) => !rec.State.Running && rec.State.Status === 'exited' && String(rec.State.ExitCode) === v)) return false;
    if (!any('ancestor', (v) => imageMatches(rec, v))) return false;
    if (!any('volume', (v) => rec.MountPoints.some((m) => m.Name === v || m.Destination === v || m.Source === v))) return false;
    if (!any('network', (v) => Object.entries(rec.NetworkSettings.Networks).some(([n, s]) => n === v || s.NetworkID?.startsWith(v)) || rec.HostConfig.NetworkMode === v)) return false;
    if (!any('health', (v) => (rec.State.Health?.Status ?? 'none') === v)) return false;
    if (!any('expose', (v) => Object.keys(rec.Config.ExposedPorts ?? {}).some((p) => p === v || p === `${v}/tcp`))) return false;
    if (!any('publish', (v) => Object.values(rec.NetworkSettings.Ports ?? {}).some((b) => b?.some((x) => x.HostPort === v.split('/')[0])))) return false;
    for (const v of f.get('label') ?? []) {
      const eq = v.indexOf('=');
      const k = eq < 0 ? v : v.slice(0, eq);
      const labels = rec.Config.Labels ?? {};
      if (!(k in labels)) return false;
      if (eq >= 0 && labels[k] !== v.slice(eq + 1)) return false;
    }
    const t = Date.parse(rec.Created);
    for (const v of f.get('before') ?? []) {
      const c = created(v);
      if (c === undefined || t >= c) return false;
    }
    for (const v of f.get('since') ?? []) {
      const c = created(v);
      if (c === undefined || t <= c) return false;
    }
    return true;
  };
}
