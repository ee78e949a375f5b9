// IPv4 address management, pure: subnet validation, dockerd's default pool order, gateway choice,
// lowest-free address allocation inside a subnet or ip-range, and MAC addresses derived from the
// IP (02:42:<ip>). Leases are not stored here: the endpoints that hold addresses are the leases.
import ipaddr from 'ipaddr.js';
import { netErrors } from './errors';

export type Cidr = { base: number; prefix: number };

export function ipToInt(ip: string): number {
  const b = ipaddr.IPv4.parse(ip).octets;
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses "a.b.c.d/n" (IPv4 only); the base is masked to the network address. */
export function parseCidr(s: string): Cidr | undefined {
  if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(s)) return undefined;
  let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    parsed = ipaddr.IPv4.parseCIDR(s);
  } catch {
    return undefined;
  }
  const prefix = parsed[1];
  return { base: (ipToInt(parsed[0].toString()) & mask(prefix)) >>> 0, prefix };
}

export function isIPv4(s: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(s) && ipaddr.IPv4.isValidFourPartDecimal(s);
}

export function cidrString(c: Cidr): string {
  return `${intToIp(c.base)}/${c.prefix}`;
}

export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & mask(c.prefix)) >>> 0) === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.base & mask(p)) >>> 0) === ((b.base & mask(p)) >>> 0);
}

/**
 * dockerd's predefined local pools, in order: 172.17–31.0.0/16, then 192.168.0.0/16 cut into /20s.
 * The default `bridge` network takes the first free one (172.17.0.0/16 on a clean host).
 */
export function defaultPools(): Cidr[] {
  const pools: Cidr[] = [];
  for (let b = 17; b <= 31; b++) pools.push({ base: ipToInt(`172.${b}.0.0`), prefix: 16 });
  for (let i = 0; i < 16; i++) pools.push({ base: (ipToInt('192.168.0.0') + i * 4096) >>> 0, prefix: 20 });
  return pools;
}

/** First pool that overlaps neither a network's subnet nor a route of the host (when given). */
export function pickPool(inUse: Cidr[], pools: Cidr[] = defaultPools(), hostRoutes: Cidr[] = []): Cidr {
  for (const p of pools) {
    if (inUse.some((u) => overlaps(u, p))) continue;
    if (hostRoutes.some((r) => r.prefix > 0 && overlaps(r, p))) continue;
    return p;
  }
  throw netErrors.noPool();
}

/** Validated IPAM settings of one bridge network. */
export type IpamPlan = { subnet: string; gateway: string; ipRange?: string; userSubnet: boolean };

/**
 * Checks --subnet/--gateway/--ip-range the way dockerd does (wording included) and fills in the
 * defaults: a pool when no subnet was given, the first host address as gateway.
 */
export function planIpam(
  req: { subnet?: string; gateway?: string; ipRange?: string },
  inUse: Cidr[],
  opts: { pools?: Cidr[]; hostRoutes?: Cidr[] } = {},
): IpamPlan {
  let subnet: Cidr;
  const userSubnet = req.subnet !== undefined && req.subnet !== '';
  if (userSubnet) {
    const c = parseCidr(req.subnet!);
    if (!c) throw netErrors.invalidSubnet(req.subnet!);
    subnet = c;
    if (inUse.some((u) => overlaps(u, subnet))) throw netErrors.poolOverlap();
  } else {
    if (req.gateway) throw netErrors.gatewayOutside(req.gateway);
    if (req.ipRange) throw netErrors.rangeOutside(req.ipRange);
    subnet = pickPool(inUse, opts.pools, opts.hostRoutes);
  }
  if (subnet.prefix > 30) throw netErrors.invalidSubnet(req.subnet ?? cidrString(subnet));
  let gateway = intToIp(subnet.base + 1);
  if (req.gateway) {
    if (!isIPv4(req.gateway)) throw netErrors.invalidGateway(req.gateway);
    if (!contains(subnet, ipToInt(req.gateway))) throw netErrors.gatewayOutside(req.gateway);
    gateway = req.gateway;
  }
  let ipRange: string | undefined;
  if (req.ipRange) {
    const r = parseCidr(req.ipRange);
    if (!r) throw netErrors.invalidRange(req.ipRange);
    if (r.prefix < subnet.prefix || !contains(subnet, r.base)) throw netErrors.rangeOutside(req.ipRange);
    ipRange = cidrString(r);
  }
  return { subnet: cidrString(subnet), gateway, ipRange, userSubnet };
}

/**
 * Lowest free address of the range (or subnet), skipping the network and broadcast addresses,
 * the gateway and every address in use. dockerd hands out addresses the same way.
 */
export function allocateAddress(subnet: string, ipRange: string | undefined, used: Set<string>, netName: string): string {
  const s = parseCidr(subnet)!;
  const r = ipRange ? parseCidr(ipRange)! : s;
  const first = r.base;
  const last = r.base + cidrSize(r) - 1;
  const bcast = s.base + cidrSize(s) - 1;
  for (let n = first; n <= last; n++) {
    if (n === s.base || n === bcast) continue;
    const ip = intToIp(n);
    if (!used.has(ip)) return ip;
  }
  throw netErrors.poolExhausted(netName);
}

/** Checks a requested address (--ip) against the subnet and the addresses in use. */
export function checkRequestedAddress(subnet: string, ip: string, used: Set<string>): void {
  const s = parseCidr(subnet)!;
  if (!isIPv4(ip) || !contains(s, ipToInt(ip))) throw netErrors.addressOutside(ip);
  const n = ipToInt(ip);
  if (n === s.base || n === s.base + cidrSize(s) - 1 || used.has(ip)) throw netErrors.addressInUse();
}

/** dockerd 20.10's MAC for an IPv4 endpoint: 02:42 followed by the four address bytes. */
export function macFromIp(ip: string): string {
  const b = ipaddr.IPv4.parse(ip).octets;
  return ['02', '42', ...b.map((x) => x.toString(16).padStart(2, '0'))].join(':');
}

/** Normalises a user MAC (--mac-address) to lowercase colon form; unicast and 6 bytes only. */
export function normalizeMac(m: string): string {
  const parts = m.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw netErrors.invalidMac(m);
  const out = parts.map((p) => p.toLowerCase());
  if (parseInt(out[0]!, 16) & 1) throw netErrors.invalidMac(m);
  return out.join(':');
}
