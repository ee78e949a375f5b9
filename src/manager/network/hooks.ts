// The engine's NetworkHooks (src/manager/containers/network-hooks.ts) over the NetworkController:
// the one place that reads the engine's records (HostConfig, NetworkingConfig, NetworkSettings) and
// turns them into plain controller calls. `none`, `host` and `container:` stay with BasicNetworking.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { RuntimeError } from '../../errors';
import type { Logger } from '../../log';
import { BasicNetworking, type NetworkHooks, type NetworkSetup } from '../containers/network-hooks';
import type { ContainerConfig, ContainerRecord, EndpointSettings, HostConfig, NetworkSettings } from '../containers/types';
import { createNetworkController, linkEnv, publishAllBindings, type LinkRef, type NetworkController, type NetworkControllerOptions } from './index';
import type { PortBindingInput, PortProto } from './types';

/** What the hooks need to know about another container (links). */
export type ContainerLookup = (ref: string) => ContainerRecord | undefined;

const isBasic = (mode: string) => mode === 'none' || mode === 'host' || mode.startsWith('container:');
const modeOf = (hc: HostConfig) => (!hc.NetworkMode || hc.NetworkMode === 'default' ? 'bridge' : hc.NetworkMode);

/** HostConfig.PortBindings (+ -P over ExposedPorts) as controller bindings. */
export function bindingsOf(hc: HostConfig, config: ContainerConfig): PortBindingInput[] {
  const out: PortBindingInput[] = [];
  for (const [key, list] of Object.entries(hc.PortBindings ?? {})) {
    const [p, proto] = key.split('/');
    for (const b of list ?? []) out.push({ containerPort: Number(p), proto: (proto ?? 'tcp') as PortProto, hostIp: b.HostIp ?? '', hostPort: b.HostPort ?? '' });
  }
  return hc.PublishAllPorts ? publishAllBindings(Object.keys(config.ExposedPorts ?? {}), out) : out;
}

export class BridgeNetworking implements NetworkHooks {
  private readonly basic = new BasicNetworking();

  constructor(
    /** For the /networks routes: the same controller the hooks drive. */
    readonly controller: NetworkController,
    private readonly lookup: ContainerLookup = () => undefined,
  ) {}

  /** Networks are looked up at start, as dockerd does: create accepts any name. */
  async validate(): Promise<void> {}

  async created(rec: ContainerRecord, endpoints: Record<string, unknown>): Promise<NetworkSettings> {
    const s = await this.basic.created();
    const mode = modeOf(rec.HostConfig);
    // The CLI names the default network "default" in EndpointsConfig: that is the mode's own network.
    const names = isBasic(mode) ? [] : [mode, ...Object.keys(endpoints).filter((n) => n !== mode && n !== 'default')];
    for (const name of names) {
      // An unknown network is kept by the name given; setup (start) fails on it in dockerd's words.
      let n = { Name: name, Id: '' };
      try {
        n = this.controller.inspectNetwork(name);
      } catch {
        /* not (yet) there */
      }
      const cfg = (endpoints[name] ?? (name === mode ? endpoints.default : undefined) ?? {}) as EndpointSettings;
      s.Networks[n.Name] = { IPAMConfig: cfg.IPAMConfig ?? null, Links: cfg.Links ?? null, Aliases: cfg.Aliases ?? null, NetworkID: n.Id, EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: cfg.MacAddress ?? '', DriverOpts: null };
    }
    return s;
  }

  async setup(rec: ContainerRecord, dir: string, resolvePid: (ref: string) => number): Promise<NetworkSetup> {
    const hc = rec.HostConfig;
    if (isBasic(modeOf(hc))) return this.basic.setup(rec, dir, resolvePid);
    const id = rec.ID;
    const name = rec.Name.replace(/^\//, '');
    const { netnsPath } = await this.controller.createSandbox(id, { name, dns: hc.Dns ?? [] });
    try {
      const links = this.links(rec);
      const env: string[] = [];
      const nets = Object.entries(rec.NetworkSettings.Networks);
      for (const [i, [net, cfg]] of nets.entries()) {
        const def = this.controller.inspectNetwork(net).Options['com.docker.network.bridge.default_bridge'] === 'true';
        const ep = await this.controller.attach(id, net, {
          aliases: def ? [] : (cfg.Aliases ?? []).filter((a) => a !== id.slice(0, 12)),
          ipv4Address: cfg.IPAMConfig?.IPv4Address || undefined,
          macAddress: cfg.MacAddress || (i === 0 ? rec.Config.MacAddress : undefined) || undefined,
          links: def ? [] : links.map((l) => `${l.name}:${l.alias}`),
        });
        rec.NetworkSettings.Networks[net] = { ...ep, Aliases: def ? null : ep.Aliases };
      }
      rec.NetworkSettings.Ports = await this.controller.publish(id, bindingsOf(hc, rec.Config));
      for (const p of Object.keys(rec.Config.ExposedPorts ?? {})) rec.NetworkSettings.Ports[p] ??= null;
      const bridge = rec.NetworkSettings.Networks.bridge;
      Object.assign(rec.NetworkSettings, {
        SandboxID: id,
        SandboxKey: netnsPath,
        IPAddress: bridge?.IPAddress ?? '',
        IPPrefixLen: bridge?.IPPrefixLen ?? 0,
        Gateway: bridge?.Gateway ?? '',
        MacAddress: bridge?.MacAddress ?? '',
      });
      for (const l of links) {
        const child = this.lookup(l.containerId);
        const ip = this.controller.addressOf(l.containerId);
        if (child && ip) env.push(...linkEnv({ parentName: name, alias: l.alias, childIp: ip, exposedPorts: Object.keys(child.Config.ExposedPorts ?? {}), childEnv: child.Config.Env ?? [] }));
      }
      const hostname = rec.Config.Hostname || id.slice(0, 12);
      const files = { hosts: path.join(dir, 'hosts'), hostname: path.join(dir, 'hostname'), resolvConf: path.join(dir, 'resolv.conf') };
      await fs.writeFile(files.hosts, this.controller.hostsFile(id, { hostname, domainname: rec.Config.Domainname, extraHosts: hc.ExtraHosts ?? [], links }), { mode: 0o644 });
      await fs.writeFile(files.hostname, `${hostname}\n`, { mode: 0o644 });
      await fs.writeFile(files.resolvConf, this.controller.resolvConf(id, { dns: hc.Dns ?? [], dnsSearch: hc.DnsSearch ?? [], dnsOptions: hc.DnsOptions ?? [] }), { mode: 0o644 });
      return { netns: netnsPath, etcFiles: files, env };
    } catch (e) {
      await this.controller.releaseSandbox(id).catch(() => undefined);
      throw e;
    }
  }

  /**
   * Rewrites a running container's /etc/hosts and /etc/resolv.conf after it joined or left a
   * network (dockerd does the same): in place, since the container sees the files through bind
   * mounts of these very inodes.
   */
  async refreshFiles(rec: ContainerRecord, dir: string): Promise<void> {
    const hc = rec.HostConfig;
    const id = rec.ID;
    const hostname = rec.Config.Hostname || id.slice(0, 12);
    const write = async (file: string, text: string) => {
      const fh = await fs.open(file, 'r+').catch(() => undefined);
      if (!fh) return;
      try {
        await fh.truncate(0);
        await fh.write(text, 0);
      } finally {
        await fh.close();
      }
    };
    await write(path.join(dir, 'hosts'), this.controller.hostsFile(id, { hostname, domainname: rec.Config.Domainname, extraHosts: hc.ExtraHosts ?? [], links: this.links(rec) }));
    await write(path.join(dir, 'resolv.conf'), this.controller.resolvConf(id, { dns: hc.Dns ?? [], dnsSearch: hc.DnsSearch ?? [], dnsOptions: hc.DnsOptions ?? [] }));
  }

  /** HostConfig.Links ("/src:/me/alias") as the controller's link references. */
  private links(rec: ContainerRecord): LinkRef[] {
    return (rec.HostConfig.Links ?? []).flatMap((l) => {
      const [src, dst] = l.split(':');
      const child = this.lookup(src!.replace(/^\//, ''));
      if (!child) throw new RuntimeError('InvalidArgument', `could not get container for ${src!.replace(/^\//, '')}`);
      return [{ containerId: child.ID, name: child.Name.replace(/^\//, ''), alias: path.basename(dst ?? src!), hostname: child.Config.Hostname || child.ID.slice(0, 12) }];
    });
  }

  async teardown(rec: ContainerRecord): Promise<void> {
    if (isBasic(modeOf(rec.HostConfig))) return;
    await this.controller.releaseSandbox(rec.ID);
    const s = rec.NetworkSettings;
    for (const ep of Object.values(s.Networks)) Object.assign(ep, { EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '' });
    Object.assign(s, { SandboxID: '', SandboxKey: '', Ports: {}, IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '' });
  }

  async removed(rec: ContainerRecord): Promise<void> {
    await this.controller.releaseSandbox(rec.ID);
  }

  async renamed(rec: ContainerRecord): Promise<void> {
    await this.controller.renameContainer(rec.ID, rec.Name.replace(/^\//, ''));
  }
}

/**
 * The daemon's `network` factory: a controller on the daemon's roots, reconciled so that sandboxes
 * on record are kept (their containers may be alive under their shims) and everything of ours
 * without a record is removed. Call controller.reconcile(liveIds) again once the engine knows which
 * containers survived, and releaseSandbox for those that did not.
 */
export async function createBridgeNetworking(deps: { dataRoot: string; execRoot: string; log: Logger; lookup?: ContainerLookup } & Partial<NetworkControllerOptions>): Promise<BridgeNetworking> {
  const { lookup, ...opts } = deps;
  const controller = await createNetworkController(opts);
  const known = await fs.readdir(path.join(opts.dataRoot, 'network', 'sandboxes')).catch(() => [] as string[]);
  await controller.reconcile(known.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)));
  return new BridgeNetworking(controller, lookup);
}
