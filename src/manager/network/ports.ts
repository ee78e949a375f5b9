// Host-port bookkeeping, pure: parsing of HostPort values, dockerd's conflict rule (a wildcard
// address clashes with every address of its family), the ephemeral range, and the order in which
// candidate ports are tried (random ports go up from the last one handed out, as dockerd's
// portallocator). The proxy's bind is what finally reserves a port in the kernel.
import * as fs from 'node:fs';
import { netErrors } from './errors';
import type { BoundPort, PortBindingInput, PortMap, PortProto } from './types';

export type HostPortSpec = { kind: 'fixed'; port: number } | { kind: 'range'; from: number; to: number } | { kind: 'random' };

export function parseHostPort(s: string | undefined): HostPortSpec {
  if (s === undefined || s === '' || s === '0') return { kind: 'random' };
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw netErrors.invalidPort(s);
  const from = Number(m[1]);
  const to = m[2] ? Number(m[2]) : from;
  if (from < 1 || to > 65535 || to < from) throw netErrors.invalidPort(s);
  return from === to ? { kind: 'fixed', port: from } : { kind: 'range', from, to };
}

/** /proc/sys/net/ipv4/ip_local_port_range of the daemon's namespace; dockerd's fallback otherwise. */
export function ephemeralRange(file = '/proc/sys/net/ipv4/ip_local_port_range'): { from: number; to: number } {
  try {
    const [a, b] = fs.readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
    if (a && b && a <= b) return { from: a, to: b };
  } catch {
    /* fall through */
  }
  return { from: 49153, to: 65535 };
}

export type Reservation = { proto: PortProto; hostIp: string; hostPort: number; owner: string };

const isWildcard = (ip: string) => ip === '0.0.0.0' || ip === '::';
const family = (ip: string) => (ip.includes(':') ? 6 : 4);

/** The reservation a new binding would clash with, if any. */
export function findClash(held: Iterable<Reservation>, proto: PortProto, hostIp: string, hostPort: number): Reservation | undefined {
  for (const r of held) {
    if (r.proto !== proto || r.hostPort !== hostPort || family(r.hostIp) !== family(hostIp)) continue;
    if (r.hostIp === hostIp || isWildcard(r.hostIp) || isWildcard(hostIp)) return r;
  }
  return undefined;
}

/** Candidate ports for a spec, in the order to try them. */
export function candidates(spec: HostPortSpec, range: { from: number; to: number }, last: number | undefined): number[] {
  if (spec.kind === 'fixed') return [spec.port];
  if (spec.kind === 'range') return Array.from({ length: spec.to - spec.from + 1 }, (_, i) => spec.from + i);
  const n = range.to - range.from + 1;
  const start = last === undefined || last < range.from || last >= range.to ? 0 : last - range.from + 1;
  return Array.from({ length: n }, (_, i) => range.from + ((start + i) % n));
}

/** Normalises a binding's host address: "" means every address (IPv4 and, when possible, IPv6). */
export function hostIpsOf(b: PortBindingInput, ipv6: boolean): string[] {
  const ip = b.hostIp ?? '';
  if (ip === '' || ip === '0.0.0.0') return ipv6 ? ['0.0.0.0', '::'] : ['0.0.0.0'];
  return [ip];
}

/** NetworkSettings.Ports for a container: exposed ports with null, published ones with bindings. */
export function portMap(bound: BoundPort[], exposed: string[] = []): PortMap {
  const out: PortMap = {};
  for (const e of exposed) out[e.includes('/') ? e : `${e}/tcp`] = null;
  for (const b of bound) {
    const key = `${b.containerPort}/${b.proto}`;
    (out[key] ??= []).push({ HostIp: b.hostIp, HostPort: String(b.hostPort) });
  }
  return out;
}

/** -P: a random-port binding for every exposed port that has no explicit binding. */
export function publishAllBindings(exposed: string[], explicit: PortBindingInput[]): PortBindingInput[] {
  const out = [...explicit];
  for (const e of exposed) {
    const [p, proto] = e.split('/');
    const containerPort = Number(p);
    const pr = (proto ?? 'tcp') as PortProto;
    if (!explicit.some((b) => b.containerPort === containerPort && (b.proto ?? 'tcp') === pr)) out.push({ containerPort, proto: pr, hostIp: '', hostPort: '' });
  }
  return out;
}
