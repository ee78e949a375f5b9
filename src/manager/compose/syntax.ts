// Compose's short syntaxes, parsed into the model: ports ("[ip:][host:]container[/proto]", ranges),
// volumes ("[source:]target[:mode]"), Go durations, byte sizes, and shell-style command strings.
// Pure functions; errors are one line naming the value.
import * as os from 'node:os';
import * as path from 'node:path';
import { RuntimeError } from '../../errors/index';
import type { PortConfig, VolumeMount } from './model';

const bad = (msg: string) => new RuntimeError('InvalidArgument', msg);

function range(s: string, what: string, spec: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw bad(`invalid ${what} ${JSON.stringify(s)} in port spec ${JSON.stringify(spec)}`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a < 1 || b > 65535 || b < a) throw bad(`invalid ${what} range ${JSON.stringify(s)} in port spec ${JSON.stringify(spec)}`);
  return [a, b];
}

/** One short-syntax port ("8080:80/udp", "127.0.0.1::80", "3000-3002", 80) as model entries. */
export function parsePortSpec(spec: string | number): PortConfig[] {
  const s = String(spec);
  let rest = s;
  let protocol: PortConfig['protocol'] = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1).toLowerCase();
    if (p !== 'tcp' && p !== 'udp' && p !== 'sctp') throw bad(`invalid proto ${JSON.stringify(p)} in port spec ${JSON.stringify(s)}`);
    protocol = p;
    rest = rest.slice(0, slash);
  }
  let hostIp: string | undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(rest);
  if (v6) {
    hostIp = v6[1];
    rest = v6[2]!;
  }
  const parts = rest.split(':');
  let host: string | undefined;
  let container: string;
  if (v6) {
    if (parts.length > 2) throw bad(`invalid port spec ${JSON.stringify(s)}`);
    [host, container] = parts.length === 2 ? [parts[0], parts[1]!] : [undefined, parts[0]!];
  } else if (parts.length === 1) container = parts[0]!;
  else if (parts.length === 2) [host, container] = [parts[0], parts[1]!];
  else if (parts.length === 3) [hostIp, host, container] = [parts[0], parts[1], parts[2]!];
  else throw bad(`invalid port spec ${JSON.stringify(s)}`);
  const [c0, c1] = range(container, 'container port', s);
  const hostRange = host ? range(host, 'host port', s) : undefined;
  const n = c1 - c0 + 1;
  if (hostRange && n > 1 && hostRange[1] - hostRange[0] + 1 !== n) throw bad(`invalid port spec ${JSON.stringify(s)}: port ranges don't match in length`);
  const out: PortConfig[] = [];
  for (let i = 0; i < n; i++) {
    const p: PortConfig = { mode: 'ingress', target: c0 + i, protocol };
    if (hostIp) p.host_ip = hostIp;
    if (hostRange) p.published = n > 1 ? String(hostRange[0] + i) : hostRange[0] === hostRange[1] ? String(hostRange[0]) : `${hostRange[0]}-${hostRange[1]}`;
    out.push(p);
  }
  return out;
}

const PROPAGATION = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);

/** Whether a volume source is a host path (bind) rather than a volume name. */
export function isPathSource(s: string): boolean {
  return s.startsWith('/') || s.startsWith('.') || s.startsWith('~') || s === '';
}

/** Expands ~ and makes a host path absolute against the project directory. */
export function absHostPath(p: string, workingDir: string): string {
  if (p === '~' || p.startsWith('~/')) p = path.join(process.env.HOME || os.homedir(), p.slice(1));
  return path.resolve(workingDir, p);
}

/** A short-syntax volume ("./data:/data:ro", "db:/var/lib/db", "/cache"). */
export function parseVolumeSpec(spec: string, workingDir: string): VolumeMount {
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p, i) => p === '' && i > 0)) throw bad(`invalid volume specification ${JSON.stringify(spec)}`);
  if (parts.length === 1) {
    if (!parts[0]!.startsWith('/')) throw bad(`invalid volume specification ${JSON.stringify(spec)}: the mount target must be an absolute path`);
    return { type: 'volume', target: path.posix.normalize(parts[0]!) };
  }
  const [source, target, mode] = parts as [string, string, string | undefined];
  if (!target.startsWith('/')) throw bad(`invalid volume specification ${JSON.stringify(spec)}: the mount target must be an absolute path`);
  const bind = isPathSource(source);
  const m: VolumeMount = bind
    ? { type: 'bind', source: absHostPath(source, workingDir), target: path.posix.normalize(target), bind: { create_host_path: true } }
    : { type: 'volume', source, target: path.posix.normalize(target), volume: {} };
  for (const opt of mode ? mode.split(',') : []) {
    if (opt === 'ro') m.read_only = true;
    else if (opt === 'rw') m.read_only = false;
    else if (opt === 'z' || opt === 'Z') m.bind = { ...m.bind, selinux: opt };
    else if (PROPAGATION.has(opt)) m.bind = { ...m.bind, propagation: opt };
    else if (opt === 'nocopy') m.volume = { ...m.volume, nocopy: true };
    else throw bad(`invalid volume specification ${JSON.stringify(spec)}: unknown option ${JSON.stringify(opt)}`);
  }
  if (m.read_only === false) delete m.read_only;
  if (m.volume && Object.keys(m.volume).length === 0) delete m.volume;
  return m;
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A Go duration ("1m30s", "1.5s", "100ms") in nanoseconds; a bare number counts as seconds. */
export function parseDuration(s: string | number): number {
  if (typeof s === 'number') return s * 1e9;
  let total = 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|ms|s|m|h)/y;
  let i = 0;
  const str = s.trim();
  if (!str) throw bad(`invalid duration ""`);
  while (i < str.length) {
    re.lastIndex = i;
    const m = re.exec(str);
    if (!m) throw bad(`invalid duration ${JSON.stringify(s)}`);
    total += Number(m[1]) * UNIT_NS[m[2]!]!;
    i = re.lastIndex;
  }
  return Math.round(total);
}

/** A duration in Go's canonical form (time.Duration.String), as compose's config prints it. */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  if (ns < 1e9) {
    if (ns < 1e3) return `${ns}ns`;
    if (ns < 1e6) return `${trim(ns / 1e3)}µs`;
    return `${trim(ns / 1e6)}ms`;
  }
  let rest = ns;
  let out = '';
  const h = Math.floor(rest / 3600e9);
  if (h) {
    out += `${h}h`;
    rest -= h * 3600e9;
  }
  const m = Math.floor(rest / 60e9);
  if (h || m) {
    out += `${m}m`;
    rest -= m * 60e9;
  }
  return `${out}${trim(rest / 1e9)}s`;
}

function trim(n: number): string {
  return String(Number(n.toFixed(9)));
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4 };

/** A byte size ("512m", "1g", 1024) in bytes (go-units RAMInBytes). */
export function parseBytes(v: string | number): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?b?)$/i.exec(v.trim());
  if (!m) throw bad(`invalid size ${JSON.stringify(v)}`);
  return Math.round(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!);
}

/** Splits a command string as a POSIX shell would (quotes and backslashes; no expansion). */
export function shellSplit(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let q: '"' | "'" | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q === "'") {
      if (c === "'") q = undefined;
      else cur += c;
      continue;
    }
    if (q === '"') {
      if (c === '"') q = undefined;
      else if (c === '\\' && i + 1 < s.length && '"\\$`\n'.includes(s[i + 1]!)) cur += s[++i];
      else cur += c;
      continue;
    }
    if (c === "'" || c === '"') {
      q = c;
      has = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (q) throw bad(`invalid command line ${JSON.stringify(s)}: unterminated quote`);
  if (has || cur) out.push(cur);
  return out;
}
