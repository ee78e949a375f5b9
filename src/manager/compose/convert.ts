// Service → Engine API bodies, as docker compose v2 builds them (pkg/compose/create.go): container
// create (Config + HostConfig + NetworkingConfig, compose labels), network create and volume create.
// Pure: whatever needs the engine (links, volumes_from, service: modes) comes in through ctx.
import { compareVersions } from '../api/client';
import { serviceHash } from './hash';
import * as L from './labels';
import type { Network, Project, Service, Volume, VolumeMount } from './model';
import type { ObservedContainer } from './observe';
import { parseBytes, parseDuration } from './syntax';

export type CreateContext = {
  project: Project;
  service: Service;
  /** Replica number; 0 for a one-off container. */
  number: number;
  /** The container's name. */
  name: string;
  apiVersion: string;
  /** "container:alias" links resolved against existing containers. */
  links: string[];
  /** Resolves a service name to the name (or id) of its first container (volumes_from, service: modes). */
  containerOf: (service: string) => string;
  /** Previous container, whose anonymous volumes the new one takes over. */
  inherit?: ObservedContainer;
  /** Image ID, recorded in com.docker.compose.image. */
  imageId?: string;
  /** Network aliases (service name and declared aliases); off for `run` without --use-aliases. */
  useAliases: boolean;
  oneoff?: { slug: string };
  /** Name of the container this one replaces (com.docker.compose.replace). */
  replaces?: string;
  autoRemove?: boolean;
  /** `run`'s overrides. */
  attachStdin?: boolean;
  publishPorts?: boolean;
};

export type CreateRequest = {
  name: string;
  body: Record<string, unknown>;
  platform?: string;
  /** Networks beyond the first, connected after create when the engine is older than API 1.44. */
  connectAfter: { network: string; endpoint: Record<string, unknown> }[];
};

/** compose's default container name: <project>-<service>-<n>. */
export function containerName(project: string, s: Service, n: number): string {
  return s.container_name ?? `${project}-${s.name}-${n}`;
}

/** The image a service runs: image:, else <project>-<service> (what build tags). */
export function imageName(project: string, s: Service): string {
  return s.image ?? `${project}-${s.name}`;
}

/** Service networks ordered as compose-go's NetworksByPriority: priority desc, then name. */
export function networksByPriority(s: Service): string[] {
  const n = s.networks ?? {};
  return Object.keys(n).sort((a, b) => (n[b]?.priority ?? 0) - (n[a]?.priority ?? 0) || (a < b ? -1 : a > b ? 1 : 0));
}

function env(e: Record<string, string | null> | undefined): string[] {
  return Object.entries(e ?? {}).map(([k, v]) => (v === null ? k : `${k}=${v}`));
}

function portKey(target: number | string, proto: string): string {
  return `${target}/${proto}`;
}

function exposedPorts(s: Service): Record<string, object> {
  const out: Record<string, object> = {};
  for (const p of s.ports ?? []) out[portKey(p.target, p.protocol)] = {};
  for (const e of s.expose ?? []) {
    const [r, proto = 'tcp'] = e.split('/');
    const [a, b = a] = r!.split('-').map(Number);
    for (let i = a!; i <= b!; i++) out[portKey(i, proto)] = {};
  }
  return out;
}

function portBindings(s: Service): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of s.ports ?? []) (out[portKey(p.target, p.protocol)] ??= []).push({ HostIp: p.host_ip ?? '', HostPort: p.published ?? '' });
  return out;
}

function bindString(source: string, v: VolumeMount): string {
  const opts = [v.read_only ? 'ro' : 'rw'];
  if (v.bind?.selinux) opts.push(v.bind.selinux);
  if (v.bind?.propagation) opts.push(v.bind.propagation);
  if (v.volume?.nocopy) opts.push('nocopy');
  return `${source}:${v.target}:${opts.join(',')}`;
}

/** Binds (host paths, named volumes) and Mounts (anonymous volumes, tmpfs), as compose splits them. */
function volumes(ctx: CreateContext): { binds: string[]; mounts: Record<string, unknown>[] } {
  const binds: string[] = [];
  const mounts: Record<string, unknown>[] = [];
  for (const v of ctx.service.volumes ?? []) {
    if (v.type === 'bind' && v.source) binds.push(bindString(v.source, v));
    else if (v.type === 'volume' && v.source) binds.push(bindString(ctx.project.volumes[v.source]?.name ?? v.source, v));
    else if (v.type === 'volume') {
      // Anonymous: keep the previous container's volume, so data survives a recreate.
      const prev = ctx.inherit?.mounts.find((m) => m.Type === 'volume' && m.Destination === v.target && m.Name);
      mounts.push({ Type: 'volume', Source: prev?.Name ?? '', Target: v.target, ReadOnly: !!v.read_only, ...(v.volume?.nocopy ? { VolumeOptions: { NoCopy: true } } : {}) });
    } else if (v.type === 'tmpfs') {
      mounts.push({ Type: 'tmpfs', Target: v.target, ReadOnly: !!v.read_only, ...(v.tmpfs ? { TmpfsOptions: { SizeBytes: v.tmpfs.size, Mode: v.tmpfs.mode } } : {}) });
    }
  }
  return { binds, mounts };
}

function restartPolicy(s: Service): { Name: string; MaximumRetryCount: number } | undefined {
  const map = (c: string) => (c === 'none' || c === 'no' ? 'no' : c === 'any' ? 'always' : c);
  if (s.deploy?.restart_policy?.condition) return { Name: map(s.deploy.restart_policy.condition), MaximumRetryCount: s.deploy.restart_policy.max_attempts ?? 0 };
  if (!s.restart) return undefined;
  const [name, n] = s.restart.split(':');
  return { Name: map(name!), MaximumRetryCount: n ? Number(n) : 0 };
}

function healthcheck(s: Service): Record<string, unknown> | undefined {
  const h = s.healthcheck;
  if (!h) return undefined;
  if (h.disable) return { Test: ['NONE'] };
  const out: Record<string, unknown> = {};
  if (h.test) out.Test = h.test;
  if (h.interval) out.Interval = parseDuration(h.interval);
  if (h.timeout) out.Timeout = parseDuration(h.timeout);
  if (h.start_period) out.StartPeriod = parseDuration(h.start_period);
  if (h.start_interval) out.StartInterval = parseDuration(h.start_interval);
  if (h.retries !== undefined) out.Retries = h.retries;
  return out;
}

/** service:x (network_mode, ipc, pid) → container:<first container of x>. */
function mode(m: string | undefined, ctx: CreateContext): string | undefined {
  if (!m) return undefined;
  return m.startsWith('service:') ? `container:${ctx.containerOf(m.slice('service:'.length))}` : m;
}

function resources(s: Service): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  const lim = (s.deploy?.resources?.limits ?? {}) as Record<string, unknown>;
  const res = (s.deploy?.resources?.reservations ?? {}) as Record<string, unknown>;
  const mem = s.mem_limit ?? (lim.memory as string | undefined);
  if (mem !== undefined) r.Memory = parseBytes(mem);
  if (s.memswap_limit !== undefined) r.MemorySwap = s.memswap_limit === -1 ? -1 : parseBytes(s.memswap_limit);
  const memRes = s.mem_reservation ?? (res.memory as string | undefined);
  if (memRes !== undefined) r.MemoryReservation = parseBytes(memRes);
  const cpus = s.cpus ?? (lim.cpus as string | number | undefined);
  if (cpus !== undefined) r.NanoCpus = Math.round(Number(cpus) * 1e9);
  if (s.cpu_shares !== undefined) r.CpuShares = s.cpu_shares;
  const pids = s.pids_limit ?? (lim.pids as number | undefined);
  if (pids !== undefined) r.PidsLimit = pids;
  if (s.ulimits) r.Ulimits = Object.entries(s.ulimits).map(([Name, u]) => (typeof u === 'number' ? { Name, Soft: u, Hard: u } : { Name, Soft: u.soft, Hard: u.hard }));
  if (s.devices) {
    r.Devices = s.devices.map((d) => {
      const [PathOnHost, PathInContainer = PathOnHost, CgroupPermissions = 'rwm'] = d.split(':');
      return { PathOnHost, PathInContainer, CgroupPermissions };
    });
  }
  if (s.cgroup_parent) r.CgroupParent = s.cgroup_parent;
  return r;
}

function endpoint(ctx: CreateContext, key: string): Record<string, unknown> {
  const cfg = ctx.service.networks?.[key] ?? null;
  const aliases = [ctx.name];
  if (ctx.useAliases) aliases.push(ctx.service.name, ...(cfg?.aliases ?? []));
  const ep: Record<string, unknown> = { Aliases: aliases };
  if (ctx.links.length) ep.Links = ctx.links;
  if (cfg?.ipv4_address || cfg?.ipv6_address) ep.IPAMConfig = { IPv4Address: cfg.ipv4_address ?? '', IPv6Address: cfg.ipv6_address ?? '' };
  return ep;
}

/** The labels of a service container (service labels first, compose's own over them). */
export function containerLabels(ctx: CreateContext): Record<string, string> {
  const { project: p, service: s } = ctx;
  const labels: Record<string, string> = { ...(s.labels ?? {}) };
  labels[L.PROJECT] = p.name;
  labels[L.SERVICE] = s.name;
  labels[L.VERSION] = L.COMPOSE_VERSION;
  labels[L.ONEOFF] = ctx.oneoff ? 'True' : 'False';
  labels[L.WORKING_DIR] = p.workingDir;
  labels[L.CONFIG_FILES] = p.configFiles.join(',');
  if (p.envFiles.length) labels[L.ENVIRONMENT_FILE] = p.envFiles.join(',');
  labels[L.CONFIG_HASH] = serviceHash(s);
  if (ctx.number > 0) labels[L.CONTAINER_NUMBER] = String(ctx.number);
  labels[L.DEPENDS_ON] = Object.entries(s.depends_on ?? {}).map(([d, c]) => `${d}:${c.condition}:${c.restart}`).join(',');
  if (ctx.imageId) labels[L.IMAGE] = ctx.imageId;
  if (ctx.oneoff) labels[L.SLUG] = ctx.oneoff.slug;
  if (ctx.replaces) labels[L.REPLACE] = ctx.replaces;
  return labels;
}

/** POST /containers/create for one replica (or a one-off container). */
export function createRequest(ctx: CreateContext): CreateRequest {
  const { project: p, service: s } = ctx;
  const stop = s.stop_grace_period ? Math.round(parseDuration(s.stop_grace_period) / 1e9) : undefined;
  const { binds, mounts } = volumes(ctx);
  const tmpfs: Record<string, string> = {};
  for (const t of s.tmpfs ?? []) {
    const i = t.indexOf(':');
    tmpfs[i < 0 ? t : t.slice(0, i)] = i < 0 ? '' : t.slice(i + 1);
  }
  const publish = ctx.publishPorts !== false;
  const host: Record<string, unknown> = {
    Binds: binds,
    Mounts: mounts.length ? mounts : undefined,
    PortBindings: publish ? portBindings(s) : {},
    Links: ctx.links.length ? ctx.links : undefined,
    VolumesFrom: (s.volumes_from ?? []).map((v) => {
      if (v.startsWith('container:')) return v.slice('container:'.length);
      const [svc, m] = v.split(':');
      return m ? `${ctx.containerOf(svc!)}:${m}` : ctx.containerOf(svc!);
    }),
    RestartPolicy: restartPolicy(s),
    CapAdd: s.cap_add,
    CapDrop: s.cap_drop,
    Privileged: s.privileged ?? false,
    ReadonlyRootfs: s.read_only ?? false,
    Init: s.init,
    Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
    Sysctls: s.sysctls,
    ExtraHosts: s.extra_hosts,
    Dns: s.dns,
    DnsSearch: s.dns_search,
    DnsOptions: s.dns_opt,
    LogConfig: s.logging ? { Type: s.logging.driver ?? '', Config: s.logging.options ?? {} } : undefined,
    SecurityOpt: s.security_opt,
    GroupAdd: s.group_add,
    IpcMode: mode(s.ipc, ctx),
    PidMode: mode(s.pid, ctx),
    ShmSize: s.shm_size !== undefined ? parseBytes(s.shm_size) : undefined,
    OomScoreAdj: s.oom_score_adj,
    Runtime: s.runtime,
    UsernsMode: s.userns_mode,
    AutoRemove: ctx.autoRemove ?? false,
    ...resources(s),
  };
  const config: Record<string, unknown> = {
    Image: imageName(p.name, s),
    Hostname: s.hostname,
    Domainname: s.domainname,
    User: s.user,
    WorkingDir: s.working_dir,
    Env: env(s.environment),
    Cmd: s.command ?? undefined,
    Entrypoint: s.entrypoint ?? undefined,
    Tty: s.tty ?? false,
    OpenStdin: s.stdin_open ?? false,
    StdinOnce: !!ctx.attachStdin && !!s.stdin_open,
    AttachStdin: !!ctx.attachStdin,
    AttachStdout: true,
    AttachStderr: true,
    ExposedPorts: exposedPorts(s),
    Labels: containerLabels(ctx),
    StopSignal: s.stop_signal,
    StopTimeout: stop,
    Healthcheck: healthcheck(s),
    MacAddress: s.mac_address,
  };
  const connectAfter: CreateRequest['connectAfter'] = [];
  let networking: Record<string, unknown> | undefined;
  if (s.network_mode) host.NetworkMode = mode(s.network_mode, ctx);
  else {
    const keys = networksByPriority(s);
    const nets = keys.map((k) => ({ name: (p.networks[k] as Network).name, endpoint: endpoint(ctx, k) }));
    if (nets.length === 0) host.NetworkMode = 'none';
    else {
      host.NetworkMode = nets[0]!.name;
      const all = compareVersions(ctx.apiVersion, '1.44') >= 0;
      const eps: Record<string, unknown> = {};
      for (const [i, n] of nets.entries()) {
        if (i === 0 || all) eps[n.name] = n.endpoint;
        else connectAfter.push({ network: n.name, endpoint: n.endpoint });
      }
      networking = { EndpointsConfig: eps };
    }
  }
  const body: Record<string, unknown> = { ...config, HostConfig: host };
  if (networking) body.NetworkingConfig = networking;
  return { name: ctx.name, body: prune(body) as Record<string, unknown>, platform: s.platform, connectAfter };
}

/** Drops undefined members (the engine treats absent and zero alike; the body stays readable). */
function prune(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(prune);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = prune(x);
    return out;
  }
  return v;
}

/** POST /networks/create for a project network. */
export function networkRequest(project: string, key: string, n: Network): Record<string, unknown> {
  const body: Record<string, unknown> = {
    Name: n.name,
    CheckDuplicate: true,
    Driver: n.driver ?? 'bridge',
    Options: n.driver_opts ?? {},
    Internal: n.internal ?? false,
    Attachable: n.attachable ?? false,
    EnableIPv6: n.enable_ipv6 ?? false,
    Labels: { ...(n.labels ?? {}), [L.NETWORK]: key, [L.PROJECT]: project, [L.VERSION]: L.COMPOSE_VERSION },
  };
  if (n.ipam) {
    body.IPAM = {
      Driver: n.ipam.driver ?? 'default',
      Config: (n.ipam.config ?? []).map((c) => prune({ Subnet: c.subnet, Gateway: c.gateway, IPRange: c.ip_range, AuxiliaryAddresses: c.aux_addresses })),
      Options: n.ipam.options ?? {},
    };
  }
  return body;
}

/** POST /volumes/create for a project volume. */
export function volumeRequest(project: string, key: string, v: Volume): Record<string, unknown> {
  return {
    Name: v.name,
    Driver: v.driver ?? 'local',
    DriverOpts: v.driver_opts ?? {},
    Labels: { ...(v.labels ?? {}), [L.VOLUME]: key, [L.PROJECT]: project, [L.VERSION]: L.COMPOSE_VERSION },
  };
}
