// The docker CLI's option validators and small parsers (opts/*.go, go-connections/nat, compose's
// ParseVolume, kvfile): each returns the normalised value or throws Error with docker's wording.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { parseUint } from '../go-strconv';

/** net.ParseIP(...).String(), or undefined when not an IP. */
export function parseIP(s: string): string | undefined {
  const v = net.isIP(s);
  if (v === 4) return s.split('.').map((x) => String(Number(x))).join('.');
  if (v === 6) {
    try {
      const h = new URL(`http://[${s}]/`).hostname.slice(1, -1);
      const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
      if (m) {
        const a = parseInt(m[1]!, 16);
        const b = parseInt(m[2]!, 16);
        return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
      }
      return h;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function validateIPAddress(val: string): string {
  const ip = parseIP(val.trim());
  if (ip === undefined) throw new Error(`IP address is not correctly formatted: ${val}`);
  return ip;
}

/** net.ParseMAC accepts 6, 8 or 20 octets with ':' or '-' or dotted quads. */
export function isValidMAC(s: string): boolean {
  const t = s.trim();
  return /^([0-9a-fA-F]{2}([:-]))([0-9a-fA-F]{2}\2){4}[0-9a-fA-F]{2}$/.test(t) || /^([0-9a-fA-F]{2}([:-]))([0-9a-fA-F]{2}\2){6}[0-9a-fA-F]{2}$/.test(t) || /^([0-9a-fA-F]{4}\.){2}[0-9a-fA-F]{4}$/.test(t);
}

export function validateDNSSearch(val: string): string {
  const v = val.replace(/^ +| +$/g, '');
  if (v === '.') return v;
  const m = /^(:?(?:[a-zA-Z0-9]|(?:[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))(:?\.(?:[a-zA-Z0-9]|(?:[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])))*)\.?\s*$/.exec(v);
  if (!/[a-zA-Z]/.test(v) || !m || m[1]!.length >= 255) throw new Error(`${v} is not a valid domain`);
  return m[1]!;
}

export function validateLabel(value: string): string {
  const key = value.split('=')[0]!.replace(/^[ \t]+/, '');
  if (key === '') throw new Error(`invalid label '${value}': empty name`);
  if (/[ \t]/.test(key)) throw new Error(`label '${key}' contains whitespaces`);
  return value;
}

export function validateEnv(val: string): string {
  const eq = val.indexOf('=');
  const k = eq >= 0 ? val.slice(0, eq) : val;
  if (k === '') throw new Error(`invalid environment variable: ${val}`);
  if (eq >= 0) return val;
  const env = process.env[k];
  return env !== undefined ? `${k}=${env}` : val;
}

export function validateExtraHost(val: string): string {
  let i = val.indexOf('=');
  if (i < 0) i = val.indexOf(':');
  const k = i >= 0 ? val.slice(0, i) : val;
  let v = i >= 0 ? val.slice(i + 1) : '';
  if (i < 0 || k === '' || k.includes(':')) throw new Error(`bad format for add-host: "${val}"`);
  if (v !== 'host-gateway') {
    if (v.length > 2 && v.startsWith('[') && v.endsWith(']')) v = v.slice(1, -1);
    if (parseIP(v.trim()) === undefined) throw new Error(`invalid IP address in add-host: "${v}"`);
  }
  return `${k}:${v}`;
}

export function parseLink(val: string): [string, string] {
  if (val === '') throw new Error('empty string specified for links');
  const arr = val.split(':');
  if (arr.length > 2) throw new Error(`bad format for links: ${val}`);
  if (arr.length === 1) return [val, val];
  if (arr[0]!.startsWith('/')) return [arr[0]!.slice(1), arr[1]!.split('/').pop()!];
  return [arr[0]!, arr[1]!];
}

export function validateLink(val: string): string {
  parseLink(val);
  return val;
}

const SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

export function validateSysctl(val: string): string {
  const i = val.indexOf('=');
  const k = i >= 0 ? val.slice(0, i) : '';
  if (i < 0 || k === '') throw new Error(`sysctl '${val}' is not allowed`);
  if (SYSCTLS.has(k) || k.startsWith('net.') || k.startsWith('fs.mqueue.')) return val;
  throw new Error(`sysctl '${val}' is not allowed`);
}

export function validateAttach(val: string): string {
  const s = val.toLowerCase();
  if (['stdin', 'stdout', 'stderr'].includes(s)) return s;
  throw new Error('valid streams are STDIN, STDOUT and STDERR');
}

export function validateDeviceCgroupRule(val: string): string {
  if (/^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$/.test(val)) return val;
  throw new Error(`invalid device cgroup format '${val}'`);
}

/** kvfile.Parse: KEY=VALUE lines, comments, bare KEY looked up with lookup (env files). */
export function parseKvFile(filename: string, lookup?: (k: string) => string | undefined): string[] {
  let text: string;
  try {
    text = fs.readFileSync(filename, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const msg = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new Error(`open ${filename}: ${msg}`);
  }
  const out: string[] = [];
  text.replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw) => {
      const line = raw.replace(/^\s+/, '');
      if (line.length === 0 || line.startsWith('#')) return;
      const eq = line.indexOf('=');
      const key = eq >= 0 ? line.slice(0, eq) : line;
      if (key.length === 0) throw new Error(`invalid env file (${filename}): no variable name on line '${line}'`);
      if (/[ \t]/.test(key)) throw new Error(`invalid env file (${filename}): variable '${key}' contains whitespaces`);
      if (eq >= 0) out.push(line);
      else if (lookup) {
        const v = lookup(line);
        if (v !== undefined) out.push(`${key}=${v}`);
      }
    });
  return out;
}

/** opts.ReadKVEnvStrings / ReadKVStrings: files first, then the flag values. */
export function readKvStrings(files: string[], override: string[], env: boolean): string[] {
  const vars: string[] = [];
  for (const f of files) vars.push(...parseKvFile(f, env ? (k) => process.env[k] : undefined));
  return [...vars, ...override];
}

export function kvToMap(values: string[]): Record<string, string> {
  const m: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i >= 0) m[v.slice(0, i)] = v.slice(i + 1);
    else m[v] = '';
  }
  return m;
}

export function parseRestartPolicy(policy: string): { Name: string; MaximumRetryCount: number } {
  if (policy === '') return { Name: '', MaximumRetryCount: 0 };
  const i = policy.indexOf(':');
  const k = i >= 0 ? policy.slice(0, i) : policy;
  const v = i >= 0 ? policy.slice(i + 1) : '';
  if (i >= 0 && k === '') throw new Error('invalid restart policy format: no policy provided before colon');
  let count = 0;
  if (v !== '') {
    if (!/^[+-]?\d+$/.test(v)) throw new Error('invalid restart policy format: maximum retry count must be an integer');
    count = Number(v);
  }
  return { Name: k, MaximumRetryCount: count };
}

/** nat.ParsePortRange. */
export function parsePortRange(ports: string): [number, number] {
  if (ports === '') throw new Error('empty string specified for ports');
  if (!ports.includes('-')) {
    const p = parseUint(ports, 16);
    return [p, p];
  }
  const parts = ports.split('-');
  const start = parseUint(parts[0]!, 16);
  const end = parseUint(parts[1]!, 16);
  if (end < start) throw new Error(`invalid range specified for port: ${ports}`);
  return [start, end];
}

/** nat.SplitProtoPort. */
export function splitProtoPort(raw: string): [string, string] {
  const parts = raw.split('/');
  if (raw.length === 0 || parts[0]!.length === 0) return ['', ''];
  if (parts.length === 1) return ['tcp', raw];
  if (parts[1]!.length === 0) return ['tcp', parts[0]!];
  return [parts[1]!, parts[0]!];
}

export type PortBinding = { HostIp: string; HostPort: string };

/** nat.ParsePortSpecs: exposed ports and bindings, keys in first-seen order. */
export function parsePortSpecs(specs: string[]): { exposed: Record<string, Record<string, never>>; bindings: Record<string, PortBinding[]> } {
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, PortBinding[]> = {};
  for (const raw of specs) {
    const parts = raw.split(':');
    const n = parts.length;
    let containerPort = parts[n - 1]!;
    let ip = n >= 3 ? parts.slice(0, n - 2).join(':') : '';
    let hostPort = n >= 2 ? parts[n - 2]! : '';
    let proto: string;
    [proto, containerPort] = splitProtoPort(containerPort);
    if (ip !== '' && ip.startsWith('[')) {
      const m = /^\[([^\]]*)\]$/.exec(ip);
      if (!m) throw new Error(`invalid IP address ${ip}: address ${ip}:: missing ']' in address`);
      ip = m[1]!;
    }
    if (ip !== '' && parseIP(ip) === undefined) throw new Error(`invalid IP address: ${ip}`);
    if (containerPort === '') throw new Error(`no port specified: ${raw}<empty>`);
    let start: number;
    let end: number;
    try {
      [start, end] = parsePortRange(containerPort);
    } catch {
      throw new Error(`invalid containerPort: ${containerPort}`);
    }
    let hStart = 0;
    let hEnd = 0;
    if (hostPort.length > 0) {
      try {
        [hStart, hEnd] = parsePortRange(hostPort);
      } catch {
        throw new Error(`invalid hostPort: ${hostPort}`);
      }
    }
    if (hostPort !== '' && end - start !== hEnd - hStart && end !== start) throw new Error(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
    if (!['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw new Error(`invalid proto: ${proto}`);
    for (let i = 0; i <= end - start; i++) {
      const cp = String(start + i);
      if (hostPort.length > 0) hostPort = String(hStart + i);
      if (start === end && hStart !== hEnd) hostPort = `${hostPort}-${hEnd}`;
      const key = `${cp}/${proto.toLowerCase()}`;
      exposed[key] ??= {};
      (bindings[key] ??= []).push({ HostIp: ip, HostPort: hostPort });
    }
  }
  return { exposed, bindings };
}

export type VolumeSpec = { type: 'bind' | 'volume'; source: string; target: string };

/** compose loader.ParseVolume, enough to tell binds (with a source) from anonymous volumes. */
export function parseVolumeSpec(spec: string): VolumeSpec {
  const v: VolumeSpec = { type: 'volume', source: '', target: '' };
  if (spec.length === 0) throw new Error('invalid empty volume spec');
  if ([...spec].length <= 2) return { type: 'volume', source: '', target: spec };
  const chars = [...spec, '\0'];
  let buf: string[] = [];
  const isDrive = (b: string[], c: string) => c === ':' && b.length === 1 && /\p{L}/u.test(b[0]!);
  const populateType = () => {
    if (v.source === '') v.type = 'volume';
    else if ('./~'.includes(v.source[0]!) || v.source.startsWith('\\\\') || ([...v.source].length > 1 && isDrive([[...v.source][0]!], [...v.source][1]!))) v.type = 'bind';
    else v.type = 'volume';
  };
  for (const c of chars) {
    if (isDrive(buf, c)) buf.push(c);
    else if (c === ':' || c === '\0') {
      const s = buf.join('');
      let err: string | undefined;
      if (buf.length === 0) err = 'empty section between colons';
      else if (v.source === '' && c === '\0') v.target = s;
      else if (v.source === '') v.source = s;
      else if (v.target === '') v.target = s;
      else if (c === ':') err = 'too many colons';
      if (err) {
        populateType();
        throw new Error(`invalid spec: ${spec}: ${err}`);
      }
      buf = [];
    } else buf.push(c);
  }
  populateType();
  return v;
}

/** encoding/csv's Read of one record (quotes, doubled quotes). */
export function readCsvRecord(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw new Error(`record on line 1; parse error on line 2, column 0: extraneous or missing " in quoted-field`);
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += s[i++];
      }
      if (i < s.length && s[i] !== ',') throw new Error(`parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`);
    } else {
      const j = s.indexOf(',', i);
      field = j < 0 ? s.slice(i) : s.slice(i, j);
      if (field.includes('"')) throw new Error(`parse error on line 1, column ${i + field.indexOf('"') + 1}: bare " in non-quoted-field`);
      i = j < 0 ? s.length : j;
    }
    out.push(field);
    if (i >= s.length) return out;
    i++;
  }
}
