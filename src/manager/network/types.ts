// Data shapes of dock's networking: the controller's plain inputs (camelCase, independent of the
// engine's records) and the Docker API shapes it returns (PascalCase, as `network inspect` and
// `container inspect` show them). No behaviour here.

/** What `docker network create` sends (POST /networks/create), in plain form. */
export type CreateNetworkRequest = {
  name: string;
  /** `bridge` (default); `host` and `null` exist once each and cannot be created. */
  driver?: string;
  /** At most one IPv4 entry: subnet, gateway and ip-range in CIDR/dotted form. */
  ipam?: { driver?: string; options?: Record<string, string>; config?: IpamConfigInput[] };
  internal?: boolean;
  attachable?: boolean;
  enableIPv6?: boolean;
  labels?: Record<string, string>;
  /** Driver options; `com.docker.network.bridge.name` names the bridge device. */
  options?: Record<string, string>;
};

export type IpamConfigInput = { subnet?: string; ipRange?: string; gateway?: string; auxAddresses?: Record<string, string> };

/** A network as persisted under <data-root>/network/networks/<id>.json. */
export type NetworkRecord = {
  id: string;
  name: string;
  driver: 'bridge' | 'host' | 'null';
  created: string;
  internal: boolean;
  attachable: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  /** Bridge device name (bridge driver only). */
  bridge?: string;
  /** CIDR of the subnet, dotted gateway, optional CIDR of the allocation range (bridge only). */
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  /** The user gave the subnet (so --ip is allowed, as dockerd requires). */
  userSubnet: boolean;
  /** The user gave IPAM config at all: inspect shows Options {} vs the chosen pool. */
  ipamOptions: Record<string, string>;
  /** The predefined `bridge` network: no name resolution, legacy links. */
  isDefault: boolean;
};

/** One container's membership of one network, persisted in its sandbox record. */
export type EndpointRecord = {
  networkId: string;
  endpointId: string;
  /** Interface name inside the sandbox (eth0, eth1, ...). */
  ifname: string;
  /** Host side of the veth pair. */
  hostIf: string;
  ipv4: string;
  prefixLen: number;
  mac: string;
  gateway: string;
  /** The address was asked for (--ip): shown as IPAMConfig. */
  requestedIp?: string;
  aliases: string[];
  /** Legacy links as "name:alias" (stored, resolved by DNS on user networks). */
  links: string[];
};

export type PortProto = 'tcp' | 'udp';

/** One published port after allocation. */
export type BoundPort = {
  containerPort: number;
  proto: PortProto;
  /** "0.0.0.0", "::" or a specific address. */
  hostIp: string;
  hostPort: number;
  /** Network the DNAT points into (the endpoint used). */
  networkId: string;
  containerIp: string;
};

/** A container's sandbox: <data-root>/network/sandboxes/<id>.json. */
export type SandboxRecord = {
  containerId: string;
  /** Container name without the leading slash (DNS, inspect's Containers). */
  name: string;
  netnsPath: string;
  endpoints: EndpointRecord[];
  ports: BoundPort[];
  /** The --dns servers, which the embedded DNS server forwards to for this container. */
  dns: string[];
};

/** A port binding as HostConfig.PortBindings holds it, in plain form. */
export type PortBindingInput = {
  containerPort: number;
  proto?: PortProto;
  /** "" / "0.0.0.0" = every IPv4 (and IPv6) address. */
  hostIp?: string;
  /** "" or "0" = random from ip_local_port_range; "8000-8010" = first free in range. */
  hostPort?: string;
};

/** What NetworkSettings.Networks[<name>] shows (Docker API EndpointSettings). */
export type EndpointSettings = {
  IPAMConfig: { IPv4Address: string } | null;
  Links: string[] | null;
  Aliases: string[] | null;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  MacAddress: string;
  DriverOpts: null;
};

/** NetworkSettings.Ports: "80/tcp" → bindings, or null when exposed but not published. */
export type PortMap = Record<string, { HostIp: string; HostPort: string }[] | null>;

/** Docker's NetworkResource (GET /networks/{id}). */
export type NetworkResource = {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: string;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: { Subnet: string; Gateway?: string; IPRange?: string }[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }>;
  Options: Record<string, string>;
  Labels: Record<string, string>;
};
