// The NetworkController implementation: networks and sandboxes in memory, persisted by NetworkStore,
// realised in the kernel by Kernel and Iptables, with the port proxies and DNS servers it owns.
// Every mutation runs under one mutex and persists the record before touching the kernel, so a
// crash leaves a record that reconcile can finish or undo (reconcile.ts).
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { RuntimeError } from '../../errors';
import type { Logger } from '../../log';
import { DnsServer } from './dns';
import { netErrors } from './errors';
import { Mutex, realExec, type NetExec } from './exec';
import { buildHostsFile, buildResolvConf, parseExtraHosts, readHostResolvConf } from './files';
import type { AttachOptions, LinkRef, NetworkController, NetworkControllerOptions, ReconcileReport, SandboxOptions } from './index';
import { Iptables, type RuleNetwork, type RulePort } from './iptables';
import { allocateAddress, checkRequestedAddress, macFromIp, normalizeMac, parseCidr, planIpam, type Cidr } from './ipam';
import { Kernel, bridgeAlias, vethAlias } from './kernel';
import { PortPublisher } from './publish';
import { reconcile } from './reconcile';
import { makeResolver } from './resolver';
import { NetworkStore } from './store';
import type { CreateNetworkRequest, EndpointRecord, EndpointSettings, NetworkRecord, NetworkResource, PortBindingInput, PortMap, SandboxRecord } from './types';

const BRIDGE_NAME_OPT = 'com.docker.network.bridge.name';
const ICC_OPT = 'com.docker.network.bridge.enable_icc';
const MASQ_OPT = 'com.docker.network.bridge.enable_ip_masquerade';

const noopLog: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => noopLog };

export const newId = () => crypto.randomBytes(32).toString('hex');

export async function createNetworkController(opts: NetworkControllerOptions, exec: NetExec = realExec): Promise<NetworkController> {
  const c = new Controller(opts, exec);
  await c.init();
  return c;
}

export class Controller implements NetworkController {
  readonly networks = new Map<string, NetworkRecord>();
  readonly sandboxes = new Map<string, SandboxRecord>();
  readonly dns = new Map<string, DnsServer>();
  readonly store: NetworkStore;
  readonly kernel: Kernel;
  readonly iptables: Iptables | undefined;
  readonly publisher: PortPublisher;
  readonly log: Logger;
  readonly netnsDir: string;
  readonly lock = new Mutex();
  private forwarding = false;
  private readonly resolver = makeResolver({ networks: this.networks, sandboxes: this.sandboxes, hostUpstreams: () => readHostResolvConf(this.opts.resolvConf).nameservers });

  constructor(
    readonly opts: NetworkControllerOptions,
    readonly exec: NetExec,
  ) {
    this.store = new NetworkStore(path.join(opts.dataRoot, 'network'));
    this.kernel = new Kernel(exec);
    const loopbackDnat = opts.iptables !== false && opts.loopbackDnat !== false;
    this.iptables = opts.iptables === false ? undefined : new Iptables(exec, loopbackDnat);
    this.log = opts.log ?? noopLog;
    this.netnsDir = path.join(opts.execRoot, 'netns');
    this.publisher = new PortPublisher(this, { ipv6: true });
  }

  /** Loads records and makes sure the predefined networks exist (records only; reconcile realises them). */
  async init(): Promise<void> {
    for (const n of this.store.loadNetworks()) this.networks.set(n.id, n);
    for (const s of this.store.loadSandboxes()) this.sandboxes.set(s.containerId, s);
    const has = (name: string) => [...this.networks.values()].some((n) => n.name === name);
    for (const [name, driver] of [
      ['host', 'host'],
      ['none', 'null'],
    ] as const)
      if (!has(name)) this.persistNetwork(this.record({ name, driver, isDefault: false }));
    if (!has('bridge')) {
      let ipam;
      if (this.opts.bip) {
        const c = parseCidr(this.opts.bip);
        if (!c) throw netErrors.invalidSubnet(this.opts.bip);
        ipam = planIpam({ subnet: this.opts.bip, gateway: this.opts.bip.split('/')[0] }, []);
      } else ipam = planIpam({}, this.subnetsInUse(), { hostRoutes: await this.hostRoutes() });
      const bridge = this.opts.defaultBridge ?? 'keel0';
      this.persistNetwork({
        ...this.record({ name: 'bridge', driver: 'bridge', isDefault: true }),
        bridge,
        subnet: ipam.subnet,
        gateway: ipam.gateway,
        userSubnet: false,
        options: { 'com.docker.network.bridge.default_bridge': 'true', [ICC_OPT]: 'true', [MASQ_OPT]: 'true', 'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0', [BRIDGE_NAME_OPT]: bridge, 'com.docker.network.driver.mtu': '1500' },
      });
    }
  }

  private record(p: { name: string; driver: NetworkRecord['driver']; isDefault: boolean }): NetworkRecord {
    return { id: newId(), name: p.name, driver: p.driver, created: new Date().toISOString(), internal: false, attachable: false, labels: {}, options: {}, userSubnet: false, ipamOptions: {}, isDefault: p.isDefault };
  }

  private persistNetwork(n: NetworkRecord): void {
    this.store.saveNetwork(n);
    this.networks.set(n.id, n);
  }

  private async hostRoutes(): Promise<Cidr[]> {
    try {
      const dsts = await this.kernel.routes();
      const ours = new Set([...this.networks.values()].map((n) => n.subnet));
      return dsts.filter((d) => !ours.has(d)).map((d) => parseCidr(d.includes('/') ? d : `${d}/32`)).filter((c): c is Cidr => !!c);
    } catch {
      return [];
    }
  }

  subnetsInUse(): Cidr[] {
    return [...this.networks.values()].map((n) => (n.subnet ? parseCidr(n.subnet) : undefined)).filter((c): c is Cidr => !!c);
  }

  findNetwork(ref: string): NetworkRecord {
    const all = [...this.networks.values()];
    const exact = all.find((n) => n.id === ref) ?? all.find((n) => n.name === ref);
    if (exact) return exact;
    const byPrefix = all.filter((n) => n.id.startsWith(ref));
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1) throw netErrors.ambiguous(ref, byPrefix.length);
    throw netErrors.notFound(ref);
  }

  bridgeNetworks(): NetworkRecord[] {
    return [...this.networks.values()].filter((n) => n.driver === 'bridge');
  }

  createNetwork(req: CreateNetworkRequest): Promise<{ Id: string; Warning: string }> {
    return this.lock.run(async () => {
      const driver = req.driver || 'bridge';
      if (driver === 'host' || driver === 'null') throw netErrors.createPredefined(driver);
      if (driver !== 'bridge') throw netErrors.unknownDriver(driver);
      if (req.enableIPv6) throw netErrors.ipv6();
      if ([...this.networks.values()].some((n) => n.name === req.name)) throw netErrors.nameExists(req.name);
      const cfg = (req.ipam?.config ?? []).filter((x) => !x.subnet?.includes(':'));
      if (cfg.length > 1) throw new RuntimeError('NotImplemented', 'dock networks have one IPv4 subnet');
      const ipam = planIpam(cfg[0] ?? {}, this.subnetsInUse(), { hostRoutes: await this.hostRoutes() });
      const id = newId();
      const options = { ...(req.options ?? {}) };
      const bridge = options[BRIDGE_NAME_OPT] || `br-${id.slice(0, 12)}`;
      if (this.bridgeNetworks().some((n) => n.bridge === bridge)) throw netErrors.bridgeTaken(bridge);
      const n: NetworkRecord = {
        ...this.record({ name: req.name, driver: 'bridge', isDefault: false }),
        id,
        internal: !!req.internal,
        attachable: !!req.attachable,
        labels: { ...(req.labels ?? {}) },
        options,
        bridge,
        subnet: ipam.subnet,
        gateway: ipam.gateway,
        ipRange: ipam.ipRange,
        userSubnet: ipam.userSubnet,
        ipamOptions: { ...(req.ipam?.options ?? {}) },
      };
      this.persistNetwork(n);
      try {
        await this.realizeNetwork(n);
      } catch (e) {
        await this.unrealizeNetwork(n).catch(() => undefined);
        this.store.deleteNetwork(n.id);
        this.networks.delete(n.id);
        throw e;
      }
      this.log.info({ network: n.name, id: n.id.slice(0, 12), subnet: n.subnet }, 'network created');
      return { Id: id, Warning: '' };
    });
  }

  /** Bridge device, rules and (user networks) the DNS server. */
  async realizeNetwork(n: NetworkRecord): Promise<void> {
    const prefix = n.subnet!.split('/')[1];
    await this.kernel.createBridge(n.bridge!, `${n.gateway}/${prefix}`, bridgeAlias(n.id), !!this.iptables && this.opts.loopbackDnat !== false);
    await this.applyRules();
    if (!n.isDefault) await this.startDns(n);
  }

  async startDns(n: NetworkRecord): Promise<void> {
    if (this.dns.has(n.id)) return;
    this.dns.set(n.id, await DnsServer.start(n.gateway!, this.resolver, this.opts.dnsPort ?? 53));
  }

  private async unrealizeNetwork(n: NetworkRecord): Promise<void> {
    const d = this.dns.get(n.id);
    this.dns.delete(n.id);
    await d?.close();
    await this.kernel.deleteLink(n.bridge!);
  }

  removeNetwork(ref: string): Promise<void> {
    return this.lock.run(async () => {
      const n = this.findNetwork(ref);
      if (n.driver !== 'bridge' || n.isDefault) throw netErrors.predefined(n.name);
      if ([...this.sandboxes.values()].some((s) => s.endpoints.some((e) => e.networkId === n.id))) throw netErrors.activeEndpoints(n.name, n.id);
      this.store.deleteNetwork(n.id);
      this.networks.delete(n.id);
      // Its last ports may still be leaving it (teardown): the bridge goes after them.
      await this.kernel.settle();
      await this.unrealizeNetwork(n);
      await this.applyRules();
      this.log.info({ network: n.name, id: n.id.slice(0, 12) }, 'network removed');
    });
  }

  private resource(n: NetworkRecord, withContainers: boolean): NetworkResource {
    const containers: NetworkResource['Containers'] = {};
    if (withContainers)
      for (const s of this.sandboxes.values())
        for (const e of s.endpoints)
          if (e.networkId === n.id) containers[s.containerId] = { Name: s.name, EndpointID: e.endpointId, MacAddress: e.mac, IPv4Address: `${e.ipv4}/${e.prefixLen}`, IPv6Address: '' };
    const config: NetworkResource['IPAM']['Config'] = [];
    if (n.subnet) config.push({ Subnet: n.subnet, Gateway: n.gateway, ...(n.ipRange ? { IPRange: n.ipRange } : {}) });
    return {
      Name: n.name,
      Id: n.id,
      Created: n.created,
      Scope: 'local',
      Driver: n.driver,
      EnableIPv6: false,
      IPAM: { Driver: 'default', Options: n.isDefault || n.driver !== 'bridge' ? null : n.ipamOptions, Config: config },
      Internal: n.internal,
      Attachable: n.attachable,
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Containers: containers,
      Options: n.options,
      Labels: n.labels,
    };
  }

  listNetworks(): NetworkResource[] {
    return [...this.networks.values()].map((n) => this.resource(n, false));
  }

  inspectNetwork(ref: string): NetworkResource {
    return this.resource(this.findNetwork(ref), true);
  }

  async pruneNetworks(accept: (n: NetworkResource) => boolean = () => true): Promise<string[]> {
    const removed: string[] = [];
    for (const n of [...this.networks.values()]) {
      if (n.driver !== 'bridge' || n.isDefault) continue;
      if ([...this.sandboxes.values()].some((s) => s.endpoints.some((e) => e.networkId === n.id))) continue;
      if (!accept(this.resource(n, false))) continue;
      try {
        await this.removeNetwork(n.id);
        removed.push(n.name);
      } catch (e) {
        this.log.warn({ network: n.name, err: (e as Error).message }, 'prune: network kept');
      }
    }
    return removed;
  }

  createSandbox(containerId: string, opts: SandboxOptions): Promise<{ netnsPath: string }> {
    return this.lock.run(async () => {
      const existing = this.sandboxes.get(containerId);
      if (existing) return { netnsPath: existing.netnsPath };
      const s: SandboxRecord = { containerId, name: opts.name, netnsPath: path.join(this.netnsDir, containerId), endpoints: [], ports: [], dns: opts.dns ?? [] };
      this.store.saveSandbox(s);
      this.sandboxes.set(containerId, s);
      try {
        await this.kernel.createNetns(s.netnsPath);
      } catch (e) {
        this.sandboxes.delete(containerId);
        this.store.deleteSandbox(containerId);
        throw e;
      }
      return { netnsPath: s.netnsPath };
    });
  }

  sandboxPath(containerId: string): string | undefined {
    return this.sandboxes.get(containerId)?.netnsPath;
  }

  sandbox(containerId: string): SandboxRecord {
    const s = this.sandboxes.get(containerId);
    if (!s) throw netErrors.noSandbox(containerId);
    return s;
  }

  attach(containerId: string, network: string, opts: AttachOptions = {}): Promise<EndpointSettings> {
    return this.lock.run(async () => {
      const s = this.sandbox(containerId);
      const n = this.findNetwork(network);
      if (n.driver !== 'bridge') throw new RuntimeError('PermissionDenied', 'container cannot be disconnected from host network or connected to host network');
      if (s.endpoints.some((e) => e.networkId === n.id)) throw netErrors.alreadyAttached(s.name, n.name);
      if (n.isDefault && (opts.aliases?.length ?? 0) > 0) throw netErrors.aliasOnDefault();
      const used = new Set<string>([n.gateway!]);
      for (const o of this.sandboxes.values()) for (const e of o.endpoints) if (e.networkId === n.id) used.add(e.ipv4);
      let ip: string;
      if (opts.ipv4Address) {
        if (n.isDefault) throw netErrors.ipOnDefault();
        if (!n.userSubnet) throw netErrors.ipNeedsSubnet();
        checkRequestedAddress(n.subnet!, opts.ipv4Address, used);
        ip = opts.ipv4Address;
      } else ip = allocateAddress(n.subnet!, n.ipRange, used, n.name);
      const names = new Set(s.endpoints.map((e) => e.ifname));
      let k = 0;
      while (names.has(`eth${k}`)) k++;
      const ep: EndpointRecord = {
        networkId: n.id,
        endpointId: newId(),
        ifname: `eth${k}`,
        hostIf: `veth${crypto.randomBytes(4).toString('hex').slice(0, 7)}`,
        ipv4: ip,
        prefixLen: Number(n.subnet!.split('/')[1]),
        mac: opts.macAddress ? normalizeMac(opts.macAddress) : macFromIp(ip),
        gateway: n.gateway!,
        requestedIp: opts.ipv4Address,
        aliases: [...(opts.aliases ?? [])],
        links: [...(opts.links ?? [])],
      };
      s.endpoints.push(ep);
      this.store.saveSandbox(s);
      try {
        await this.realizeEndpoint(s, ep, n, this.gatewayEndpoint(s) === ep);
        await this.publisher.retarget(s);
      } catch (e) {
        s.endpoints = s.endpoints.filter((x) => x !== ep);
        this.store.saveSandbox(s);
        await this.kernel.deleteLinks([ep.hostIf]).catch(() => undefined);
        this.kernel.forgetSandbox(s.netnsPath);
        throw e;
      }
      return this.settings(s, ep);
    });
  }

  /** The veth of one endpoint; with isGateway its gateway becomes the default route in the same step. */
  async realizeEndpoint(s: SandboxRecord, ep: EndpointRecord, n: NetworkRecord, isGateway: boolean): Promise<void> {
    await this.kernel.addVeth({
      hostIf: ep.hostIf,
      ifname: ep.ifname,
      mac: ep.mac,
      netnsPath: s.netnsPath,
      bridge: n.bridge!,
      alias: vethAlias(s.containerId, n.id),
      address: `${ep.ipv4}/${ep.prefixLen}`,
      defaultVia: isGateway ? ep.gateway : undefined,
    });
  }

  /** The endpoint that carries the default route and the published ports: first non-internal one. */
  gatewayEndpoint(s: SandboxRecord): EndpointRecord | undefined {
    return s.endpoints.find((e) => !this.networks.get(e.networkId)?.internal) ?? s.endpoints[0];
  }

  async updateGateway(s: SandboxRecord): Promise<void> {
    const g = this.gatewayEndpoint(s);
    await this.kernel.setDefaultRoute(s.netnsPath, g ? { ip: g.gateway, ifname: g.ifname } : undefined);
  }

  detach(containerId: string, network: string): Promise<void> {
    return this.lock.run(async () => {
      const s = this.sandbox(containerId);
      const n = this.findNetwork(network);
      const ep = s.endpoints.find((e) => e.networkId === n.id);
      if (!ep) throw netErrors.notAttached(s.name, n.name);
      s.endpoints = s.endpoints.filter((e) => e !== ep);
      this.store.saveSandbox(s);
      await this.kernel.deleteLinks([ep.hostIf]);
      this.kernel.forgetSandbox(s.netnsPath);
      await this.updateGateway(s);
      await this.publisher.retarget(s);
    });
  }

  publish(containerId: string, bindings: PortBindingInput[]): Promise<PortMap> {
    return this.lock.run(() => this.publisher.publish(this.sandbox(containerId), bindings));
  }

  settings(s: SandboxRecord, ep: EndpointRecord): EndpointSettings {
    const n = this.networks.get(ep.networkId);
    const user = n && !n.isDefault;
    return {
      IPAMConfig: ep.requestedIp ? { IPv4Address: ep.requestedIp } : null,
      Links: ep.links.length > 0 ? ep.links : null,
      Aliases: user ? [...ep.aliases, s.containerId.slice(0, 12)] : null,
      NetworkID: ep.networkId,
      EndpointID: ep.endpointId,
      Gateway: ep.gateway,
      IPAddress: ep.ipv4,
      IPPrefixLen: ep.prefixLen,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      MacAddress: ep.mac,
      DriverOpts: null,
    };
  }

  endpoints(containerId: string): Record<string, EndpointSettings> {
    const s = this.sandboxes.get(containerId);
    const out: Record<string, EndpointSettings> = {};
    for (const ep of s?.endpoints ?? []) out[this.networks.get(ep.networkId)?.name ?? ep.networkId] = this.settings(s!, ep);
    return out;
  }

  ports(containerId: string, exposed: string[] = []): PortMap {
    return this.publisher.portMap(this.sandboxes.get(containerId), exposed);
  }

  releaseSandbox(containerId: string): Promise<void> {
    return this.lock.run(() => this.teardown(containerId));
  }

  /** Everything of one sandbox, in reverse order of creation; tolerant of parts already gone. */
  async teardown(containerId: string): Promise<void> {
    const s = this.sandboxes.get(containerId);
    if (!s) return;
    await this.publisher.closeAll(containerId);
    // The netns first: once it is unmounted (and the container's processes are gone) nothing uses
    // the veths, which leave their bridges now and are deleted without the caller (Kernel.releaseVeths).
    await this.kernel.removeNetns(s.netnsPath);
    await this.kernel.releaseVeths(s.endpoints.map((ep) => ep.hostIf));
    this.sandboxes.delete(containerId);
    this.store.deleteSandbox(containerId);
    if (s.ports.length > 0) await this.applyRules();
  }

  async renameContainer(containerId: string, name: string): Promise<void> {
    await this.lock.run(async () => {
      const s = this.sandboxes.get(containerId);
      if (!s) return;
      s.name = name;
      this.store.saveSandbox(s);
    });
  }

  hostGatewayIp(): string {
    return [...this.networks.values()].find((n) => n.isDefault)!.gateway!;
  }

  addressOf(containerId: string): string | undefined {
    const s = this.sandboxes.get(containerId);
    if (!s) return undefined;
    const def = s.endpoints.find((e) => this.networks.get(e.networkId)?.isDefault);
    return (def ?? s.endpoints[0])?.ipv4;
  }

  hostsFile(containerId: string, h: { hostname: string; domainname?: string; extraHosts?: string[]; links?: LinkRef[] }): string {
    const s = this.sandboxes.get(containerId);
    return buildHostsFile({
      hostname: h.hostname,
      domainname: h.domainname,
      addresses: (s?.endpoints ?? []).map((e) => e.ipv4),
      extraHosts: parseExtraHosts(h.extraHosts ?? [], this.hostGatewayIp()),
      links: (h.links ?? []).flatMap((l) => {
        const ip = this.addressOf(l.containerId);
        return ip ? [{ ip, alias: l.alias, name: l.name, hostname: l.hostname }] : [];
      }),
    });
  }

  resolvConf(containerId: string | undefined, r: { dns?: string[]; dnsSearch?: string[]; dnsOptions?: string[] }): string {
    const s = containerId ? this.sandboxes.get(containerId) : undefined;
    const user = s?.endpoints.find((e) => {
      const n = this.networks.get(e.networkId);
      return n && !n.isDefault;
    });
    return buildResolvConf({ host: readHostResolvConf(this.opts.resolvConf), dns: r.dns, dnsSearch: r.dnsSearch, dnsOptions: r.dnsOptions, embeddedDns: user?.gateway });
  }

  /** Rebuilds our iptables chains from the records. */
  async applyRules(): Promise<void> {
    if (!this.iptables) return;
    // dockerd turns forwarding on: bridges route nothing without it.
    if (!this.forwarding) {
      if (this.kernel.readSysctl('ipv4/ip_forward') !== '1') this.kernel.sysctl('ipv4/ip_forward', '1');
      this.forwarding = true;
    }
    const nets: RuleNetwork[] = this.bridgeNetworks().map((n) => ({
      id: n.id,
      bridge: n.bridge!,
      subnet: n.subnet!,
      internal: n.internal,
      icc: n.options[ICC_OPT] !== 'false',
      masquerade: n.options[MASQ_OPT] !== 'false',
    }));
    const ports: RulePort[] = [];
    for (const s of this.sandboxes.values())
      for (const p of s.ports) {
        const n = this.networks.get(p.networkId);
        if (!n || !p.containerIp || n.internal) continue;
        ports.push({ owner: s.containerId, bridge: n.bridge!, containerIp: p.containerIp, containerPort: p.containerPort, proto: p.proto, hostIp: p.hostIp, hostPort: p.hostPort });
      }
    await this.iptables.apply(nets, ports);
  }

  reconcile(live: Iterable<string>): Promise<ReconcileReport> {
    return this.lock.run(() => reconcile(this, new Set(live)));
  }

  async close(): Promise<void> {
    await this.lock.run(async () => {
      await this.publisher.closeEverything();
      for (const d of this.dns.values()) await d.close();
      this.dns.clear();
      await this.kernel.close();
    });
  }
}
