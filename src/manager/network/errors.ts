// dockerd 20.10's wording for every networking failure a user can cause, checked against the
// reference daemon (test/engine/network/dockerd-compare.test.ts). Kinds follow the HTTP status
// dockerd answers with (NotFound 404, AlreadyExists/FailedPrecondition 409, PermissionDenied 403,
// InvalidArgument 400, Internal 500).
import { RuntimeError } from '../../errors';

/** A host port that is taken; holder names who has it (a container id, or "" for another process). */
export class PortAllocatedError extends RuntimeError {
  readonly holder: string;
  constructor(message: string, holder: string) {
    super('Internal', message);
    this.name = 'PortAllocatedError';
    this.holder = holder;
  }
}

export const netErrors = {
  notFound: (ref: string) => new RuntimeError('NotFound', `network ${ref} not found`),
  ambiguous: (ref: string, n: number) => new RuntimeError('InvalidArgument', `network ${ref} is ambiguous (${n} matches found based on ID prefix)`),
  nameExists: (name: string) => new RuntimeError('AlreadyExists', `network with name ${name} already exists`),
  poolOverlap: () => new RuntimeError('PermissionDenied', 'Pool overlaps with other one on this address space'),
  invalidSubnet: (s: string) => new RuntimeError('InvalidArgument', `Invalid subnet ${s} : invalid CIDR address: ${s}`),
  invalidRange: (s: string) => new RuntimeError('InvalidArgument', `Invalid ip range ${s} : invalid CIDR address: ${s}`),
  invalidGateway: (s: string) => new RuntimeError('InvalidArgument', `Invalid gateway ${s} : invalid IP address: ${s}`),
  gatewayOutside: (gw: string) => new RuntimeError('InvalidArgument', `no matching subnet for gateway ${gw}`),
  rangeOutside: (r: string) => new RuntimeError('InvalidArgument', `no matching subnet for range ${r}`),
  noPool: () => new RuntimeError('Unavailable', 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network'),
  poolExhausted: (net: string) => new RuntimeError('Unavailable', `no available IPv4 addresses on this network's address pools: ${net}`),
  addressInUse: () => new RuntimeError('AlreadyExists', 'Address already in use'),
  addressOutside: (ip: string) => new RuntimeError('InvalidArgument', `Invalid address ${ip}: It does not belong to any of this network's subnets`),
  ipOnDefault: () => new RuntimeError('InvalidArgument', 'user specified IP address is supported on user defined networks only'),
  ipNeedsSubnet: () => new RuntimeError('InvalidArgument', 'user specified IP address is supported only when connecting to networks with user configured subnets'),
  aliasOnDefault: () => new RuntimeError('InvalidArgument', 'network-scoped alias is supported only for containers in user defined networks'),
  activeEndpoints: (name: string, id: string) => new RuntimeError('PermissionDenied', `error while removing network: network ${name} id ${id} has active endpoints`),
  predefined: (name: string) => new RuntimeError('PermissionDenied', `${name} is a pre-defined network and cannot be removed`),
  createPredefined: (name: string) => new RuntimeError('PermissionDenied', `operation is not permitted on predefined ${name} network `),
  unknownDriver: (d: string) => new RuntimeError('NotFound', `plugin "${d}" not found`),
  ipv6: () => new RuntimeError('NotImplemented', 'IPv6 networks are not supported by dock'),
  alreadyAttached: (cid: string, net: string) => new RuntimeError('PermissionDenied', `endpoint with name ${cid} already exists in network ${net}`),
  notAttached: (cid: string, net: string) => new RuntimeError('InvalidArgument', `container ${cid} is not connected to network ${net}`),
  noSandbox: (cid: string) => new RuntimeError('NotFound', `sandbox for container ${cid} not found`),
  bridgeTaken: (name: string) => new RuntimeError('AlreadyExists', `bridge name ${name} is already in use`),
  invalidMac: (m: string) => new RuntimeError('InvalidArgument', `invalid MAC address: ${m}`),
  invalidPort: (p: string) => new RuntimeError('InvalidArgument', `Invalid hostPort: ${p}`),
  portAllocated: (endpoint: string, epId: string, hostIp: string, port: number, holder: string) =>
    new PortAllocatedError(`driver failed programming external connectivity on endpoint ${endpoint} (${epId}): Bind for ${hostIp}:${port} failed: port is already allocated`, holder),
  proxyBind: (endpoint: string, epId: string, proto: string, hostIp: string, port: number, why: string) =>
    new PortAllocatedError(
      `driver failed programming external connectivity on endpoint ${endpoint} (${epId}): Error starting userland proxy: listen ${proto}${hostIp.includes(':') ? '6' : '4'} ${hostIp.includes(':') ? `[${hostIp}]` : hostIp}:${port}: bind: ${why}`,
      '',
    ),
  noFreePort: (hostIp: string, range: string) => new RuntimeError('Unavailable', `Bind for ${hostIp}:${range} failed: all ports are allocated`),
};
