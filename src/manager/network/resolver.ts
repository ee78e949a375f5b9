// Name resolution over the controller's state, by the querier's source address: a container sees
// the names (container name, aliases, 12-char id, "name.network") of every container on the
// user-defined networks it is on, plus its own link aliases; nothing else. Pure over the maps.
import type { Answer, Resolver } from './dns';
import type { NetworkRecord, SandboxRecord } from './types';

export type StateView = {
  networks: Map<string, NetworkRecord>;
  sandboxes: Map<string, SandboxRecord>;
  /** Upstreams for queriers without --dns (the host's nameservers; the daemon can reach loopback ones). */
  hostUpstreams: () => string[];
};

function querier(v: StateView, src: string) {
  for (const s of v.sandboxes.values()) for (const e of s.endpoints) if (e.ipv4 === src) return { s, e };
  return undefined;
}

function dnsNetworks(v: StateView, s: SandboxRecord, first: string): NetworkRecord[] {
  const nets = s.endpoints.map((e) => v.networks.get(e.networkId)).filter((n): n is NetworkRecord => !!n && n.driver === 'bridge' && !n.isDefault);
  return nets.sort((a, b) => (a.id === first ? -1 : b.id === first ? 1 : 0));
}

/** Addresses of `name` on network n (every container answering to it: DNS round robin). */
function lookupOn(v: StateView, n: NetworkRecord, name: string): string[] {
  const ips: string[] = [];
  for (const s of v.sandboxes.values()) {
    const e = s.endpoints.find((x) => x.networkId === n.id);
    if (!e) continue;
    const names = [s.name, s.containerId.slice(0, 12), ...e.aliases].map((x) => x.toLowerCase());
    if (names.includes(name)) ips.push(e.ipv4);
  }
  return ips;
}

export function makeResolver(v: StateView): Resolver {
  return {
    resolve(src, qname, qtype): Answer | undefined {
      const q = querier(v, src);
      if (!q) return undefined;
      const name = qname.toLowerCase().replace(/\.$/, '');
      const nets = dnsNetworks(v, q.s, q.e.networkId);
      if (qtype === 'PTR') {
        const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(name);
        if (!m) return undefined;
        const ip = [m[4], m[3], m[2], m[1]].join('.');
        for (const n of nets)
          for (const s of v.sandboxes.values()) {
            const e = s.endpoints.find((x) => x.networkId === n.id && x.ipv4 === ip);
            if (e) return { ptr: `${s.name}.${n.name}` };
          }
        return undefined;
      }
      for (const n of nets) {
        let target = name;
        // "web.mynet" names web on mynet.
        if (target.endsWith(`.${n.name.toLowerCase()}`)) target = target.slice(0, -n.name.length - 1);
        // Link aliases are private to the linking container.
        const ep = q.s.endpoints.find((x) => x.networkId === n.id);
        for (const l of ep?.links ?? []) {
          const [linked, alias] = l.split(':');
          if (alias?.toLowerCase() === target) target = linked!.toLowerCase();
        }
        const ips = lookupOn(v, n, target);
        if (ips.length > 0) return qtype === 'A' || qtype === 'ANY' ? { ips } : 'nodata';
      }
      return undefined;
    },
    upstreams(src) {
      const q = querier(v, src);
      if (!q) return v.hostUpstreams();
      const external = q.s.endpoints.some((e) => {
        const n = v.networks.get(e.networkId);
        return n && !n.internal;
      });
      if (!external) return [];
      return q.s.dns.length > 0 ? q.s.dns : v.hostUpstreams();
    },
  };
}
