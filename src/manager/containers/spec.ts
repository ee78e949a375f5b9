// HostConfig + Config → the OCI runtime spec a container starts with, as dockerd builds it
// (daemon/oci_linux.go): Docker's default mounts, masks, devices and capabilities, then what the
// user asked for (binds, volumes, tmpfs, resources, ulimits, sysctls, namespaces, security options,
// init). Pure apart from reading the container's /etc/passwd and /etc/group.
import * as fs from 'node:fs';
import type { LinuxDeviceCgroup, LinuxResources, Mount, Spec } from '../../../spec/types/runtime';
import { RuntimeError } from '../../errors/index';
import { readFileInRoot } from '../bundle/in-root';
import { resolveUser } from '../bundle/user';
import { containerCapabilities, defaultDeviceCgroupRules, defaultMaskedPaths, defaultReadonlyPaths } from './capabilities';
import { containerSeccomp } from './seccomp-default';
import type { ContainerRecord } from './types';

export type ResolvedMount = { source: string; destination: string; type: 'bind' | 'tmpfs'; options: string[] };

export type NamespacePaths = {
  /** 'new' = a fresh namespace, 'host' = none (share the host's), else a path to join. */
  network: 'new' | 'host' | string;
  pid: 'new' | 'host' | string;
  ipc: 'new' | 'host' | string;
  uts: 'new' | 'host';
};

export type SpecInput = {
  rec: ContainerRecord;
  /** The mounted rootfs (read for users and groups). */
  rootfs: string;
  /** hosts, hostname, resolv.conf files bound into the container (absent: the image's own). */
  etcFiles: { hosts?: string; hostname?: string; resolvConf?: string };
  mounts: ResolvedMount[];
  namespaces: NamespacePaths;
  cgroupsPath: string;
  /** docker-init on the host (tini), for --init. */
  initPath?: string;
  /** The daemon's --default-ulimit values. */
  defaultUlimits: { Name: string; Soft: number; Hard: number }[];
  /** Host devices (privileged containers get them all). */
  hostDevices?: () => { path: string; type: 'c' | 'b'; major: number; minor: number; fileMode: number; uid: number; gid: number }[];
};

const DEFAULT_SHM = 64 * 1024 * 1024;

function optList(v: string | undefined): string[] {
  return v ? v.split(',').map((x) => x.trim()).filter(Boolean) : [];
}

/** Docker's tmpfs option string ("rw,size=64m,noexec") → mount options. */
export function tmpfsOptions(v: string): string[] {
  const opts = optList(v);
  const base = ['nosuid', 'nodev', 'noexec'];
  for (const o of opts) {
    if (o === 'exec') base.splice(base.indexOf('noexec'), 1);
    if (o === 'dev') base.splice(base.indexOf('nodev'), 1);
    if (o === 'suid') base.splice(base.indexOf('nosuid'), 1);
  }
  return [...base.filter((b) => !opts.includes(b)), ...opts.filter((o) => !['exec', 'dev', 'suid'].includes(o))];
}

function securityOpts(rec: ContainerRecord): { seccomp?: string; noNewPrivileges: boolean; apparmor?: string; labelDisable: boolean } {
  const out = { noNewPrivileges: false, labelDisable: false } as { seccomp?: string; noNewPrivileges: boolean; apparmor?: string; labelDisable: boolean };
  for (const o of rec.HostConfig.SecurityOpt ?? []) {
    const eq = o.indexOf(o.includes('=') ? '=' : ':');
    const k = eq < 0 ? o : o.slice(0, eq);
    const v = eq < 0 ? '' : o.slice(eq + 1);
    if (k === 'no-new-privileges') out.noNewPrivileges = v === '' || v === 'true';
    else if (k === 'seccomp') out.seccomp = v;
    else if (k === 'apparmor') out.apparmor = v;
    else if (k === 'label') {
      if (v === 'disable') out.labelDisable = true;
    } else if (k === 'systempaths') {
      /* handled by the caller through MaskedPaths */
    } else throw new RuntimeError('InvalidArgument', `invalid --security-opt 2: "${o}"`);
  }
  return out;
}

async function groupIds(rootfs: string, names: string[]): Promise<number[]> {
  const text = (await readFileInRoot(rootfs, '/etc/group')) ?? '';
  return names.map((n) => {
    if (/^\d+$/.test(n)) return Number(n);
    const line = text.split('\n').find((l) => l.split(':')[0] === n);
    if (!line) throw new RuntimeError('InvalidArgument', `Unable to find group ${n}: no matching entries in group file`);
    return Number(line.split(':')[2]);
  });
}

function resources(rec: ContainerRecord, devices: LinuxDeviceCgroup[]): LinuxResources {
  const h = rec.HostConfig;
  const r: LinuxResources = { devices };
  const mem: NonNullable<LinuxResources['memory']> = {};
  if (h.Memory) mem.limit = h.Memory;
  if (h.MemoryReservation) mem.reservation = h.MemoryReservation;
  if (h.MemorySwap && h.MemorySwap !== 0) mem.swap = h.MemorySwap;
  else if (h.Memory) mem.swap = h.Memory * 2;
  if (h.MemorySwappiness !== undefined && h.MemorySwappiness !== null && h.MemorySwappiness >= 0) mem.swappiness = h.MemorySwappiness;
  if (h.OomKillDisable) mem.disableOOMKiller = true;
  if (Object.keys(mem).length) r.memory = mem;
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (h.CpuShares) cpu.shares = h.CpuShares;
  if (h.NanoCpus) {
    cpu.period = 100000;
    cpu.quota = Math.round((h.NanoCpus * 100000) / 1e9);
  } else {
    if (h.CpuPeriod) cpu.period = h.CpuPeriod;
    if (h.CpuQuota) cpu.quota = h.CpuQuota;
  }
  if (h.CpusetCpus) cpu.cpus = h.CpusetCpus;
  if (h.CpusetMems) cpu.mems = h.CpusetMems;
  if (h.CpuRealtimePeriod) cpu.realtimePeriod = h.CpuRealtimePeriod;
  if (h.CpuRealtimeRuntime) cpu.realtimeRuntime = h.CpuRealtimeRuntime;
  if (Object.keys(cpu).length) r.cpu = cpu;
  if (h.PidsLimit && h.PidsLimit > 0) r.pids = { limit: h.PidsLimit };
  if (h.BlkioWeight) r.blockIO = { weight: h.BlkioWeight };
  return r;
}

/** Docker's --device values: /dev/x[:/dev/y][:rwm]. */
function deviceOf(path: string): { type: 'c' | 'b'; major: number; minor: number; fileMode: number; uid: number; gid: number } {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch {
    throw new RuntimeError('InvalidArgument', `error gathering device information while adding custom device "${path}": no such file or directory`);
  }
  if (!st.isCharacterDevice() && !st.isBlockDevice()) throw new RuntimeError('InvalidArgument', `error gathering device information while adding custom device "${path}": not a device node`);
  const rdev = st.rdev;
  const major = Number((BigInt(rdev) >> 8n) & 0xfffn);
  const minor = Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & 0xfff00n));
  return { type: st.isCharacterDevice() ? 'c' : 'b', major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

export async function buildSpec(i: SpecInput): Promise<Spec> {
  const { rec } = i;
  const h = rec.HostConfig;
  const c = rec.Config;
  const sec = securityOpts(rec);
  const privileged = !!h.Privileged;
  const user = await resolveUser(i.rootfs, c.User || undefined);
  const extraGids = await groupIds(i.rootfs, h.GroupAdd ?? []);
  const hostname = c.Hostname || rec.ID.slice(0, 12);
  const env = [`HOSTNAME=${hostname}`];
  if (c.Tty) env.push('TERM=xterm');
  for (const e of c.Env ?? []) {
    const k = e.split('=', 1)[0]!;
    const at = env.findIndex((x) => x.split('=', 1)[0] === k);
    if (at >= 0) env[at] = e;
    else env.push(e);
  }
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home || '/'}`);
  let args = [rec.Path, ...rec.Args];
  const mounts: Mount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', privileged ? 'rw' : 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  ];
  if (i.namespaces.ipc === 'new') {
    mounts.push({ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${h.ShmSize || DEFAULT_SHM}`] });
  } else if (i.namespaces.ipc === 'host') {
    mounts.push({ destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'nosuid', 'noexec', 'nodev'] });
  }
  const userDests = new Set(i.mounts.map((m) => m.destination));
  for (const [dest, src] of [
    ['/etc/resolv.conf', i.etcFiles.resolvConf],
    ['/etc/hostname', i.etcFiles.hostname],
    ['/etc/hosts', i.etcFiles.hosts],
  ] as const) {
    if (src && !userDests.has(dest)) mounts.push({ destination: dest, type: 'bind', source: src, options: ['rbind', 'rprivate', ...(h.ReadonlyRootfs ? ['ro'] : [])] });
  }
  for (const t of Object.keys(h.Tmpfs ?? {})) {
    if (userDests.has(t)) continue;
    mounts.push({ destination: t, type: 'tmpfs', source: 'tmpfs', options: tmpfsOptions(h.Tmpfs![t]!) });
  }
  // User mounts go after the defaults, parents before children (moby sortMounts).
  const sorted = [...i.mounts].sort((a, b) => a.destination.split('/').length - b.destination.split('/').length);
  for (const m of sorted) {
    const at = mounts.findIndex((x) => x.destination === m.destination);
    if (at >= 0) mounts.splice(at, 1);
    mounts.push({ destination: m.destination, type: m.type, source: m.source, options: m.options });
  }
  if (h.Init) {
    if (!i.initPath) throw new RuntimeError('InvalidArgument', 'docker-init binary not found (apt-get install tini)');
    mounts.push({ destination: '/sbin/docker-init', type: 'bind', source: i.initPath, options: ['bind', 'ro'] });
    args = ['/sbin/docker-init', '--', ...args];
  }

  // Devices.
  const devices: NonNullable<NonNullable<Spec['linux']>['devices']> = [];
  let rules: LinuxDeviceCgroup[];
  if (privileged) {
    rules = [{ allow: true, access: 'rwm' }];
    for (const d of i.hostDevices?.() ?? []) devices.push(d);
  } else {
    rules = defaultDeviceCgroupRules(false);
    for (const d of h.Devices ?? []) {
      const info = deviceOf(d.PathOnHost);
      devices.push({ path: d.PathInContainer || d.PathOnHost, ...info });
      rules.push({ allow: true, type: info.type, major: info.major, minor: info.minor, access: d.CgroupPermissions || 'rwm' });
    }
    for (const r of h.DeviceCgroupRules ?? []) {
      const m = /^([acb]) (\d+|\*):(\d+|\*) ([rwm]{1,3})$/.exec(r);
      if (!m) throw new RuntimeError('InvalidArgument', `invalid device cgroup format '${r}'`);
      rules.push({ allow: true, type: m[1] as 'a' | 'c' | 'b', major: m[2] === '*' ? undefined : Number(m[2]), minor: m[3] === '*' ? undefined : Number(m[3]), access: m[4]! });
    }
  }

  const caps = containerCapabilities({ capAdd: h.CapAdd ?? [], capDrop: h.CapDrop ?? [], privileged });
  const namespaces: NonNullable<NonNullable<Spec['linux']>['namespaces']> = [{ type: 'mount' }];
  const ns = (type: 'network' | 'pid' | 'ipc' | 'uts', v: string) => {
    if (v === 'new') namespaces.push({ type });
    else if (v !== 'host') namespaces.push({ type, path: v });
  };
  ns('network', i.namespaces.network);
  ns('pid', i.namespaces.pid);
  ns('ipc', i.namespaces.ipc);
  ns('uts', i.namespaces.uts);
  if (h.CgroupnsMode === 'private') namespaces.push({ type: 'cgroup' });

  const rlimits = new Map<string, { type: string; soft: number; hard: number }>();
  for (const u of [...i.defaultUlimits, ...(h.Ulimits ?? [])]) rlimits.set(u.Name, { type: `RLIMIT_${u.Name.toUpperCase()}`, soft: u.Soft, hard: u.Hard });

  const seccomp = containerSeccomp({ option: sec.seccomp, capabilities: caps, privileged });
  const spec: Spec = {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: !!c.Tty,
      ...(c.Tty && h.ConsoleSize && h.ConsoleSize[0] ? { consoleSize: { height: h.ConsoleSize[0], width: h.ConsoleSize[1] } } : {}),
      user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length || extraGids.length ? { additionalGids: [...user.additionalGids, ...extraGids] } : {}) },
      args,
      env,
      cwd: c.WorkingDir || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      ...(rlimits.size ? { rlimits: [...rlimits.values()] } : {}),
      noNewPrivileges: sec.noNewPrivileges,
      ...(h.OomScoreAdj ? { oomScoreAdj: h.OomScoreAdj } : {}),
      ...(sec.apparmor && sec.apparmor !== 'unconfined' ? { apparmorProfile: sec.apparmor } : {}),
    },
    root: { path: 'rootfs', readonly: !!h.ReadonlyRootfs },
    hostname,
    ...(c.Domainname ? { domainname: c.Domainname } : {}),
    mounts,
    linux: {
      namespaces,
      cgroupsPath: i.cgroupsPath,
      resources: resources(rec, rules),
      devices,
      ...(Object.keys(h.Sysctls ?? {}).length ? { sysctl: { ...h.Sysctls } } : {}),
      ...(privileged ? {} : { maskedPaths: h.MaskedPaths ?? defaultMaskedPaths(false), readonlyPaths: h.ReadonlyPaths ?? defaultReadonlyPaths(false) }),
      ...(seccomp ? { seccomp } : {}),
    },
  };
  if (i.namespaces.uts === 'host') delete spec.hostname;
  return spec;
}
