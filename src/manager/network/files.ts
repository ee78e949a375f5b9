// The per-container /etc/hosts and /etc/resolv.conf, as dockerd 20.10 writes them (libnetwork
// etchosts and resolvconf). The builders are pure; readHostResolvConf is the only I/O and never
// hands a container a loopback resolver it cannot reach.
import * as fs from 'node:fs';

const DEFAULT_HOSTS = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

export type HostsInput = {
  hostname: string;
  domainname?: string;
  /** The container's own addresses, first network first (none for --network none). */
  addresses: string[];
  /** --add-host "name:ip" entries, host-gateway already replaced. */
  extraHosts?: { name: string; ip: string }[];
  /** --link entries: the linked container's address, the alias, its name and its hostname. */
  links?: { ip: string; alias: string; name: string; hostname: string }[];
};

/** /etc/hosts: the defaults, --add-host lines, link lines, then the container's own name. */
export function buildHostsFile(h: HostsInput): string {
  const lines = [...DEFAULT_HOSTS];
  for (const e of h.extraHosts ?? []) lines.push(`${e.ip}\t${e.name}`);
  for (const l of h.links ?? []) {
    // dockerd: "alias hostname", then the name unless the alias is the name.
    const names = [l.alias, l.hostname];
    if (l.name !== l.alias) names.push(l.name);
    lines.push(`${l.ip}\t${names.join(' ')}`);
  }
  const own = h.domainname ? `${h.hostname}.${h.domainname} ${h.hostname}` : h.hostname;
  for (const ip of h.addresses) lines.push(`${ip}\t${own}`);
  return lines.join('\n') + '\n';
}

/**
 * Parses --add-host values ("name:ip", "name=ip"); host-gateway becomes hostGatewayIp. IPv6
 * addresses keep their colons (the separator is the first one).
 */
export function parseExtraHosts(values: string[], hostGatewayIp: string): { name: string; ip: string }[] {
  return values.map((v) => {
    const m = /^([^:=]+)[:=](.+)$/.exec(v);
    if (!m) throw new Error(`invalid argument "${v}" for "--add-host" flag: bad format for add-host: "${v}"`);
    const ip = m[2] === 'host-gateway' ? hostGatewayIp : m[2]!;
    return { name: m[1]!, ip };
  });
}

export type ResolvConf = { nameservers: string[]; search: string[]; options: string[]; raw: string };

function isLoopback(ns: string): boolean {
  return ns.startsWith('127.') || ns === '::1' || ns === '0:0:0:0:0:0:0:1';
}

export function parseResolvConf(raw: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], search: [], options: [], raw };
  for (const line of raw.split('\n')) {
    const f = line.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (f[0] === 'nameserver' && f[1]) out.nameservers.push(f[1]);
    else if ((f[0] === 'search' || f[0] === 'domain') && f.length > 1) out.search = f.slice(1);
    else if (f[0] === 'options') out.options.push(...f.slice(1));
  }
  return out;
}

/** dockerd's fallback when the host has no usable nameserver (resolvconf.defaultIPv4Dns). */
export const DEFAULT_DNS = ['8.8.8.8', '8.8.4.4'];

/**
 * The host's resolver configuration. When every nameserver is a loopback one (systemd-resolved's
 * 127.0.0.53), dockerd reads /run/systemd/resolve/resolv.conf for the real upstreams; so do we.
 */
export function readHostResolvConf(file = '/etc/resolv.conf', systemdFile = '/run/systemd/resolve/resolv.conf'): ResolvConf {
  let raw = '';
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch {
    /* no file: no nameservers, the defaults apply */
  }
  const rc = parseResolvConf(raw);
  if (rc.nameservers.length > 0 && rc.nameservers.every(isLoopback) && fs.existsSync(systemdFile)) {
    return parseResolvConf(fs.readFileSync(systemdFile, 'utf8'));
  }
  return rc;
}

/** Nameservers a container may use: loopback ones removed, the defaults when none is left. */
export function containerUpstreams(host: ResolvConf): string[] {
  const ns = host.nameservers.filter((n) => !isLoopback(n) && !n.includes(':'));
  return ns.length > 0 ? ns : DEFAULT_DNS;
}

export type ResolvInput = {
  host: ResolvConf;
  dns?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
  /** The embedded DNS server's address (user-defined networks); absent on the default bridge. */
  embeddedDns?: string;
};

/**
 * /etc/resolv.conf for a container. Default bridge without overrides: the host's file with loopback
 * nameservers dropped (defaults appended when none is left). With overrides: dockerd's generated
 * form (search, nameserver, options). With the embedded server: it is the only nameserver and
 * ndots:0 is added unless the user set ndots, as dockerd does for 127.0.0.11.
 */
export function buildResolvConf(r: ResolvInput): string {
  const search = r.dnsSearch && r.dnsSearch.length > 0 ? r.dnsSearch : r.host.search;
  const userOptions = r.dnsOptions && r.dnsOptions.length > 0 ? r.dnsOptions : undefined;
  if (r.embeddedDns) {
    const options = [...(userOptions ?? r.host.options)];
    if (!options.some((o) => o.startsWith('ndots:'))) options.push('ndots:0');
    return render(search, [r.embeddedDns], options);
  }
  const overridden = (r.dns && r.dns.length > 0) || (r.dnsSearch && r.dnsSearch.length > 0) || userOptions;
  if (!overridden) {
    // dockerd's FilterResolvDNS: drop loopback (and, without IPv6, IPv6) nameserver lines with their
    // newlines; when no nameserver is left, append "\n" + the defaults, without a final newline.
    const kept = r.host.raw.replace(/^nameserver\s+(127\.\S*|::1|\S*:\S*)\s*\n*/gm, '');
    if (parseResolvConf(kept).nameservers.length > 0) return kept;
    return kept + '\n' + DEFAULT_DNS.map((n) => `nameserver ${n}`).join('\n');
  }
  const ns = r.dns && r.dns.length > 0 ? r.dns : containerUpstreams(r.host);
  return render(search, ns, userOptions ?? r.host.options);
}

function render(search: string[], ns: string[], options: string[]): string {
  let out = '';
  if (search.length > 0 && search.join(' ').trim() !== '.') out += `search ${search.join(' ')}\n`;
  for (const n of ns) out += `nameserver ${n}\n`;
  if (options.length > 0) out += `options ${options.join(' ')}\n`;
  return out;
}
