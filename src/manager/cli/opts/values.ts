// docker's option Values (opts package): maps, filters, byte sizes, CPUs, ulimits, blkio devices,
// GPU requests, --mount and --network specs. Each parses one flag occurrence with docker's errors.
import * as path from 'node:path';
import type { FlagValue } from '../flags';
import { parseBool, parseInt64, parseUint } from '../go-strconv';
import { bytesSize, ramInBytes } from '../units';
import { kvToMap, readCsvRecord } from './validate';

export class MapValue implements FlagValue<Record<string, string>> {
  readonly type = 'map';
  private readonly m: Record<string, string> = {};
  constructor(private readonly validate?: (s: string) => string) {}
  set(s: string): void {
    const v = this.validate ? this.validate(s) : s;
    const i = v.indexOf('=');
    if (i >= 0) this.m[v.slice(0, i)] = v.slice(i + 1);
    else this.m[v] = '';
  }
  string(): string {
    const keys = Object.keys(this.m).sort();
    return `map[${keys.map((k) => `${k}:${this.m[k]}`).join(' ')}]`;
  }
  get(): Record<string, string> {
    return this.m;
  }
}

/** filters.Args as the API wants it: {"name": {"value": true}}. */
export type Filters = Record<string, Record<string, boolean>>;

/** filters.ToJSON: Go marshals the maps with sorted keys. */
export function encodeFilters(f: Filters): string {
  const out: Filters = {};
  for (const k of Object.keys(f).sort()) {
    out[k] = {};
    for (const v of Object.keys(f[k]!).sort()) out[k]![v] = f[k]![v]!;
  }
  return JSON.stringify(out);
}

export class FilterValue implements FlagValue<Filters> {
  readonly type = 'filter';
  private readonly f: Filters = {};
  set(s: string): void {
    if (s === '') return;
    if (!s.includes('=')) throw new Error('bad format of filter (expected name=value)');
    const i = s.indexOf('=');
    const name = s.slice(0, i).trim().toLowerCase();
    const val = s.slice(i + 1).trim();
    (this.f[name] ??= {})[val] = true;
  }
  string(): string {
    return Object.keys(this.f).length ? encodeFilters(this.f) : '';
  }
  get(): Filters {
    return this.f;
  }
}

export class MemBytesValue implements FlagValue<number> {
  readonly type = 'bytes';
  private v = 0;
  constructor(private readonly swap = false) {}
  set(s: string): void {
    if (this.swap && s === '-1') {
      this.v = -1;
      return;
    }
    this.v = ramInBytes(s);
  }
  string(): string {
    return this.v !== 0 ? bytesSize(this.v) : '0';
  }
  get(): number {
    return this.v;
  }
}

/** opts.NanoCPUs: a decimal number of CPUs, as nano-CPUs. */
export class NanoCpusValue implements FlagValue<number> {
  readonly type = 'decimal';
  private v = 0;
  set(s: string): void {
    this.v = parseCpus(s);
  }
  string(): string {
    return this.v === 0 ? '' : (this.v / 1e9).toFixed(3);
  }
  get(): number {
    return this.v;
  }
}

/** big.Rat SetString of a decimal or fraction, times 1e9, which must be an integer. */
export function parseCpus(s: string): number {
  const bad = new Error(`failed to parse ${s} as a rational number`);
  let num: bigint;
  let den = 1n;
  const frac = /^([+-]?\d+)\/(\d+)$/.exec(s);
  if (frac) {
    num = BigInt(frac[1]!);
    den = BigInt(frac[2]!);
    if (den === 0n) throw bad;
  } else {
    const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
    if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw bad;
    const digits = (m[2] ?? '') + (m[3] ?? '');
    num = BigInt(digits || '0') * (m[1] === '-' ? -1n : 1n);
    let exp = -(m[3]?.length ?? 0) + Number(m[4] ?? 0);
    if (exp >= 0) num *= 10n ** BigInt(exp);
    else den = 10n ** BigInt(-exp);
    exp = 0;
  }
  const nano = num * 1_000_000_000n;
  if (nano % den !== 0n) throw new Error('value is too precise');
  return Number(nano / den);
}

const ULIMITS = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

export type Ulimit = { Name: string; Hard: number; Soft: number };

/** units.ParseUlimit. */
export function parseUlimit(val: string): Ulimit {
  const i = val.indexOf('=');
  if (i < 0) throw new Error(`invalid ulimit argument: ${val}`);
  const name = val.slice(0, i);
  if (!ULIMITS.has(name)) throw new Error(`invalid ulimit type: ${name}`);
  const lim = val.slice(i + 1).split(':');
  const strict = (x: string) => {
    if (!/^[+-]?\d+$/.test(x)) throw new Error(`strconv.ParseInt: parsing "${x}": invalid syntax`);
    return parseInt64(x);
  };
  let soft: number;
  let hard: number;
  if (lim.length === 2) {
    hard = strict(lim[1]!);
    soft = strict(lim[0]!);
  } else if (lim.length === 1) {
    soft = strict(lim[0]!);
    hard = soft;
  } else throw new Error(`too many limit value arguments - ${val.slice(i + 1)}, can only have up to two, \`soft[:hard]\``);
  if (hard !== -1) {
    if (soft === -1) throw new Error(`ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: ${hard}`);
    if (soft > hard) throw new Error(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  }
  return { Name: name, Hard: hard, Soft: soft };
}

export class UlimitValue implements FlagValue<Ulimit[]> {
  readonly type = 'ulimit';
  private readonly m = new Map<string, Ulimit>();
  set(s: string): void {
    const u = parseUlimit(s);
    this.m.set(u.Name, u);
  }
  string(): string {
    return `[${[...this.m.values()].map((u) => `${u.Name}=${u.Soft}:${u.Hard}`).sort().join(' ')}]`;
  }
  get(): Ulimit[] {
    return [...this.m.values()].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
  }
}

export type ThrottleDevice = { Path: string; Rate: number };
export type WeightDevice = { Path: string; Weight: number };

function devicePair(val: string): [string, string] {
  const i = val.indexOf(':');
  const k = i >= 0 ? val.slice(0, i) : '';
  if (i < 0 || k === '') throw new Error(`bad format: ${val}`);
  if (!k.startsWith('/dev/')) throw new Error(`bad format for device path: ${val}`);
  return [k, val.slice(i + 1)];
}

export class ThrottleDeviceValue implements FlagValue<ThrottleDevice[]> {
  readonly type = 'list';
  private readonly v: ThrottleDevice[] = [];
  constructor(private readonly iops: boolean) {}
  set(s: string): void {
    const [k, r] = devicePair(s);
    if (this.iops) {
      try {
        this.v.push({ Path: k, Rate: parseUint(r, 64) });
      } catch {
        throw new Error(`invalid rate for device: ${s}. The correct format is <device-path>:<number>. Number must be a positive integer`);
      }
      return;
    }
    let rate: number;
    try {
      rate = ramInBytes(r);
    } catch {
      rate = -1;
    }
    if (rate < 0) throw new Error(`invalid rate for device: ${s}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`);
    this.v.push({ Path: k, Rate: rate });
  }
  string(): string {
    return `[${this.v.map((d) => `${d.Path}:${d.Rate}`).join(' ')}]`;
  }
  get(): ThrottleDevice[] {
    return this.v;
  }
}

export class WeightDeviceValue implements FlagValue<WeightDevice[]> {
  readonly type = 'list';
  private readonly v: WeightDevice[] = [];
  set(s: string): void {
    const [k, w] = devicePair(s);
    let weight: number;
    try {
      weight = parseUint(w, 16);
    } catch {
      throw new Error(`invalid weight for device: ${s}`);
    }
    if (weight > 0 && (weight < 10 || weight > 1000)) throw new Error(`invalid weight for device: ${s}`);
    this.v.push({ Path: k, Weight: weight });
  }
  string(): string {
    return `[${this.v.map((d) => `${d.Path}:${d.Weight}`).join(' ')}]`;
  }
  get(): WeightDevice[] {
    return this.v;
  }
}

export type DeviceRequest = { Driver: string; Count: number; DeviceIDs: string[] | null; Capabilities: string[][]; Options: Record<string, string> };

export class GpuValue implements FlagValue<DeviceRequest[]> {
  readonly type = 'gpu-request';
  private readonly v: DeviceRequest[] = [];
  set(value: string): void {
    const fields = readCsvRecord(value);
    const req: DeviceRequest = { Driver: '', Count: 0, DeviceIDs: null, Capabilities: [], Options: {} };
    let caps: string[][] | undefined;
    const seen = new Set<string>();
    const count = (s: string) => {
      if (s === 'all') return -1;
      if (!/^[+-]?\d+$/.test(s)) throw new Error(`invalid count (${s}): value must be either "all" or an integer: invalid syntax`);
      return Number(s);
    };
    for (const field of fields) {
      const i = field.indexOf('=');
      const key = i >= 0 ? field.slice(0, i) : field;
      const val = i >= 0 ? field.slice(i + 1) : '';
      if (seen.has(key)) throw new Error(`gpu request key '${key}' can be specified only once`);
      seen.add(key);
      if (i < 0) {
        seen.add('count');
        req.Count = count(key);
        continue;
      }
      if (key === 'driver') req.Driver = val;
      else if (key === 'count') req.Count = count(val);
      else if (key === 'device') req.DeviceIDs = val.split(',');
      else if (key === 'capabilities') caps = [[...val.split(','), 'gpu']];
      else if (key === 'options') req.Options = kvToMap(readCsvRecord(val));
      else throw new Error(`unexpected key '${key}' in '${field}'`);
    }
    if (!seen.has('count') && req.DeviceIDs === null) req.Count = 1;
    req.Capabilities = caps ?? [['gpu']];
    this.v.push(req);
  }
  string(): string {
    return this.v.map((r) => JSON.stringify(r)).join(', ');
  }
  get(): DeviceRequest[] {
    return this.v;
  }
}

export type Mount = Record<string, unknown> & { Type: string; Target?: string };

function absIfRelative(p: string): string {
  return !path.isAbsolute(p) && p.startsWith('.') ? path.resolve(p) : p;
}

/** opts.MountOpt: --mount type=...,src=...,dst=... (fields in the Go struct's JSON order). */
export class MountValue implements FlagValue<Mount[]> {
  readonly type = 'mount';
  private readonly v: Mount[] = [];
  set(value: string): void {
    const fields = readCsvRecord(value);
    const m: { Type: string; Source?: string; Target?: string; ReadOnly?: boolean; Consistency?: string } = { Type: 'volume' };
    let bind: Record<string, unknown> | undefined;
    let vol: { NoCopy?: boolean; Labels: Record<string, string>; Subpath?: string; DriverConfig: { Name?: string; Options?: Record<string, string> } } | undefined;
    let image: { Subpath?: string } | undefined;
    let tmpfs: { SizeBytes?: number; Mode?: number } | undefined;
    const volume = () => (vol ??= { Labels: {}, DriverConfig: {} });
    const setKv = (target: Record<string, string>, v: string) => {
      const i = v.indexOf('=');
      const k = i >= 0 ? v.slice(0, i) : v;
      if (k !== '') target[k] = i >= 0 ? v.slice(i + 1) : '';
    };
    const bool = (key: string, val: string) => {
      try {
        return parseBool(val);
      } catch {
        throw new Error(`invalid value for ${key}: ${val}`);
      }
    };
    for (const field of fields) {
      const i = field.indexOf('=');
      const key = (i >= 0 ? field.slice(0, i) : field).toLowerCase();
      const val = i >= 0 ? field.slice(i + 1) : '';
      if (i < 0) {
        if (key === 'readonly' || key === 'ro') m.ReadOnly = true;
        else if (key === 'volume-nocopy') volume().NoCopy = true;
        else if (key === 'bind-nonrecursive') (bind ??= {}).NonRecursive = true;
        else throw new Error(`invalid field '${field}' must be a key=value pair`);
        continue;
      }
      switch (key) {
        case 'type':
          m.Type = val.toLowerCase();
          break;
        case 'source':
        case 'src':
          m.Source = absIfRelative(val);
          break;
        case 'target':
        case 'dst':
        case 'destination':
          m.Target = val;
          break;
        case 'readonly':
        case 'ro':
          m.ReadOnly = bool(key, val);
          break;
        case 'consistency':
          m.Consistency = val.toLowerCase();
          break;
        case 'bind-propagation':
          (bind ??= {}).Propagation = val.toLowerCase();
          break;
        case 'bind-nonrecursive':
          (bind ??= {}).NonRecursive = bool(key, val);
          break;
        case 'bind-recursive':
          if (val === 'enabled') bind ??= {};
          else if (val === 'disabled') (bind ??= {}).NonRecursive = true;
          else if (val === 'writable') (bind ??= {}).ReadOnlyNonRecursive = true;
          else if (val === 'readonly') (bind ??= {}).ReadOnlyForceRecursive = true;
          else throw new Error(`invalid value for ${key}: ${val} (must be "enabled", "disabled", "writable", or "readonly")`);
          break;
        case 'volume-subpath':
          volume().Subpath = val;
          break;
        case 'volume-nocopy':
          try {
            volume().NoCopy = parseBool(val);
          } catch {
            throw new Error(`invalid value for volume-nocopy: ${val}`);
          }
          break;
        case 'volume-label':
          setKv(volume().Labels, val);
          break;
        case 'volume-driver':
          volume().DriverConfig.Name = val;
          break;
        case 'volume-opt':
          setKv((volume().DriverConfig.Options ??= {}), val);
          break;
        case 'image-subpath':
          (image ??= {}).Subpath = val;
          break;
        case 'tmpfs-size':
          try {
            (tmpfs ??= {}).SizeBytes = ramInBytes(val);
          } catch {
            throw new Error(`invalid value for ${key}: ${val}`);
          }
          break;
        case 'tmpfs-mode':
          if (!/^[0-7]+$/.test(val) || parseInt(val, 8) > 0xffffffff) throw new Error(`invalid value for ${key}: ${val}`);
          (tmpfs ??= {}).Mode = parseInt(val, 8);
          break;
        default:
          throw new Error(`unexpected key '${key}' in '${field}'`);
      }
    }
    if (m.Type === '') throw new Error('type is required');
    if (!m.Target) throw new Error('target is required');
    if (vol && m.Type !== 'volume') throw new Error(`cannot mix 'volume-*' options with mount type '${m.Type}'`);
    if (image && m.Type !== 'image') throw new Error(`cannot mix 'image-*' options with mount type '${m.Type}'`);
    if (bind && m.Type !== 'bind') throw new Error(`cannot mix 'bind-*' options with mount type '${m.Type}'`);
    if (tmpfs && m.Type !== 'tmpfs') throw new Error(`cannot mix 'tmpfs-*' options with mount type '${m.Type}'`);
    if (bind?.ReadOnlyNonRecursive && !m.ReadOnly) throw new Error("option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction");
    if (bind?.ReadOnlyForceRecursive) {
      if (!m.ReadOnly) throw new Error("option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction");
      if (bind.Propagation !== 'rprivate') throw new Error("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction");
    }
    // JSON with Go's omitempty, in the Mount struct's field order.
    const out: Mount = { Type: m.Type };
    if (m.Source) out.Source = m.Source;
    out.Target = m.Target;
    if (m.ReadOnly) out.ReadOnly = true;
    if (m.Consistency) out.Consistency = m.Consistency;
    if (bind) out.BindOptions = pick(bind, ['Propagation', 'NonRecursive', 'CreateMountpoint', 'ReadOnlyNonRecursive', 'ReadOnlyForceRecursive']);
    if (vol) {
      const vo: Record<string, unknown> = {};
      if (vol.NoCopy) vo.NoCopy = true;
      if (Object.keys(vol.Labels).length) vo.Labels = vol.Labels;
      if (vol.Subpath) vo.Subpath = vol.Subpath;
      vo.DriverConfig = pick(vol.DriverConfig as Record<string, unknown>, ['Name', 'Options']);
      out.VolumeOptions = vo;
    }
    if (image) out.ImageOptions = pick(image, ['Subpath']);
    if (tmpfs) out.TmpfsOptions = pick(tmpfs, ['SizeBytes', 'Mode']);
    this.v.push(out);
  }
  string(): string {
    return this.v.map((m) => `${m.Type} ${(m.Source as string) ?? ''} ${m.Target}`).join(', ');
  }
  get(): Mount[] {
    return this.v;
  }
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const k of keys) {
    const v = o[k];
    if (v === undefined || v === false || v === '' || v === 0) continue;
    if (typeof v === 'object' && v !== null && Object.keys(v).length === 0) continue;
    r[k] = v;
  }
  return r;
}

export type NetworkAttachment = {
  Target: string;
  Aliases: string[];
  DriverOpts?: Record<string, string>;
  Links?: string[];
  IPv4Address: string;
  IPv6Address: string;
  LinkLocalIPs?: string[];
  MacAddress: string;
  GwPriority: number;
};

/** opts.NetworkOpt: --network NAME or --network name=...,alias=...,ip=... */
export class NetworkValue implements FlagValue<NetworkAttachment[]> {
  readonly type = 'network';
  private readonly v: NetworkAttachment[] = [];
  set(value: string): void {
    const n: NetworkAttachment = { Target: '', Aliases: [], IPv4Address: '', IPv6Address: '', MacAddress: '', GwPriority: 0 };
    if (/\w+=\w+(,\w+=\w+)*/.test(value)) {
      for (const field of readCsvRecord(value)) {
        const lower = field.toLowerCase();
        const i = lower.indexOf('=');
        const key = (i >= 0 ? lower.slice(0, i) : lower).trim();
        const val = (i >= 0 ? lower.slice(i + 1) : '').trim();
        if (i < 0 || key === '') throw new Error(`invalid field ${field}`);
        if (key === 'name') n.Target = val;
        else if (key === 'alias') n.Aliases.push(val);
        else if (key === 'ip') n.IPv4Address = val;
        else if (key === 'ip6') n.IPv6Address = val;
        else if (key === 'mac-address') n.MacAddress = val;
        else if (key === 'link-local-ip') (n.LinkLocalIPs ??= []).push(val);
        else if (key === 'driver-opt') {
          const j = val.indexOf('=');
          if (j <= 0) throw new Error('invalid key value pair format in driver options');
          (n.DriverOpts ??= {})[val.slice(0, j).trim()] = val.slice(j + 1).trim();
        } else if (key === 'gw-priority') {
          if (!/^[+-]?\d+$/.test(val)) throw new Error(`invalid gw-priority (${val}): invalid syntax`);
          n.GwPriority = Number(val);
        } else throw new Error(`invalid field key ${key}`);
      }
      if (n.Target.length === 0) throw new Error('network name/id is not specified');
    } else {
      n.Target = value;
      n.Aliases = [];
      (n as { Aliases: string[] | null }).Aliases = null;
    }
    this.v.push(n);
  }
  string(): string {
    return '';
  }
  get(): NetworkAttachment[] {
    return this.v;
  }
}
