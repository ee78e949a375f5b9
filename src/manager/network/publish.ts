// Publishing ports of one sandbox: pick host ports (fixed, range, random), refuse clashes with
// dockerd's words naming the holder, bind a proxy per host address (the reservation), record the
// bindings and let the controller rebuild the DNAT rules. Undoes its own binds on failure.
import { netErrors } from './errors';
import { candidates, ephemeralRange, findClash, hostIpsOf, parseHostPort, portMap, type Reservation } from './ports';
import { startProxy, type PortProxy } from './proxy';
import type { Controller } from './controller';
import type { BoundPort, PortBindingInput, PortMap, SandboxRecord } from './types';

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? '';
}

const BIND_WORDS: Record<string, string> = { EADDRINUSE: 'address already in use', EACCES: 'permission denied', EADDRNOTAVAIL: 'cannot assign requested address' };

export class PortPublisher {
  private readonly proxies = new Map<string, PortProxy[]>();
  private readonly last: Record<string, number | undefined> = {};
  private ipv6: boolean;

  constructor(
    private readonly c: Controller,
    opts: { ipv6: boolean },
  ) {
    this.ipv6 = opts.ipv6;
  }

  private reservations(extra: Reservation[]): Reservation[] {
    const out = [...extra];
    for (const s of this.c.sandboxes.values()) for (const p of s.ports) out.push({ proto: p.proto, hostIp: p.hostIp, hostPort: p.hostPort, owner: s.containerId });
    return out;
  }

  private target(s: SandboxRecord): { networkId: string; ip: string } {
    const g = this.c.gatewayEndpoint(s);
    const n = g ? this.c.networks.get(g.networkId) : undefined;
    return g && n && !n.internal ? { networkId: g.networkId, ip: g.ipv4 } : { networkId: g?.networkId ?? '', ip: '' };
  }

  /** Binds one proxy; IPv6 unavailable on this host turns the IPv6 half of wildcard bindings off. */
  private async bind(proto: 'tcp' | 'udp', hostIp: string, port: number, to: { ip: string; port: number } | undefined): Promise<PortProxy | 'no-v6'> {
    try {
      return await startProxy(proto, hostIp, port, to);
    } catch (e) {
      if (hostIp === '::' && ['EAFNOSUPPORT', 'EADDRNOTAVAIL', 'EPROTONOSUPPORT'].includes(code(e))) {
        this.ipv6 = false;
        return 'no-v6';
      }
      throw e;
    }
  }

  async publish(s: SandboxRecord, bindings: PortBindingInput[]): Promise<PortMap> {
    // Nothing to bind, record or DNAT: no iptables-restore (a process launch) on such a start.
    if (bindings.length === 0) return portMap(s.ports);
    const t = this.target(s);
    const epId = s.endpoints.find((e) => e.networkId === t.networkId)?.endpointId ?? s.containerId;
    const opened: PortProxy[] = [];
    const added: BoundPort[] = [];
    const range = ephemeralRange();
    try {
      for (const b of bindings) {
        const proto = b.proto ?? 'tcp';
        const spec = parseHostPort(b.hostPort);
        const to = t.ip ? { ip: t.ip, port: b.containerPort } : undefined;
        let done = false;
        for (const port of candidates(spec, range, this.last[proto])) {
          const ips = hostIpsOf(b, this.ipv6);
          const held = this.reservations(added.map((a) => ({ proto: a.proto, hostIp: a.hostIp, hostPort: a.hostPort, owner: s.containerId })));
          const clash = ips.map((ip) => findClash(held, proto, ip, port)).find(Boolean);
          if (clash) {
            if (spec.kind === 'fixed') throw netErrors.portAllocated(s.name, epId, ips[0]!, port, clash.owner);
            continue;
          }
          const mine: PortProxy[] = [];
          try {
            for (const ip of ips) {
              const p = await this.bind(proto, ip, port, to);
              if (p !== 'no-v6') mine.push(p);
            }
          } catch (e) {
            for (const p of mine) await p.close();
            if (spec.kind === 'fixed' || code(e) !== 'EADDRINUSE') {
              const ip = mine.length === 0 ? ips[0]! : ips[mine.length]!;
              throw netErrors.proxyBind(s.name, epId, proto, ip, port, BIND_WORDS[code(e)] ?? (e as Error).message);
            }
            continue;
          }
          opened.push(...mine);
          for (const p of mine) added.push({ containerPort: b.containerPort, proto, hostIp: p.hostIp, hostPort: port, networkId: t.networkId, containerIp: t.ip });
          if (spec.kind === 'random') this.last[proto] = port;
          done = true;
          break;
        }
        if (!done) throw netErrors.noFreePort(hostIpsOf(b, this.ipv6)[0]!, spec.kind === 'range' ? `${spec.from}-${spec.to}` : `${range.from}-${range.to}`);
      }
      s.ports.push(...added);
      this.c.store.saveSandbox(s);
      await this.c.applyRules();
    } catch (e) {
      for (const p of opened) await p.close();
      if (added.length > 0 && s.ports.includes(added[0]!)) {
        s.ports = s.ports.filter((p) => !added.includes(p));
        this.c.store.saveSandbox(s);
      }
      throw e;
    }
    this.proxies.set(s.containerId, [...(this.proxies.get(s.containerId) ?? []), ...opened]);
    return portMap(s.ports);
  }

  /** After attach/detach: the ports follow the sandbox's gateway endpoint. */
  async retarget(s: SandboxRecord): Promise<void> {
    if (s.ports.length === 0) return;
    const t = this.target(s);
    for (const p of s.ports) {
      p.networkId = t.networkId;
      p.containerIp = t.ip;
    }
    for (const px of this.proxies.get(s.containerId) ?? []) {
      const p = s.ports.find((x) => x.hostIp === px.hostIp && x.hostPort === px.hostPort && x.proto === px.proto);
      px.retarget(p && t.ip ? { ip: t.ip, port: p.containerPort } : undefined);
    }
    this.c.store.saveSandbox(s);
    await this.c.applyRules();
  }

  /** Re-binds the proxies of a live sandbox at daemon start; ports that cannot be bound are dropped. */
  async restore(s: SandboxRecord): Promise<{ restored: number; lost: string[] }> {
    const lost: string[] = [];
    const kept: BoundPort[] = [];
    const opened: PortProxy[] = [];
    for (const p of s.ports) {
      try {
        opened.push(await startProxy(p.proto, p.hostIp, p.hostPort, p.containerIp ? { ip: p.containerIp, port: p.containerPort } : undefined));
        kept.push(p);
      } catch (e) {
        lost.push(`${p.hostIp}:${p.hostPort}/${p.proto} (${code(e) || (e as Error).message})`);
      }
    }
    if (lost.length > 0) {
      s.ports = kept;
      this.c.store.saveSandbox(s);
    }
    this.proxies.set(s.containerId, opened);
    return { restored: kept.length, lost };
  }

  portMap(s: SandboxRecord | undefined, exposed: string[]): PortMap {
    return portMap(s?.ports ?? [], exposed);
  }

  async closeAll(containerId: string): Promise<void> {
    for (const p of this.proxies.get(containerId) ?? []) await p.close();
    this.proxies.delete(containerId);
  }

  async closeEverything(): Promise<void> {
    for (const id of [...this.proxies.keys()]) await this.closeAll(id);
  }
}
