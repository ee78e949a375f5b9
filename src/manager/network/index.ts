// dock's networking as one library: the NetworkController contract the engine calls at container
// create/start/stop/remove and from its /networks routes, and its options. The engine passes plain
// values (ids, names, strings); nothing here knows the engine's records.
import type { Logger } from '../../log';
import type { CreateNetworkRequest, EndpointSettings, NetworkResource, PortBindingInput, PortMap } from './types';

export type * from './types';
export { buildHostsFile, buildResolvConf, parseExtraHosts, readHostResolvConf } from './files';
export { linkEnv } from './link-env';
export { publishAllBindings, portMap } from './ports';
export { PortAllocatedError } from './errors';

export type NetworkControllerOptions = {
  /** <data-root>/network is where records live. */
  dataRoot: string;
  /** <exec-root>/netns/<container id> are the sandbox bind mounts. */
  execRoot: string;
  log?: Logger;
  /** Device name of the default `bridge` network (dockerd: docker0). */
  defaultBridge?: string;
  /** --bip as a CIDR of the default bridge, e.g. 172.17.0.1/16 (default: first free pool). */
  bip?: string;
  /** dockerd --iptables (default true). Off: no rules, no ip_forward, the proxy carries everything. */
  iptables?: boolean;
  /**
   * DNAT 127.0.0.1 in the kernel (route_localnet on the bridges), so the proxy sees only what
   * the kernel cannot route (IPv6). Default true; false = docker-proxy's way for loopback.
   */
  loopbackDnat?: boolean;
  /** The host resolver configuration file (default /etc/resolv.conf). */
  resolvConf?: string;
  /** Port of the embedded DNS servers (53; tests never need another). */
  dnsPort?: number;
};

export type SandboxOptions = {
  /** Container name without the leading slash (DNS answers and network inspect). */
  name: string;
  /** --dns: the embedded server forwards this container's other queries there. */
  dns?: string[];
};

export type AttachOptions = {
  /** --network-alias (user-defined networks only). */
  aliases?: string[];
  /** --ip. */
  ipv4Address?: string;
  /** --mac-address; default 02:42 + the IPv4 address. */
  macAddress?: string;
  /** --link on a user network: "name:alias", resolvable by this container only. */
  links?: string[];
};

export type LinkRef = { containerId: string; name: string; alias: string; hostname: string };

export type ReconcileReport = { sandboxes: number; veths: number; bridges: number; netns: number; restoredPorts: number; lostPorts: string[] };

export interface NetworkController {
  /** Creates a network (bridge driver); returns its id. Docker's errors for overlaps, names, subnets. */
  createNetwork(req: CreateNetworkRequest): Promise<{ Id: string; Warning: string }>;
  /** Removes a user-defined network; refuses predefined ones and networks with endpoints. */
  removeNetwork(ref: string): Promise<void>;
  /** Every network, as GET /networks lists them (Containers empty, as dockerd). */
  listNetworks(): NetworkResource[];
  /** One network by id, name or unique id prefix, with its Containers. */
  inspectNetwork(ref: string): NetworkResource;
  /** Removes unused user-defined networks accepted by keep-filter; returns their names. */
  pruneNetworks(accept?: (n: NetworkResource) => boolean): Promise<string[]>;
  /** Creates the container's netns (lo up) at <exec-root>/netns/<id>; returns its path for the spec. */
  createSandbox(containerId: string, opts: SandboxOptions): Promise<{ netnsPath: string }>;
  /** The netns path of an existing sandbox (for container:<id> network mode), or undefined. */
  sandboxPath(containerId: string): string | undefined;
  /** Connects the sandbox to a bridge network: address, veth, route; returns inspect's EndpointSettings. */
  attach(containerId: string, network: string, opts?: AttachOptions): Promise<EndpointSettings>;
  /** Disconnects the sandbox from a network; its ports move to another network or stop forwarding. */
  detach(containerId: string, network: string): Promise<void>;
  /** Publishes ports (bound by the proxy, DNAT'd by iptables); returns NetworkSettings.Ports entries. */
  publish(containerId: string, bindings: PortBindingInput[]): Promise<PortMap>;
  /** NetworkSettings.Networks of a sandbox (name → settings). */
  endpoints(containerId: string): Record<string, EndpointSettings>;
  /** NetworkSettings.Ports of a sandbox (exposed ports without bindings shown as null). */
  ports(containerId: string, exposed?: string[]): PortMap;
  /** Tears everything of a container down (ports, veths, netns, leases); idempotent. */
  releaseSandbox(containerId: string): Promise<void>;
  /** Renames a container for DNS and network inspect. */
  renameContainer(containerId: string, name: string): Promise<void>;
  /** /etc/hosts of a container: own addresses, --add-host (host-gateway resolved), links. */
  hostsFile(containerId: string, h: { hostname: string; domainname?: string; extraHosts?: string[]; links?: LinkRef[] }): string;
  /** /etc/resolv.conf: the embedded DNS on user networks, the host's real upstreams otherwise. */
  resolvConf(containerId: string | undefined, r: { dns?: string[]; dnsSearch?: string[]; dnsOptions?: string[] }): string;
  /** The address of a container on the network it shares with links (default bridge first). */
  addressOf(containerId: string): string | undefined;
  /** The host-gateway address (the default bridge's gateway). */
  hostGatewayIp(): string;
  /**
   * Daemon start: tears down sandboxes of containers not in live, removes leaked veths, bridges,
   * netns mounts and rules, rebuilds the iptables chains, restarts proxies and DNS servers.
   */
  reconcile(live: Iterable<string>): Promise<ReconcileReport>;
  /** Daemon stop: closes proxies and DNS servers; kernel state stays for the live containers. */
  close(): Promise<void>;
}

export { createNetworkController } from './controller';
