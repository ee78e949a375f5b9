// Raw merged compose tree → the normalized model (model.ts): short syntaxes expanded, paths made
// absolute, env_file read into environment, implicit networks and dependencies added, names of
// networks and volumes resolved. Reads env files; touches nothing else.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntimeError } from '../../errors/index';
import { parseDotenv } from './dotenv';
import type { Lookup } from './interpolate';
import type { DependsOn, DependsOnCondition, Healthcheck, Network, PortConfig, Service, ServiceNetwork, Ulimit, Volume, VolumeMount } from './model';
import { absHostPath, formatDuration, parseDuration, parsePortSpec, parseVolumeSpec, shellSplit } from './syntax';

type Raw = Record<string, unknown>;

export type NormalizeContext = {
  project: string;
  workingDir: string;
  lookup: Lookup;
  legacy: boolean;
  warn: (msg: string) => void;
};

const isMap = (v: unknown): v is Raw => !!v && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : String(v));
const strList = (v: unknown): string[] | undefined => (v === undefined || v === null ? undefined : Array.isArray(v) ? v.map(str) : [str(v)]);

/** A list of KEY=VALUE (or KEY) or a mapping, as a record; bare keys get bare(key). */
export function keyValues(v: unknown, bare: (k: string) => string | null): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (Array.isArray(v)) {
    for (const e of v.map(str)) {
      const i = e.indexOf('=');
      if (i < 0) out[e] = bare(e);
      else out[e.slice(0, i)] = e.slice(i + 1);
    }
  } else if (isMap(v)) {
    for (const [k, x] of Object.entries(v)) out[k] = x === null || x === undefined ? bare(k) : str(x);
  }
  return out;
}

function labels(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(keyValues(v, () => ''))) out[k] = x ?? '';
  return out;
}

function command(v: unknown): string[] | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  return Array.isArray(v) ? v.map(str) : shellSplit(str(v));
}

function duration(v: unknown): string | undefined {
  return v === undefined || v === null ? undefined : formatDuration(parseDuration(v as string | number));
}

function readEnvFiles(v: unknown, ctx: NormalizeContext, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  for (const e of entries) {
    const p = absHostPath(isMap(e) ? str(e.path) : str(e), ctx.workingDir);
    const required = isMap(e) ? e.required !== false : true;
    let text: string;
    try {
      text = fs.readFileSync(p, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (!required && code === 'ENOENT') continue;
      const why = code === 'ENOENT' ? 'not found' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
      throw new RuntimeError('InvalidArgument', `${where}.env_file: env file ${p} ${why}`);
    }
    Object.assign(out, parseDotenv(text, ctx.lookup, p));
  }
  return out;
}

function ports(v: unknown): PortConfig[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: PortConfig[] = [];
  for (const p of v) {
    if (isMap(p)) {
      const e: PortConfig = { mode: p.mode === 'host' ? 'host' : 'ingress', target: Number(p.target), protocol: (p.protocol as PortConfig['protocol']) ?? 'tcp' };
      if (p.host_ip) e.host_ip = str(p.host_ip);
      if (p.published !== undefined && p.published !== null && p.published !== '') e.published = str(p.published);
      if (p.name) e.name = str(p.name);
      out.push(e);
    } else out.push(...parsePortSpec(p as string | number));
  }
  return out;
}

function volumes(v: unknown, ctx: NormalizeContext): VolumeMount[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.map((x): VolumeMount => {
    if (!isMap(x)) return parseVolumeSpec(str(x), ctx.workingDir);
    const type = (x.type as VolumeMount['type']) ?? 'volume';
    const m: VolumeMount = { type, target: path.posix.normalize(str(x.target)) };
    if (x.source !== undefined && x.source !== null && x.source !== '') m.source = type === 'bind' ? absHostPath(str(x.source), ctx.workingDir) : str(x.source);
    if (x.read_only) m.read_only = true;
    if (type === 'bind') m.bind = { create_host_path: true, ...(isMap(x.bind) ? (x.bind as VolumeMount['bind']) : {}) };
    if (isMap(x.volume)) m.volume = x.volume as VolumeMount['volume'];
    if (isMap(x.tmpfs)) m.tmpfs = x.tmpfs as VolumeMount['tmpfs'];
    return m;
  });
}

function healthcheck(v: unknown): Healthcheck | undefined {
  if (!isMap(v)) return undefined;
  const h: Healthcheck = {};
  if (v.test !== undefined) h.test = typeof v.test === 'string' ? ['CMD-SHELL', v.test] : (v.test as unknown[]).map(str);
  for (const k of ['interval', 'timeout', 'start_period', 'start_interval'] as const) if (v[k] !== undefined) h[k] = duration(v[k]);
  if (v.retries !== undefined) h.retries = Number(v.retries);
  if (v.disable) h.disable = true;
  return h;
}

function dependsOn(v: unknown): Record<string, DependsOn> {
  const out: Record<string, DependsOn> = {};
  if (Array.isArray(v)) for (const s of v) out[str(s)] = { condition: 'service_started', required: true, restart: false };
  else if (isMap(v)) {
    for (const [k, x] of Object.entries(v)) {
      const d = isMap(x) ? x : {};
      out[k] = { condition: (d.condition as DependsOnCondition) ?? 'service_started', required: d.required !== false, restart: d.restart === true };
    }
  }
  return out;
}

function networksOf(v: unknown): Record<string, ServiceNetwork | null> | undefined {
  if (v === undefined || v === null) return undefined;
  const out: Record<string, ServiceNetwork | null> = {};
  if (Array.isArray(v)) for (const n of v) out[str(n)] = null;
  else if (isMap(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (!isMap(x)) {
        out[k] = null;
        continue;
      }
      const n: ServiceNetwork = {};
      if (Array.isArray(x.aliases)) n.aliases = x.aliases.map(str);
      if (x.ipv4_address) n.ipv4_address = str(x.ipv4_address);
      if (x.ipv6_address) n.ipv6_address = str(x.ipv6_address);
      if (x.priority !== undefined) n.priority = Number(x.priority);
      out[k] = Object.keys(n).length ? n : null;
    }
  }
  return out;
}

function ulimits(v: unknown): Record<string, Ulimit> | undefined {
  if (!isMap(v)) return undefined;
  const out: Record<string, Ulimit> = {};
  for (const [k, x] of Object.entries(v)) out[k] = isMap(x) ? { soft: Number(x.soft), hard: Number(x.hard) } : Number(x);
  return out;
}

function extraHosts(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (isMap(v)) return Object.entries(v).flatMap(([h, ip]) => (Array.isArray(ip) ? ip.map((i) => `${h}:${str(i)}`) : [`${h}:${str(ip)}`]));
  // "host=ip" is the newer spelling of "host:ip"; IPv6 addresses keep their colons.
  return (v as unknown[]).map(str).map((e) => (e.includes('=') ? e.replace('=', ':') : e));
}

const COPY_STRINGS = ['image', 'restart', 'container_name', 'hostname', 'domainname', 'user', 'working_dir', 'stop_signal', 'network_mode', 'pull_policy', 'platform', 'ipc', 'pid', 'mac_address', 'cgroup_parent', 'runtime', 'userns_mode'] as const;
const COPY_BOOLS = ['tty', 'stdin_open', 'init', 'privileged', 'read_only'] as const;
const COPY_LISTS = ['expose', 'volumes_from', 'links', 'external_links', 'cap_add', 'cap_drop', 'tmpfs', 'dns', 'dns_search', 'dns_opt', 'profiles', 'security_opt', 'devices', 'group_add'] as const;
const COPY_AS_IS = ['shm_size', 'mem_limit', 'memswap_limit', 'mem_reservation', 'cpus', 'cpu_shares', 'oom_score_adj', 'pids_limit', 'scale'] as const;
const KNOWN = new Set<string>([...COPY_STRINGS, ...COPY_BOOLS, ...COPY_LISTS, ...COPY_AS_IS, 'build', 'command', 'entrypoint', 'environment', 'env_file', 'ports', 'volumes', 'networks', 'depends_on', 'healthcheck', 'deploy', 'labels', 'stop_grace_period', 'ulimits', 'sysctls', 'extra_hosts', 'logging']);

/** One service of the merged tree. */
export function normalizeService(name: string, raw: Raw, ctx: NormalizeContext): Service {
  const where = `services.${name}`;
  if (raw.extends !== undefined) throw new RuntimeError('NotImplemented', `${where}.extends: extends is not supported by dock compose`);
  for (const k of Object.keys(raw)) if (!KNOWN.has(k) && !k.startsWith('x-')) ctx.warn(`${where}.${k} is not supported by dock compose and is ignored`);
  const s: Service = { name };
  const out = s as Record<string, unknown>;
  for (const k of COPY_STRINGS) if (raw[k] !== undefined && raw[k] !== null) out[k] = str(raw[k]);
  for (const k of COPY_BOOLS) if (raw[k] !== undefined && raw[k] !== null) out[k] = raw[k] === true;
  for (const k of COPY_LISTS) {
    const l = strList(raw[k]);
    if (l) out[k] = l;
  }
  for (const k of COPY_AS_IS) if (raw[k] !== undefined && raw[k] !== null) out[k] = raw[k];
  if (raw.build !== undefined && raw.build !== null) {
    const b = typeof raw.build === 'string' ? { context: raw.build } : (raw.build as Raw);
    const ctxPath = str(b.context ?? '.');
    s.build = { context: /^[a-z]+:\/\/|^git@/.test(ctxPath) ? ctxPath : absHostPath(ctxPath, ctx.workingDir), dockerfile: str(b.dockerfile ?? 'Dockerfile') };
    if (b.args !== undefined) s.build.args = keyValues(b.args, (k) => ctx.lookup(k) ?? null);
    if (b.target !== undefined) s.build.target = str(b.target);
    if (b.labels !== undefined) s.build.labels = labels(b.labels);
    if (b.network !== undefined) s.build.network = str(b.network);
    if (b.cache_from !== undefined) s.build.cache_from = strList(b.cache_from);
    if (b.extra_hosts !== undefined) s.build.extra_hosts = extraHosts(b.extra_hosts);
    if (b.shm_size !== undefined) s.build.shm_size = b.shm_size as string | number;
  }
  const cmd = command(raw.command);
  if (cmd !== undefined) s.command = cmd;
  const ep = command(raw.entrypoint);
  if (ep !== undefined) s.entrypoint = ep;
  const env: Record<string, string | null> = { ...readEnvFiles(raw.env_file, ctx, where), ...keyValues(raw.environment, (k) => ctx.lookup(k) ?? null) };
  if (Object.keys(env).length) s.environment = env;
  const p = ports(raw.ports);
  if (p) s.ports = p;
  const v = volumes(raw.volumes, ctx);
  if (v) s.volumes = v;
  const nets = networksOf(raw.networks);
  if (nets && Object.keys(nets).length) s.networks = nets;
  if (ctx.legacy && !s.network_mode) s.network_mode = 'bridge';
  if (!s.network_mode && !s.networks) s.networks = { default: null };
  const deps = dependsOn(raw.depends_on);
  // Links, service: namespaces and volumes_from of a service imply a dependency (compose-go normalize).
  const implied = (svc: string, restart: boolean) => (deps[svc] ??= { condition: 'service_started', required: true, restart });
  for (const l of s.links ?? []) implied(l.split(':')[0]!, true);
  for (const k of ['network_mode', 'ipc', 'pid'] as const) if (s[k]?.startsWith('service:')) implied(s[k]!.slice('service:'.length), true);
  for (const vf of s.volumes_from ?? []) if (!vf.startsWith('container:')) implied(vf.split(':')[0]!, false);
  if (Object.keys(deps).length) s.depends_on = deps;
  const hc = healthcheck(raw.healthcheck);
  if (hc) s.healthcheck = hc;
  if (isMap(raw.deploy)) {
    const d = raw.deploy;
    s.deploy = {};
    if (d.replicas !== undefined && d.replicas !== null) s.deploy.replicas = Number(d.replicas);
    if (isMap(d.restart_policy)) s.deploy.restart_policy = d.restart_policy as { condition?: string; max_attempts?: number };
    if (isMap(d.resources)) s.deploy.resources = d.resources;
    if (d.labels !== undefined) s.deploy.labels = labels(d.labels);
  }
  if (raw.labels !== undefined) s.labels = labels(raw.labels);
  const sgp = duration(raw.stop_grace_period);
  if (sgp) s.stop_grace_period = sgp;
  const ul = ulimits(raw.ulimits);
  if (ul) s.ulimits = ul;
  if (raw.sysctls !== undefined) s.sysctls = labels(raw.sysctls);
  const eh = extraHosts(raw.extra_hosts);
  if (eh) s.extra_hosts = eh;
  if (isMap(raw.logging)) {
    s.logging = {};
    if (raw.logging.driver) s.logging.driver = str(raw.logging.driver);
    if (isMap(raw.logging.options)) s.logging.options = labels(raw.logging.options);
  }
  return s;
}

/** Top-level networks; `default` is added when a service uses it without declaring it. */
export function normalizeNetworks(raw: unknown, project: string): Record<string, Network> {
  const out: Record<string, Network> = {};
  for (const [k, x] of Object.entries(isMap(raw) ? raw : {})) {
    const n = isMap(x) ? x : {};
    const ext = n.external;
    const external = ext === true || isMap(ext);
    const name = isMap(ext) && ext.name ? str(ext.name) : n.name ? str(n.name) : external ? k : `${project}_${k}`;
    const net: Network = { name };
    if (n.driver) net.driver = str(n.driver);
    if (isMap(n.driver_opts)) net.driver_opts = labels(n.driver_opts);
    if (isMap(n.ipam)) net.ipam = n.ipam as Network['ipam'];
    if (n.internal) net.internal = true;
    if (n.attachable) net.attachable = true;
    if (n.enable_ipv6) net.enable_ipv6 = true;
    if (n.labels !== undefined) net.labels = labels(n.labels);
    if (external) net.external = true;
    out[k] = net;
  }
  return out;
}

/** Top-level volumes. */
export function normalizeVolumes(raw: unknown, project: string): Record<string, Volume> {
  const out: Record<string, Volume> = {};
  for (const [k, x] of Object.entries(isMap(raw) ? raw : {})) {
    const v = isMap(x) ? x : {};
    const ext = v.external;
    const external = ext === true || isMap(ext);
    const name = isMap(ext) && ext.name ? str(ext.name) : v.name ? str(v.name) : external ? k : `${project}_${k}`;
    const vol: Volume = { name };
    if (v.driver) vol.driver = str(v.driver);
    if (isMap(v.driver_opts)) vol.driver_opts = labels(v.driver_opts);
    if (v.labels !== undefined) vol.labels = labels(v.labels);
    if (external) vol.external = true;
    out[k] = vol;
  }
  return out;
}
