// The flags shared by `run` and `create` and their translation into the create request body
// (Config + HostConfig + NetworkingConfig), exactly as docker/cli's container/opts.go builds it:
// same validation order and wording, same fields, Go's JSON shapes (nulls, empty maps, key order).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FlagSet } from '../flags';
import { GpuValue, MapValue, MemBytesValue, MountValue, NanoCpusValue, NetworkValue, ThrottleDeviceValue, UlimitValue, WeightDeviceValue, type NetworkAttachment } from './values';
import {
  isValidMAC,
  kvToMap,
  parsePortRange,
  parsePortSpecs,
  parseRestartPolicy,
  parseVolumeSpec,
  readKvStrings,
  splitProtoPort,
  validateAttach,
  validateDeviceCgroupRule,
  validateDNSSearch,
  validateEnv,
  validateExtraHost,
  validateIPAddress,
  validateLabel,
  validateLink,
  validateSysctl,
} from './validate';

/** Adds docker's container flags (opts.go addFlags). Windows-only flags are hidden (a Linux engine). */
export function addContainerFlags(f: FlagSet): void {
  const winOnly = (name: string) => {
    f.lookup(name)!.hidden = true;
  };
  f.list('attach', 'a', 'Attach to STDIN, STDOUT or STDERR', validateAttach);
  f.list('device-cgroup-rule', '', 'Add a rule to the cgroup allowed devices list', validateDeviceCgroupRule);
  f.list('device', '', 'Add a host device to the container');
  f.var(new GpuValue(), 'gpus', '', "GPU devices to add to the container ('all' to pass all GPUs)");
  f.list('env', 'e', 'Set environment variables', validateEnv);
  f.list('env-file', '', 'Read in a file of environment variables');
  f.string('entrypoint', '', '', 'Overwrite the default ENTRYPOINT of the image');
  f.list('group-add', '', 'Add additional groups to join');
  f.string('hostname', 'h', '', 'Container host name');
  f.string('domainname', '', '', 'Container NIS domain name');
  f.bool('interactive', 'i', false, 'Keep STDIN open even if not attached');
  f.list('label', 'l', 'Set meta data on a container', validateLabel);
  f.list('label-file', '', 'Read in a line delimited file of labels');
  f.bool('read-only', '', false, "Mount the container's root filesystem as read only");
  f.string('restart', '', 'no', 'Restart policy to apply when a container exits');
  f.string('stop-signal', '', '', 'Signal to stop the container');
  f.int('stop-timeout', '', 0, 'Timeout (in seconds) to stop a container');
  f.var(new MapValue(validateSysctl), 'sysctl', '', 'Sysctl options');
  f.bool('tty', 't', false, 'Allocate a pseudo-TTY');
  f.var(new UlimitValue(), 'ulimit', '', 'Ulimit options');
  f.string('user', 'u', '', 'Username or UID (format: <name|uid>[:<group|gid>])');
  f.string('workdir', 'w', '', 'Working directory inside the container');
  f.bool('rm', '', false, 'Automatically remove the container and its associated anonymous volumes when it exits');
  f.list('cap-add', '', 'Add Linux capabilities');
  f.list('cap-drop', '', 'Drop Linux capabilities');
  f.bool('privileged', '', false, 'Give extended privileges to this container');
  f.list('security-opt', '', 'Security Options');
  f.string('userns', '', '', 'User namespace to use');
  f.string(
    'cgroupns',
    '',
    '',
    "Cgroup namespace to use (host|private)\n'host':    Run the container in the Docker host's cgroup namespace\n'private': Run the container in its own private cgroup namespace\n'':        Use the cgroup namespace as configured by the\n           default-cgroupns-mode option on the daemon (default)",
  );
  f.list('add-host', '', 'Add a custom host-to-IP mapping (host:ip)', validateExtraHost);
  f.list('dns', '', 'Set custom DNS servers', validateIPAddress);
  f.list('dns-option', '', 'Set DNS options');
  f.alias('dns-opt', 'dns-option', 'Set DNS options');
  f.list('dns-search', '', 'Set custom DNS search domains', validateDNSSearch);
  f.list('expose', '', 'Expose a port or a range of ports');
  f.string('ip', '', '', 'IPv4 address (e.g., 172.30.100.104)');
  f.string('ip6', '', '', 'IPv6 address (e.g., 2001:db8::33)');
  f.list('link', '', 'Add link to another container', validateLink);
  f.list('link-local-ip', '', 'Container IPv4/IPv6 link-local addresses');
  f.string('mac-address', '', '', 'Container MAC address (e.g., 92:d0:c6:0a:29:33)');
  f.list('publish', 'p', "Publish a container's port(s) to the host");
  f.bool('publish-all', 'P', false, 'Publish all exposed ports to random ports');
  f.var(new NetworkValue(), 'network', '', 'Connect a container to a network');
  f.alias('net', 'network', 'Connect a container to a network');
  f.list('network-alias', '', 'Add network-scoped alias for the container');
  f.alias('net-alias', 'network-alias', 'Add network-scoped alias for the container');
  f.string('log-driver', '', '', 'Logging driver for the container');
  f.string('volume-driver', '', '', 'Optional volume driver for the container');
  f.list('log-opt', '', 'Log driver options');
  f.list('storage-opt', '', 'Storage driver options for the container');
  f.list('tmpfs', '', 'Mount a tmpfs directory');
  f.list('volumes-from', '', 'Mount volumes from the specified container(s)');
  f.list('volume', 'v', 'Bind mount a volume');
  f.var(new MountValue(), 'mount', '', 'Attach a filesystem mount to the container');
  f.string('health-cmd', '', '', 'Command to run to check health');
  f.duration('health-interval', '', 0, 'Time between running the check (ms|s|m|h) (default 0s)');
  f.int('health-retries', '', 0, 'Consecutive failures needed to report unhealthy');
  f.duration('health-timeout', '', 0, 'Maximum time to allow one check to run (ms|s|m|h) (default 0s)');
  f.duration('health-start-period', '', 0, 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)');
  f.duration('health-start-interval', '', 0, 'Time between running the check during the start period (ms|s|m|h) (default 0s)');
  f.bool('no-healthcheck', '', false, 'Disable any container-specified HEALTHCHECK');
  f.uint('blkio-weight', '', 0, 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)', 'uint16');
  f.var(new WeightDeviceValue(), 'blkio-weight-device', '', 'Block IO weight (relative device weight)');
  f.string('cidfile', '', '', 'Write the container ID to the file');
  f.string('cpuset-cpus', '', '', 'CPUs in which to allow execution (0-3, 0,1)');
  f.string('cpuset-mems', '', '', 'MEMs in which to allow execution (0-3, 0,1)');
  f.int('cpu-count', '', 0, 'CPU count (Windows only)', 'int64');
  winOnly('cpu-count');
  f.int('cpu-percent', '', 0, 'CPU percent (Windows only)', 'int64');
  winOnly('cpu-percent');
  f.int('cpu-period', '', 0, 'Limit CPU CFS (Completely Fair Scheduler) period', 'int64');
  f.int('cpu-quota', '', 0, 'Limit CPU CFS (Completely Fair Scheduler) quota', 'int64');
  f.int('cpu-rt-period', '', 0, 'Limit CPU real-time period in microseconds', 'int64');
  f.int('cpu-rt-runtime', '', 0, 'Limit CPU real-time runtime in microseconds', 'int64');
  f.int('cpu-shares', 'c', 0, 'CPU shares (relative weight)', 'int64');
  f.var(new NanoCpusValue(), 'cpus', '', 'Number of CPUs');
  f.var(new ThrottleDeviceValue(false), 'device-read-bps', '', 'Limit read rate (bytes per second) from a device');
  f.var(new ThrottleDeviceValue(true), 'device-read-iops', '', 'Limit read rate (IO per second) from a device');
  f.var(new ThrottleDeviceValue(false), 'device-write-bps', '', 'Limit write rate (bytes per second) to a device');
  f.var(new ThrottleDeviceValue(true), 'device-write-iops', '', 'Limit write rate (IO per second) to a device');
  f.var(new MemBytesValue(), 'io-maxbandwidth', '', 'Maximum IO bandwidth limit for the system drive (Windows only)');
  winOnly('io-maxbandwidth');
  f.uint('io-maxiops', '', 0, 'Maximum IOps limit for the system drive (Windows only)');
  winOnly('io-maxiops');
  f.var(new MemBytesValue(), 'kernel-memory', '', 'Kernel memory limit');
  f.var(new MemBytesValue(), 'memory', 'm', 'Memory limit');
  f.var(new MemBytesValue(), 'memory-reservation', '', 'Memory soft limit');
  f.var(new MemBytesValue(true), 'memory-swap', '', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap");
  f.int('memory-swappiness', '', -1, 'Tune container memory swappiness (0 to 100)', 'int64');
  f.bool('oom-kill-disable', '', false, 'Disable OOM Killer');
  f.int('oom-score-adj', '', 0, "Tune host's OOM preferences (-1000 to 1000)");
  f.int('pids-limit', '', 0, 'Tune container pids limit (set -1 for unlimited)', 'int64');
  f.string('cgroup-parent', '', '', 'Optional parent cgroup for the container');
  f.string('ipc', '', '', 'IPC mode to use');
  f.string('isolation', '', '', 'Container isolation technology');
  f.string('pid', '', '', 'PID namespace to use');
  f.var(new MemBytesValue(), 'shm-size', '', 'Size of /dev/shm');
  f.string('uts', '', '', 'UTS namespace to use');
  f.string('runtime', '', '', 'Runtime to use for this container');
  f.bool('init', '', false, 'Run an init inside the container that forwards signals and reaps processes');
  f.var(new MapValue(), 'annotation', '', 'Add an annotation to the container (passed through to the OCI runtime)');
}

/** The flags `create` and `run` add before the container flags. */
export function addCreateFlags(f: FlagSet, verb: 'run' | 'create'): void {
  f.string('name', '', '', 'Assign a name to the container');
  f.string('pull', '', 'missing', verb === 'run' ? 'Pull image before running ("always", "missing", "never")' : 'Pull image before creating ("always", "|missing", "never")');
  f.bool('quiet', 'q', false, 'Suppress the pull output');
  f.bool('use-api-socket', '', false, 'Bind mount Docker API socket and required auth');
  f.bool('help', '', false, 'Print usage');
  f.string('platform', '', process.env.DOCKER_DEFAULT_PLATFORM ?? '', 'Set platform if server is multi-platform capable');
  f.bool('disable-content-trust', '', true, 'Skip image verification');
  addContainerFlags(f);
}

export type CreateBody = { Config: Record<string, unknown>; HostConfig: Record<string, unknown>; NetworkingConfig: { EndpointsConfig: Record<string, unknown> } };

function isUserDefined(mode: string): boolean {
  return !['default', 'bridge', 'host', 'none'].includes(mode) && !mode.startsWith('container:');
}

function validDeviceMode(mode: string): boolean {
  if (mode === '') return false;
  const seen = new Set<string>();
  for (const c of mode) {
    if (!'rwm'.includes(c) || seen.has(c)) return false;
    seen.add(c);
  }
  return true;
}

function validateLinuxDevice(val: string): string {
  if ((val.match(/:/g) ?? []).length > 2) throw new Error(`bad format for path: ${val}`);
  const split = val.split(':');
  if (split[0] === '') throw new Error(`bad format for path: ${val}`);
  let containerPath: string;
  let out = val;
  if (split.length === 1) {
    containerPath = split[0]!;
    out = path.posix.normalize(containerPath);
  } else if (split.length === 2) {
    if (validDeviceMode(split[1]!)) {
      containerPath = split[0]!;
      out = `${path.posix.normalize(containerPath)}:${split[1]}`;
    } else {
      containerPath = split[1]!;
      out = `${split[0]}:${path.posix.normalize(containerPath)}`;
    }
  } else {
    containerPath = split[1]!;
    if (!validDeviceMode(split[2]!)) throw new Error(`bad mode specified: ${split[2]}`);
    out = `${split[0]}:${containerPath}:${split[2]}`;
  }
  if (!containerPath.startsWith('/')) throw new Error(`${containerPath} is not an absolute path`);
  return out;
}

function parseLinuxDevice(device: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const arr = device.split(':');
  let src = '';
  let dst = '';
  let perms = 'rwm';
  if (arr.length > 3) throw new Error(`invalid device specification: ${device}`);
  if (arr.length === 3) perms = arr[2]!;
  if (arr.length >= 2) {
    if (validDeviceMode(arr[1]!)) perms = arr[1]!;
    else dst = arr[1]!;
  }
  src = arr[0]!;
  return { PathOnHost: src, PathInContainer: dst || src, CgroupPermissions: perms };
}

function endpoint(ep: NetworkAttachment): Record<string, unknown> {
  if (ep.Target.trim() === '') throw new Error('no name set for network');
  if (!isUserDefined(ep.Target)) {
    if (ep.Aliases?.length) throw new Error('network-scoped aliases are only supported for user-defined networks');
    if (ep.Links?.length) throw new Error('links are only supported for user-defined networks');
  }
  let ipam: Record<string, unknown> | null = null;
  if (ep.IPv4Address || ep.IPv6Address || ep.LinkLocalIPs?.length) {
    ipam = {};
    if (ep.IPv4Address) ipam.IPv4Address = ep.IPv4Address;
    if (ep.IPv6Address) ipam.IPv6Address = ep.IPv6Address;
    if (ep.LinkLocalIPs?.length) ipam.LinkLocalIPs = ep.LinkLocalIPs;
  }
  if (ep.MacAddress && !isValidMAC(ep.MacAddress)) throw new Error(`${ep.MacAddress} is not a valid mac address`);
  return {
    IPAMConfig: ipam,
    Links: ep.Links?.length ? ep.Links : null,
    Aliases: ep.Aliases?.length ? [...ep.Aliases] : null,
    MacAddress: ep.MacAddress || '',
    DriverOpts: ep.DriverOpts && Object.keys(ep.DriverOpts).length ? ep.DriverOpts : null,
    GwPriority: ep.GwPriority ?? 0,
    NetworkID: '',
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
}

function isEmptyEndpoint(e: Record<string, unknown>): boolean {
  return e.IPAMConfig === null && e.Links === null && e.Aliases === null && e.MacAddress === '' && e.DriverOpts === null && e.GwPriority === 0;
}

function parseNetworkOpts(f: FlagSet): Record<string, unknown> {
  const nets = f.get<NetworkAttachment[]>('network');
  const aliases = f.get<string[]>('network-alias');
  const links = f.get<string[]>('link');
  const llips = f.get<string[]>('link-local-ip');
  const ip4 = f.get<string>('ip');
  const ip6 = f.get<string>('ip6');
  const mac = f.get<string>('mac-address');
  const apply = (n: NetworkAttachment): NetworkAttachment => {
    const o = { ...n };
    if (o.Aliases?.length && aliases.length) throw new Error('conflicting options: cannot specify both --network-alias and per-network alias');
    if (o.Links?.length && links.length) throw new Error('conflicting options: cannot specify both --link and per-network links');
    if (o.IPv4Address && ip4) throw new Error('conflicting options: cannot specify both --ip and per-network IPv4 address');
    if (o.IPv6Address && ip6) throw new Error('conflicting options: cannot specify both --ip6 and per-network IPv6 address');
    if (o.MacAddress && mac) throw new Error('conflicting options: cannot specify both --mac-address and per-network MAC address');
    if (o.LinkLocalIPs?.length && llips.length) throw new Error('conflicting options: cannot specify both --link-local-ip and per-network link-local IP addresses');
    if (aliases.length) o.Aliases = [...aliases];
    if (isUserDefined(o.Target) && links.length) o.Links = [...links];
    if (ip4) o.IPv4Address = ip4;
    if (ip6) o.IPv6Address = ip6;
    if (mac) o.MacAddress = mac;
    if (llips.length) o.LinkLocalIPs = [...llips];
    return o;
  };
  const eps: Record<string, unknown> = {};
  if (nets.length === 0) {
    eps.default = endpoint(apply({ Target: 'default', Aliases: [], IPv4Address: '', IPv6Address: '', MacAddress: '', GwPriority: 0 }));
  }
  let user = false;
  let nonUser = false;
  nets.forEach((n0, i) => {
    if (isUserDefined(n0.Target)) user = true;
    else nonUser = true;
    const n = i === 0 ? apply(n0) : n0;
    const ep = endpoint(n);
    if (n.Target in eps) throw new Error(`network "${n.Target}" is specified multiple times`);
    if (i === 0 && nets.length === 1 && isEmptyEndpoint(ep)) return;
    eps[n.Target] = ep;
  });
  if (user && nonUser) throw new Error('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
  return eps;
}

function normalizeCaps(caps: string[]): string[] | null {
  const out = [...new Set(caps.map((c) => (c.toUpperCase() === 'ALL' ? 'ALL' : c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : `CAP_${c.toUpperCase()}`)))];
  return out.length ? out.sort() : null;
}

/** Builds the create body from parsed flags (opts.go parse); throws Error with docker's message. */
export function buildCreateBody(f: FlagSet, image: string, args: string[], serverOS: string, apiVersion: string): CreateBody {
  const attach = f.get<string[]>('attach');
  let attachStdin = attach.includes('stdin');
  let attachStdout = attach.includes('stdout');
  let attachStderr = attach.includes('stderr');
  const mac = f.get<string>('mac-address');
  if (mac && !isValidMAC(mac)) throw new Error(`${mac} is not a valid mac address`);
  if (f.get<boolean>('interactive')) attachStdin = true;
  if (attach.length === 0) {
    attachStdout = true;
    attachStderr = true;
  }
  const swappiness = f.get<number>('memory-swappiness');
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) throw new Error(`invalid value: ${swappiness}. Valid memory swappiness range is 0-100`);

  // -v: entries with a source become Binds (relative ./ paths made absolute), the rest anonymous volumes.
  const binds: string[] = [];
  const volumes: Record<string, Record<string, never>> = {};
  for (const spec of new Set(f.get<string[]>('volume'))) {
    const p = parseVolumeSpec(spec);
    if (p.source !== '') {
      let bind = spec;
      if (p.type === 'bind') {
        const i = spec.indexOf(':');
        if (i >= 0) {
          let host = spec.slice(0, i);
          if (!path.isAbsolute(host) && host.startsWith('.')) host = path.resolve(host);
          bind = `${host}:${spec.slice(i + 1)}`;
        }
      }
      binds.push(bind);
    } else volumes[spec] = {};
  }
  const tmpfs: Record<string, string> = {};
  for (const t of f.get<string[]>('tmpfs')) {
    const i = t.indexOf(':');
    tmpfs[i >= 0 ? t.slice(0, i) : t] = i >= 0 ? t.slice(i + 1) : '';
  }
  const entrypoint = f.get<string>('entrypoint') !== '' ? [f.get<string>('entrypoint')] : f.changed('entrypoint') ? [''] : null;

  // -p long syntax (published=,target=,protocol=) first becomes the short one.
  const publish = f.get<string[]>('publish').map((p) => {
    if (!p.includes('=')) return p;
    const params: Record<string, string> = { protocol: 'tcp' };
    for (const param of p.split(',')) {
      const i = param.indexOf('=');
      if (i <= 0) throw new Error(`invalid publish opts format (should be name=value but got '${param}')`);
      params[param.slice(0, i)] = param.slice(i + 1);
    }
    return `${params.published ?? ''}:${params.target ?? ''}/${params.protocol}`;
  });
  const { exposed, bindings } = parsePortSpecs(publish);
  for (const e of f.get<string[]>('expose')) {
    if (e.includes(':')) throw new Error(`invalid port format for --expose: ${e}`);
    const [proto, port] = splitProtoPort(e);
    let start: number;
    let end: number;
    try {
      [start, end] = parsePortRange(port);
    } catch (err) {
      throw new Error(`invalid range format for --expose: ${e}, error: ${(err as Error).message}`);
    }
    for (let i = start; i <= end; i++) exposed[`${i}/${proto}`] ??= {};
  }

  const devices: { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[] = [];
  const cdi: string[] = [];
  for (const d of f.get<string[]>('device')) {
    if (/^[a-z0-9][a-z0-9.-]*\/[a-zA-Z0-9][a-zA-Z0-9_.-]*=[a-zA-Z0-9_.:-]+$/.test(d)) {
      cdi.push(d);
      continue;
    }
    if (serverOS === 'windows') {
      devices.push({ PathOnHost: d, PathInContainer: '', CgroupPermissions: '' });
      continue;
    }
    if (serverOS !== 'linux') throw new Error(`unknown server OS: ${serverOS}`);
    devices.push(parseLinuxDevice(validateLinuxDevice(d)));
  }

  const env = readKvStrings(f.get<string[]>('env-file'), f.get<string[]>('env'), true);
  const labels = readKvStrings(f.get<string[]>('label-file'), f.get<string[]>('label'), false);
  const pid = f.get<string>('pid');
  if (!(pid === '' || pid === 'host' || (pid.startsWith('container:') && pid.length > 10))) throw new Error('--pid: invalid PID mode');
  const uts = f.get<string>('uts');
  if (!(uts === '' || uts === 'host')) throw new Error('--uts: invalid UTS mode');
  const userns = f.get<string>('userns');
  if (!(userns === '' || userns === 'host')) throw new Error('--userns: invalid USER mode');
  const cgroupns = f.get<string>('cgroupns');
  if (!(cgroupns === '' || cgroupns === 'host' || cgroupns === 'private')) throw new Error('--cgroupns: invalid CGROUP mode');
  const restart = parseRestartPolicy(f.get<string>('restart'));
  const logDriver = f.get<string>('log-driver');
  const logOpts = f.get<string[]>('log-opt');
  if (logDriver === 'none' && logOpts.length > 0) throw new Error(`invalid logging opts for driver ${logDriver}`);
  let securityOpt = f.get<string[]>('security-opt').map((opt) => {
    let i = opt.indexOf('=');
    let k = i >= 0 ? opt.slice(0, i) : opt;
    if (i < 0 && k !== 'no-new-privileges') {
      i = opt.indexOf(':');
      k = i >= 0 ? opt.slice(0, i) : opt;
    }
    const v = i >= 0 ? opt.slice(i + 1) : '';
    if ((i < 0 || v === '') && k !== 'no-new-privileges') throw new Error(`Invalid --security-opt: "${opt}"`);
    if (k === 'seccomp' && v !== 'builtin' && v !== 'unconfined') {
      let text: string;
      try {
        text = fs.readFileSync(v, 'utf8');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new Error(`opening seccomp profile (${v}) failed: open ${v}: ${code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
      }
      try {
        return `seccomp=${JSON.stringify(JSON.parse(text))}`;
      } catch (e) {
        throw new Error(`compacting json for seccomp profile (${v}) failed: ${(e as Error).message}`);
      }
    }
    return opt;
  });
  let maskedPaths: string[] | null = null;
  let readonlyPaths: string[] | null = null;
  if (securityOpt.includes('systempaths=unconfined')) {
    maskedPaths = [];
    readonlyPaths = [];
    securityOpt = securityOpt.filter((o) => o !== 'systempaths=unconfined');
  }
  const storageOpt: Record<string, string> = {};
  for (const o of f.get<string[]>('storage-opt')) {
    const i = o.indexOf('=');
    if (i < 0) throw new Error('invalid storage option');
    storageOpt[o.slice(0, i)] = o.slice(i + 1);
  }

  let healthcheck: Record<string, unknown> | undefined;
  const hc = {
    cmd: f.get<string>('health-cmd'),
    interval: f.get<number>('health-interval'),
    timeout: f.get<number>('health-timeout'),
    startPeriod: f.get<number>('health-start-period'),
    startInterval: f.get<number>('health-start-interval'),
    retries: f.get<number>('health-retries'),
  };
  const haveHealth = hc.cmd !== '' || hc.interval !== 0 || hc.timeout !== 0 || hc.startPeriod !== 0 || hc.retries !== 0 || hc.startInterval !== 0;
  if (f.get<boolean>('no-healthcheck')) {
    if (haveHealth) throw new Error('--no-healthcheck conflicts with --health-* options');
    healthcheck = { Test: ['NONE'] };
  } else if (haveHealth) {
    if (hc.interval < 0) throw new Error('--health-interval cannot be negative');
    if (hc.timeout < 0) throw new Error('--health-timeout cannot be negative');
    if (hc.retries < 0) throw new Error('--health-retries cannot be negative');
    if (hc.startPeriod < 0) throw new Error('--health-start-period cannot be negative');
    if (hc.startInterval < 0) throw new Error('--health-start-interval cannot be negative');
    healthcheck = {};
    if (hc.cmd !== '') healthcheck.Test = ['CMD-SHELL', hc.cmd];
    if (hc.interval) healthcheck.Interval = hc.interval;
    if (hc.timeout) healthcheck.Timeout = hc.timeout;
    if (hc.startPeriod) healthcheck.StartPeriod = hc.startPeriod;
    if (hc.startInterval) healthcheck.StartInterval = hc.startInterval;
    if (hc.retries) healthcheck.Retries = hc.retries;
  }

  const deviceRequests: unknown[] = [...f.get<unknown[]>('gpus')];
  if (cdi.length) deviceRequests.push({ Driver: 'cdi', Count: 0, DeviceIDs: cdi, Capabilities: null, Options: null });
  const nonEmpty = (a: string[]) => (a.length ? a : null);
  const autoRemove = f.get<boolean>('rm');
  if (autoRemove && !(restart.Name === '' || restart.Name === 'no')) throw new Error('conflicting options: cannot specify both --restart and --rm');
  const stdin = f.get<boolean>('interactive');
  const networkMode = f.get<NetworkAttachment[]>('network')[0]?.Target ?? 'default';
  const endpoints = parseNetworkOpts(f);
  let configMac = mac;
  const modeEp = endpoints[networkMode] as { MacAddress?: string } | undefined;
  if (modeEp) configMac = modeEp.MacAddress ?? '';
  const newApi = compareVersions(apiVersion, '1.44') >= 0;

  const config: Record<string, unknown> = {
    Hostname: f.get<string>('hostname'),
    Domainname: f.get<string>('domainname'),
    User: f.get<string>('user'),
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
  };
  if (Object.keys(exposed).length) config.ExposedPorts = exposed;
  config.Tty = f.get<boolean>('tty');
  config.OpenStdin = stdin;
  config.StdinOnce = stdin && attachStdin;
  config.Env = env.length ? env : null;
  config.Cmd = args.length ? args : null;
  if (healthcheck) config.Healthcheck = healthcheck;
  config.Image = image;
  config.Volumes = volumes;
  config.WorkingDir = f.get<string>('workdir');
  config.Entrypoint = entrypoint;
  if (configMac && !newApi) config.MacAddress = configMac;
  config.OnBuild = null;
  config.Labels = kvToMap(labels);
  if (f.get<string>('stop-signal')) config.StopSignal = f.get<string>('stop-signal');
  if (f.changed('stop-timeout')) config.StopTimeout = f.get<number>('stop-timeout');

  const host: Record<string, unknown> = {
    Binds: binds.length ? binds : null,
    ContainerIDFile: f.get<string>('cidfile'),
    LogConfig: { Type: logDriver, Config: kvToMap(logOpts) },
    NetworkMode: networkMode,
    PortBindings: bindings,
    RestartPolicy: restart,
    AutoRemove: autoRemove,
    VolumeDriver: f.get<string>('volume-driver'),
    VolumesFrom: nonEmpty(f.get<string[]>('volumes-from')),
    ConsoleSize: [0, 0],
  };
  const annotations = f.get<Record<string, string>>('annotation');
  if (Object.keys(annotations).length) host.Annotations = annotations;
  Object.assign(host, {
    CapAdd: normalizeCaps(f.get<string[]>('cap-add')),
    CapDrop: normalizeCaps(f.get<string[]>('cap-drop')),
    CgroupnsMode: cgroupns,
    Dns: [...f.get<string[]>('dns')],
    DnsOptions: [...f.get<string[]>('dns-option')],
    DnsSearch: [...f.get<string[]>('dns-search')],
    ExtraHosts: nonEmpty(f.get<string[]>('add-host')),
    GroupAdd: nonEmpty(f.get<string[]>('group-add')),
    IpcMode: f.get<string>('ipc'),
    Cgroup: '',
    Links: nonEmpty(f.get<string[]>('link')),
    OomScoreAdj: f.get<number>('oom-score-adj'),
    PidMode: pid,
    Privileged: f.get<boolean>('privileged'),
    PublishAllPorts: f.get<boolean>('publish-all'),
    ReadonlyRootfs: f.get<boolean>('read-only'),
    SecurityOpt: securityOpt.length ? securityOpt : null,
  });
  if (Object.keys(storageOpt).length) host.StorageOpt = storageOpt;
  if (Object.keys(tmpfs).length) host.Tmpfs = tmpfs;
  host.UTSMode = uts;
  host.UsernsMode = userns;
  host.ShmSize = f.get<number>('shm-size');
  const sysctls = f.get<Record<string, string>>('sysctl');
  if (Object.keys(sysctls).length) host.Sysctls = sysctls;
  if (f.get<string>('runtime')) host.Runtime = f.get<string>('runtime');
  host.Isolation = f.get<string>('isolation');
  Object.assign(host, {
    CpuShares: f.get<number>('cpu-shares'),
    Memory: f.get<number>('memory'),
    NanoCpus: f.get<number>('cpus'),
    CgroupParent: f.get<string>('cgroup-parent'),
    BlkioWeight: f.get<number>('blkio-weight'),
    BlkioWeightDevice: f.get<unknown[]>('blkio-weight-device'),
    BlkioDeviceReadBps: f.get<unknown[]>('device-read-bps'),
    BlkioDeviceWriteBps: f.get<unknown[]>('device-write-bps'),
    BlkioDeviceReadIOps: f.get<unknown[]>('device-read-iops'),
    BlkioDeviceWriteIOps: f.get<unknown[]>('device-write-iops'),
    CpuPeriod: f.get<number>('cpu-period'),
    CpuQuota: f.get<number>('cpu-quota'),
    CpuRealtimePeriod: f.get<number>('cpu-rt-period'),
    CpuRealtimeRuntime: f.get<number>('cpu-rt-runtime'),
    CpusetCpus: f.get<string>('cpuset-cpus'),
    CpusetMems: f.get<string>('cpuset-mems'),
    Devices: devices,
    DeviceCgroupRules: nonEmpty(f.get<string[]>('device-cgroup-rule')),
    DeviceRequests: deviceRequests.length ? deviceRequests : null,
  });
  const kmem = f.get<number>('kernel-memory');
  if (kmem && compareVersions(apiVersion, '1.42') < 0 && compareVersions(apiVersion, '1.40') >= 0) host.KernelMemory = kmem;
  Object.assign(host, {
    MemoryReservation: f.get<number>('memory-reservation'),
    MemorySwap: f.get<number>('memory-swap'),
    MemorySwappiness: swappiness,
    OomKillDisable: f.get<boolean>('oom-kill-disable'),
    PidsLimit: f.get<number>('pids-limit'),
    Ulimits: f.get<unknown[]>('ulimit'),
    CpuCount: f.get<number>('cpu-count'),
    CpuPercent: f.get<number>('cpu-percent'),
    IOMaximumIOps: f.get<number>('io-maxiops'),
    IOMaximumBandwidth: f.get<number>('io-maxbandwidth'),
  });
  const mounts = f.get<unknown[]>('mount');
  if (mounts.length) host.Mounts = mounts;
  host.MaskedPaths = maskedPaths;
  host.ReadonlyPaths = readonlyPaths;
  if (f.changed('init')) host.Init = f.get<boolean>('init');

  return { Config: config, HostConfig: host, NetworkingConfig: { EndpointsConfig: endpoints } };
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}
