// compilePlan: the pure spec → InitPlan compiler. Every path, flag, id, mask and list the child needs
// is resolved here, before the clone, so the child only applies numbers. No I/O: host facts come in
// through PlanOptions.host.
import * as path from 'node:path';
import type { LinuxIDMapping, Mount, Spec } from '../../../spec/types/runtime';
import { errors } from '../../errors/index';
import { CAPABILITIES, CLONE, DEFAULT_PATH, MOUNT_ATTR, MS, NAMESPACES, RLIMITS } from './constants';
import { mountIdmap, type IdmapContext } from './idmap';
import { parseMountOptions } from './mount-options';
import type { InitPlan, PlanDevice, PlanJoin, PlanMount, PlanRlimit, PlanSymlink } from './types';

/** Facts about the host the compiler needs but must not look up itself. */
export type HostFacts = {
  /** /proc/sys/kernel/cap_last_cap */
  capLast: number;
  /** /sys/fs/cgroup is a cgroup2 mount (else v1 or hybrid). */
  cgroup2: boolean;
  /** st_dev and st_ino of /proc/self/exe (the runtime's own binary). */
  exeDev: bigint;
  exeIno: bigint;
  /** The runtime runs as real root (setgroups may stay allowed in a new user namespace). */
  isRoot: boolean;
};

export type PlanOptions = {
  id: string;
  bundle: string;
  rootfs: string;
  execFifo: string | null;
  noPivot: boolean;
  noNewKeyring: boolean;
  preserveFds: number;
  /** LISTEN_FDS of the runtime's environment: passed through after the preserved fds (as runc). */
  listenFds?: number;
  /** cgroup v1 hosts: each hierarchy's directory name under /sys/fs/cgroup ("cpu,cpuacct",
   * "systemd", "unified") and the host directory of the container's cgroup in it. A `cgroup`
   * mount becomes a tmpfs with one bind per hierarchy (runc mountCgroupV1); without this list the
   * host's /sys/fs/cgroup is bound read-only as a whole. */
  cgroupV1?: { name: string; source: string }[];
  /** cgroup v2 hosts: the host directory of the container's cgroup, when it has one. */
  cgroup2Path?: string;
  host: HostFacts;
};

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
const RLIM_INFINITY = 0xffffffffffffffffn;

/** runtime-spec config-linux.md "Default Devices". */
const DEFAULT_DEVICES: PlanDevice[] = [
  ['/dev/null', 1, 3],
  ['/dev/zero', 1, 5],
  ['/dev/full', 1, 7],
  ['/dev/random', 1, 8],
  ['/dev/urandom', 1, 9],
  ['/dev/tty', 5, 0],
].map(([p, major, minor]) => ({ path: p as string, mode: S_IFCHR | 0o666, major: major as number, minor: minor as number, uid: 0, gid: 0 }));

/** The /dev symlinks runc creates (libcontainer/rootfs_linux.go setupDevSymlinks), plus ptmx. */
const DEFAULT_SYMLINKS: PlanSymlink[] = [
  { target: '/proc/self/fd', link: '/dev/fd' },
  { target: '/proc/self/fd/0', link: '/dev/stdin' },
  { target: '/proc/self/fd/1', link: '/dev/stdout' },
  { target: '/proc/self/fd/2', link: '/dev/stderr' },
  { target: 'pts/ptmx', link: '/dev/ptmx' },
];

const ROOTFS_PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE | MS.REC,
  shared: MS.SHARED | MS.REC,
  slave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE | MS.REC,
  // runc's recursive spellings (src/oci/validate.ts accepts them; containerd's CRI writes rshared
  // and rslave for Bidirectional and HostToContainer volumes).
  rprivate: MS.PRIVATE | MS.REC,
  rshared: MS.SHARED | MS.REC,
  rslave: MS.SLAVE | MS.REC,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/**
 * What / of the new mount namespace becomes before the rootfs is bound (runc prepareRoot):
 * rslave by default so that no mount event leaks to the host. "rshared" keeps the host's peer
 * groups, as runc does, so that a Bidirectional volume propagates both ways; the rootfs's own
 * mount is then made private first (launch.ts finds it: rootfsParent).
 */
function rootPropagationOf(v: string | undefined): number {
  if (v === 'private' || v === 'rprivate') return MS.PRIVATE | MS.REC;
  if (v === 'rshared') return MS.SHARED | MS.REC;
  return MS.SLAVE | MS.REC;
}

/** Absolute, normalized container path ("a/../b/" → "/b"); relative paths are taken from /. */
export function containerPath(p: string): string {
  const n = path.posix.normalize('/' + p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

function isMapped(id: number, maps: LinuxIDMapping[]): boolean {
  return maps.some((m) => id >= m.containerID && id < m.containerID + m.size);
}

/** What a mount adds besides mounts: /dev-style symlinks and paths made read-only after pivot. */
type MountExtras = { symlinks: PlanSymlink[]; readonly: string[] };

/** runc's cgroup v1 layout: a tmpfs, the container's own cgroup of every hierarchy bound on it
 * (never the host's tree), links for co-mounted controllers, then the tmpfs made read-only. */
function cgroupV1Mounts(destination: string, flags: number, hierarchies: { name: string; source: string }[], extras: MountExtras): PlanMount[] {
  const base = { data: '', propagation: 0, attrSet: 0, attrClr: 0, procfsLike: false };
  const out: PlanMount[] = [
    { ...base, kind: 'fs', source: 'tmpfs', destination, type: 'tmpfs', data: 'mode=755', flags: (flags & ~MS.RDONLY) | MS.NOSUID | MS.NODEV | MS.NOEXEC },
  ];
  const names = new Set(hierarchies.map((h) => h.name));
  for (const h of hierarchies) {
    const dest = path.posix.join(destination, h.name);
    out.push({ ...base, kind: 'bind', source: h.source, destination: dest, type: '', flags: flags | MS.BIND });
    for (const part of h.name.split(',')) {
      if (part !== h.name && !names.has(part)) extras.symlinks.push({ target: h.name, link: path.posix.join(destination, part) });
    }
  }
  if (flags & MS.RDONLY) extras.readonly.push(destination);
  return out;
}

/**
 * On a cgroup2 host, what a `cgroup` mount binds instead of mounting cgroup2 when the kernel would
 * refuse the mount, as runc's mountCgroupV2 falls back on EPERM and EBUSY: EPERM in a user namespace
 * that does not own its cgroup namespace, EBUSY on the host's /sys bound over /sys (`spec --rootless`:
 * cgroup2 already sits on /sys/fs/cgroup there). With a new cgroup namespace the container's own
 * cgroup is bound (what the namespace would show as /), else the host's whole tree. null: mount.
 */
function cgroup2BindSource(spec: Spec, opts: PlanOptions, inUserns: boolean, newCgroupNs: boolean): string | null {
  if (!opts.host.cgroup2) return null;
  const sysBound = (spec.mounts ?? []).some((m) => {
    const bind = m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
    return bind && containerPath(m.destination) === '/sys' && m.source !== undefined && path.resolve(opts.bundle, m.source) === '/sys';
  });
  if (!sysBound && !(inUserns && !newCgroupNs)) return null;
  return newCgroupNs && opts.cgroup2Path ? opts.cgroup2Path : '/sys/fs/cgroup';
}

function compileMount(
  m: Mount,
  opts: PlanOptions,
  gidMaps: LinuxIDMapping[] | null,
  warnings: string[],
  extras: MountExtras,
  idmapCtx: IdmapContext,
  cgroup2Bind: string | null,
): PlanMount[] {
  const destination = containerPath(m.destination);
  const parsed = parseMountOptions(m.options ?? [], destination);
  let type = m.type ?? '';
  let kind: PlanMount['kind'] = parsed.bind || type === 'bind' ? 'bind' : 'fs';
  // Judged on the mount as written, before a cgroup mount may become a bind of the host's tree.
  const idmap = mountIdmap(m, parsed, kind, destination, idmapCtx);
  let source = m.source ?? '';
  let flags = parsed.flags;
  if (kind === 'bind') {
    if (!source) throw errors.invalid(`mount ${destination}: bind mount without source`);
    source = path.resolve(opts.bundle, source);
    flags |= MS.BIND;
    if (type === 'none' || type === 'bind') type = '';
  } else if (type === 'cgroup') {
    // runc mounts cgroup2 on a unified host; on v1/hybrid hosts we bind the host hierarchy (its
    // per-subsystem emulation is not done yet) with the same flags.
    if (opts.host.cgroup2 && cgroup2Bind === null) {
      type = 'cgroup2';
      source = 'cgroup2';
    } else if (opts.host.cgroup2) {
      kind = 'bind';
      type = '';
      source = cgroup2Bind!;
      flags |= MS.BIND | MS.REC;
      if (flags & MS.RDONLY) parsed.attrSet |= MOUNT_ATTR.RDONLY;
    } else if (opts.cgroupV1) {
      return cgroupV1Mounts(destination, parsed.flags, opts.cgroupV1, extras);
    } else {
      kind = 'bind';
      type = '';
      source = '/sys/fs/cgroup';
      flags |= MS.BIND | MS.REC;
      // Every hierarchy under it is a mount of its own: make "ro" hold for all of them.
      if (flags & MS.RDONLY) parsed.attrSet |= MOUNT_ATTR.RDONLY;
    }
  } else if (!source) {
    source = type;
  }
  let data = parsed.data;
  if (type === 'devpts' && gidMaps) {
    // devpts rejects a gid= the user namespace does not map (runc drops it the same way).
    data = data.filter((o) => !o.startsWith('gid=') || isMapped(Number(o.slice(4)), gidMaps));
  }
  // runc and crun copy up only into a tmpfs (runc mountToRootfs "tmpfs" case); elsewhere the
  // option has no meaning.
  const copyUp = parsed.copyUp && kind === 'fs' && type === 'tmpfs';
  if (parsed.copyUp && !copyUp) warnings.push(`mount ${destination}: option tmpcopyup ignored (not a tmpfs)`);
  return [
    {
      kind,
      source,
      destination,
      type,
      data: data.join(','),
      flags,
      propagation: parsed.propagation,
      attrSet: parsed.attrSet,
      attrClr: parsed.attrClr,
      procfsLike: type === 'proc' || type === 'sysfs',
      ...(idmap ? { idmap } : {}),
      ...(copyUp ? { copyUp: true as const } : {}),
    },
  ];
}

/** Resolves capability names to a bit mask; unknown names are an error, names newer than the
 * running kernel are skipped with a warning (as runc does). */
export function capMask(names: readonly string[] | undefined, capLast: number, warnings: string[]): number {
  let mask = 0;
  for (const name of names ?? []) {
    const n = CAPABILITIES.indexOf(name.toUpperCase().startsWith('CAP_') ? name.toUpperCase() : `CAP_${name.toUpperCase()}`);
    if (n < 0) throw errors.invalid(`unknown capability ${JSON.stringify(name)}`);
    if (n > capLast) {
      warnings.push(`capability ${name} is not supported by the running kernel`);
      continue;
    }
    mask += mask % 2 ** (n + 1) >= 2 ** n ? 0 : 2 ** n;
  }
  return mask;
}

function rlimitValue(v: number): bigint {
  if (!Number.isFinite(v) || v < 0 || v >= 2 ** 64 - 1) return RLIM_INFINITY;
  return BigInt(Math.trunc(v));
}

/** The candidates the child tries for args[0]: execvp(3) semantics over the container's PATH. */
export function execCandidates(arg0: string, env: readonly string[], cwd: string): string[] {
  if (arg0.includes('/')) return [path.posix.resolve(cwd, arg0)];
  const pathVar = env.filter((e) => e.startsWith('PATH=')).pop()?.slice(5) ?? DEFAULT_PATH;
  return pathVar.split(':').map((dir) => path.posix.resolve(cwd, dir || '.', arg0));
}

/** process.apparmorProfile as the child writes it after "exec " (one write of at most RT_PATH_MAX
 * bytes; the kernel strips surrounding whitespace, so a name cannot be made of it). Whether AppArmor
 * is enabled is checked before compiling (src/runtime/lsm.ts). */
export function compileApparmorProfile(profile: string | undefined): string | null {
  if (!profile) return null;
  if (profile.trim() === '' || /[\0\n]/.test(profile) || Buffer.byteLength(profile) > 4000) {
    throw errors.invalid(`process.apparmorProfile ${JSON.stringify(profile.slice(0, 80))}: not a valid profile name`);
  }
  return profile;
}

/** linux.timeOffsets as the lines of /proc/<pid>/timens_offsets (clock ids 1 = CLOCK_MONOTONIC,
 * 7 = CLOCK_BOOTTIME), or null when there is nothing to write. */
export function compileTimeOffsets(offsets: NonNullable<Spec['linux']>['timeOffsets'], joins: PlanJoin[]): string | null {
  const clocks = { monotonic: 1, boottime: 7 } as const;
  const lines: string[] = [];
  for (const [name, id] of Object.entries(clocks)) {
    const o = offsets?.[name as keyof typeof clocks];
    if (!o) continue;
    const secs = o.secs ?? 0;
    const nanosecs = o.nanosecs ?? 0;
    if (!Number.isSafeInteger(secs)) throw errors.invalid(`linux.timeOffsets.${name}.secs must be an integer`);
    if (!Number.isInteger(nanosecs) || nanosecs < 0 || nanosecs >= 1e9) {
      throw errors.invalid(`linux.timeOffsets.${name}.nanosecs must be in [0, 999999999]`);
    }
    lines.push(`${id} ${secs} ${nanosecs}\n`);
  }
  if (lines.length === 0) return null;
  // Offsets are frozen once a process has entered the namespace (time_namespaces(7)).
  if (joins.some((j) => j.type === 'time')) throw errors.invalid('linux.timeOffsets cannot be set when joining an existing time namespace');
  return lines.join('');
}

export function compilePlan(spec: Spec, opts: PlanOptions): InitPlan {
  const warnings: string[] = [];
  const proc = spec.process;
  if (!proc) throw errors.invalid('process is required');
  if (!proc.args || proc.args.length === 0) throw errors.invalid('process.args must not be empty');
  const linux = spec.linux ?? {};

  const joins: PlanJoin[] = [];
  let newFlags = 0;
  const seen = new Set<string>();
  for (const ns of linux.namespaces ?? []) {
    const info = NAMESPACES[ns.type];
    if (!info) throw errors.invalid(`unknown namespace type ${JSON.stringify(ns.type)}`);
    if (seen.has(ns.type)) throw errors.invalid(`duplicate namespace ${ns.type}`);
    seen.add(ns.type);
    if (ns.path) joins.push({ type: ns.type, flag: info.flag, path: ns.path });
    else newFlags |= info.flag;
  }
  joins.sort((a, b) => Number(b.type === 'user') - Number(a.type === 'user'));
  const has = (t: string) => seen.has(t);
  // Without a mount namespace the runtime's is inherited (runtime-spec config-linux.md): mounts are
  // made in it below the rootfs and undone at delete, and the process is chrooted, as runc does.
  const sharedMountNs = !has('mount');
  if (sharedMountNs && spec.root?.readonly) throw errors.invalid('root.readonly needs a mount namespace');
  if (sharedMountNs && linux.rootfsPropagation) throw errors.invalid('linux.rootfsPropagation needs a mount namespace');
  const timeOffsets = compileTimeOffsets(linux.timeOffsets, joins);
  // A time namespace with offsets is made by the child at step TIMENS, after the user namespace.
  if (timeOffsets) newFlags &= ~CLONE.NEWTIME;
  const newUserns = (newFlags & CLONE.NEWUSER) !== 0;
  const inUserns = has('user');
  let cloneFlags: number;
  let unshareFlags: number;
  let forkAfter: boolean;
  if (joins.length === 0) {
    // The cgroup namespace is unshared by the child so that its root is the cgroup the child was
    // born in (CLONE_INTO_CGROUP), not the runtime's (cgroup_namespaces(7)).
    cloneFlags = newFlags & ~CLONE.NEWCGROUP;
    unshareFlags = newFlags & CLONE.NEWCGROUP;
    forkAfter = false;
  } else {
    cloneFlags = 0;
    unshareFlags = newFlags;
    forkAfter = (newFlags & (CLONE.NEWPID | CLONE.NEWTIME)) !== 0 || joins.some((j) => j.type === 'pid' || j.type === 'time');
  }

  const uidMappings = newUserns ? (linux.uidMappings ?? []) : [];
  const gidMappings = newUserns ? (linux.gidMappings ?? []) : [];
  if (newUserns && (uidMappings.length === 0 || gidMappings.length === 0)) {
    throw errors.invalid('a new user namespace needs linux.uidMappings and linux.gidMappings');
  }

  const extras: MountExtras = { symlinks: [], readonly: [] };
  const idmapCtx: IdmapContext = {
    userns: newUserns ? 'new' : inUserns ? 'join' : 'none',
    usernsPath: joins.find((j) => j.type === 'user')?.path ?? null,
    uidMappings,
    gidMappings,
    isRoot: opts.host.isRoot,
  };
  const cgroup2Bind = cgroup2BindSource(spec, opts, inUserns, (newFlags & CLONE.NEWCGROUP) !== 0);
  const mounts = (spec.mounts ?? []).flatMap((m) => compileMount(m, opts, newUserns ? gidMappings : null, warnings, extras, idmapCtx, cgroup2Bind));
  const devBound = mounts.some((m) => m.destination === '/dev' && m.kind === 'bind');
  // Devices, /dev symlinks and the console go into /dev after it is mounted: a read-only /dev is
  // mounted read-write and made read-only at the end, as runc does (mountPropagate, finalizeRootfs).
  let readonlyDev = false;
  for (const m of mounts) {
    if (m.destination === '/dev' && m.kind === 'fs' && m.flags & MS.RDONLY) {
      m.flags &= ~MS.RDONLY;
      readonlyDev = true;
    }
  }
  const devices = new Map<string, PlanDevice>();
  const symlinks: PlanSymlink[] = [];
  if (!devBound) {
    for (const d of DEFAULT_DEVICES) devices.set(d.path, d);
    symlinks.push(...DEFAULT_SYMLINKS);
  }
  symlinks.push(...extras.symlinks);
  for (const d of linux.devices ?? []) {
    const p = containerPath(d.path);
    const fmt = d.type === 'b' ? S_IFBLK : d.type === 'p' ? S_IFIFO : d.type === 'c' || d.type === 'u' ? S_IFCHR : -1;
    if (fmt < 0) throw errors.invalid(`device ${p}: unknown type ${JSON.stringify(d.type)}`);
    devices.set(p, {
      path: p,
      mode: fmt | ((d.fileMode ?? 0o666) & 0o7777),
      major: d.major ?? 0,
      minor: d.minor ?? 0,
      uid: d.uid ?? 0,
      gid: d.gid ?? 0,
    });
  }

  const uts = has('uts');
  if ((spec.hostname || spec.domainname) && !uts) throw errors.invalid('hostname and domainname need a uts namespace');

  const rlimits: PlanRlimit[] = (proc.rlimits ?? []).map((r) => {
    const resource = RLIMITS[r.type];
    if (resource === undefined) throw errors.invalid(`unknown rlimit type ${JSON.stringify(r.type)}`);
    return { type: r.type, resource, soft: rlimitValue(r.soft), hard: rlimitValue(r.hard) };
  });

  const caps = proc.capabilities;
  const capLast = opts.host.capLast;
  const env = [...(proc.env ?? [])];
  let preserveFds = opts.preserveFds;
  if (opts.listenFds && opts.listenFds > 0) {
    env.push(`LISTEN_FDS=${opts.listenFds}`, 'LISTEN_PID=1');
    preserveFds += opts.listenFds;
  }
  const cwd = containerPath(proc.cwd);
  const user = proc.user ?? {};
  // An unprivileged runtime's user namespace denies setgroups(2) (its gid_map was written by the
  // runtime, or newgidmap denied it for a self-mapped group), so the supplementary groups stay
  // as inherited; asking for others is an error, as in runc's setupUser.
  const setGroups = !(inUserns && !opts.host.isRoot);
  if (!setGroups && (user.additionalGids?.length ?? 0) > 0) {
    throw errors.invalid('cannot set any additional groups in a rootless container');
  }

  return {
    cloneFlags,
    unshareFlags,
    joins,
    newUserns,
    mapsDumpable: newUserns && !opts.host.isRoot,
    forkAfter,
    joinOnly: false,
    uidMappings,
    gidMappings,
    rootfs: opts.rootfs,
    execFifo: opts.execFifo,
    fifoHold: opts.execFifo !== null && (spec.hooks?.startContainer?.length ?? 0) > 0,
    waitCgroup: false,
    timeOffsets,
    rootPropagation: rootPropagationOf(linux.rootfsPropagation),
    rootfsParent: null,
    rootfsPropagation: linux.rootfsPropagation ? ROOTFS_PROPAGATION[linux.rootfsPropagation] ?? 0 : 0,
    readonlyRoot: spec.root?.readonly === true,
    readonlyDev,
    noPivot: opts.noPivot,
    hideMounts: [],
    sharedMountNs,
    mounts,
    devices: [...devices.values()],
    bindDevices: inUserns,
    symlinks,
    masked: (linux.maskedPaths ?? []).map(containerPath),
    readonly: [...(linux.readonlyPaths ?? []).map(containerPath), ...extras.readonly],
    sysctls: Object.entries(linux.sysctl ?? {}).map(([key, value]) => ({
      key,
      path: key.includes('/') ? key.replace(/^\/+/, '') : key.replaceAll('.', '/'),
      value,
    })),
    rlimits,
    hostname: spec.hostname ?? null,
    domainname: spec.domainname ?? null,
    newKeyring: !opts.noNewKeyring,
    keyringName: `_ses.${opts.id}`,
    uid: user.uid ?? 0,
    gid: user.gid ?? 0,
    umask: user.umask ?? 0o022,
    groups: user.additionalGids ?? [],
    setGroups,
    applyCaps: caps !== undefined,
    capLast,
    capBounding: capMask(caps?.bounding, capLast, warnings),
    capEffective: capMask(caps?.effective, capLast, warnings),
    capPermitted: capMask(caps?.permitted, capLast, warnings),
    capInheritable: capMask(caps?.inheritable, capLast, warnings),
    capAmbient: capMask(caps?.ambient, capLast, warnings),
    noNewPrivileges: proc.noNewPrivileges === true,
    apparmorProfile: compileApparmorProfile(proc.apparmorProfile),
    seccomp: false,
    seccompProgram: null,
    seccompFlags: 0,
    seccompNotify: false,
    oomScoreAdj: proc.oomScoreAdj ?? null,
    terminal: proc.terminal === true,
    consoleRows: proc.consoleSize?.height ?? 0,
    consoleCols: proc.consoleSize?.width ?? 0,
    cwd,
    args: proc.args,
    env,
    execPaths: execCandidates(proc.args[0]!, env, cwd),
    preserveFds,
    hostExeDev: opts.host.exeDev,
    hostExeIno: opts.host.exeIno,
    warnings,
  };
}
