// Checks of a schema-valid config.json that the JSON schema cannot express (runtime-spec v1.3.0 config.md and
// config-linux.md; the namespace/sysctl rules follow runc's libcontainer/configs/validate). Each failure is an
// InvalidArgument "config.json: /json/pointer: reason". Only stats the bundle; never changes anything.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntimeError } from '../errors/index';
import type { Hook, LinuxNamespace, Spec } from '../../spec/types/runtime';

/** Options of checkSpec. */
export interface CheckOptions {
  /** The runtime's --systemd-cgroup flag: linux.cgroupsPath must then be "slice:prefix:name", and only then. */
  systemdCgroup?: boolean;
  /** Receives what the spec says to log as a warning instead of failing (relative mount destinations, unknown capabilities). */
  warn?: (message: string) => void;
}

/** Capability numbers of linux/capability.h (capabilities(7)); CAP_CHECKPOINT_RESTORE (40) is Linux 5.9. */
export const capabilityNumbers: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(
    // prettier-ignore
    [
      'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
      'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
      'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
      'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
      'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
      'CHECKPOINT_RESTORE',
    ].map((name, i) => [`CAP_${name}`, i]),
  ),
);

/** Resource numbers of asm-generic/resource.h (getrlimit(2)), the ones Linux maps RLIMIT_* names to. */
export const rlimitNumbers: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(
    // prettier-ignore
    [
      'CPU', 'FSIZE', 'DATA', 'STACK', 'CORE', 'RSS', 'NPROC', 'NOFILE', 'MEMLOCK', 'AS', 'LOCKS', 'SIGPENDING',
      'MSGQUEUE', 'NICE', 'RTPRIO', 'RTTIME',
    ].map((name, i) => [`RLIMIT_${name}`, i]),
  ),
);

/** True when linux.cgroupsPath is in systemd's "slice:prefix:name" form (runc's systemd driver splits on ':'). */
export function isSystemdCgroupsPath(p: string): boolean {
  return !p.includes('/') && p.split(':').length === 3;
}

/** SemVer 2.0.0 (semver.org) with major version 1: "1.0.2-dev" and "1.3.0-rc.1" are fine, "1.0" is not. */
const ociVersionRe =
  /^1\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*)?(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$/;

/** sysctls the IPC namespace isolates (runc validator.go sysctl(); ipc_namespaces(7), mq_overview(7)). */
// prettier-ignore
const ipcSysctls = new Set([
  'kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax',
  'kernel.shmmni', 'kernel.shm_rmid_forced',
]);

/** JSON pointer (RFC 6901) of a path of keys. */
export function pointer(...parts: Array<string | number>): string {
  return '/' + parts.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

/** sysctl(8) accepts "/" for "." as separator; normalise "net/ipv4/ip_forward" to "net.ipv4.ip_forward". */
function sysctlDotted(key: string): string {
  const i = key.search(/[./]/);
  if (i < 0 || key[i] === '.') return key;
  return key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

/**
 * Checks what the schema cannot: versions, paths, namespace coherence, names of capabilities and rlimits.
 * Throws RuntimeError('InvalidArgument', `${file}: ${pointer}: ${reason}`) on the first problem.
 */
export function checkSpec(spec: Spec, bundleDir: string, file = 'config.json', opts: CheckOptions = {}): void {
  const fail = (ptr: string, reason: string): never => {
    throw new RuntimeError('InvalidArgument', `${file}: ${ptr}: ${reason}`);
  };
  const warn = (ptr: string, reason: string): void => opts.warn?.(`${file}: ${ptr}: ${reason}`);
  const mustBeAbsolute = (ptr: string, p: string): void => {
    if (!path.isAbsolute(p)) fail(ptr, `must be an absolute path, got ${JSON.stringify(p)}`);
  };

  // config.md "Specification version": SemVer; keel implements 1.x, which is compatible within the major.
  if (!ociVersionRe.test(spec.ociVersion)) {
    fail('/ociVersion', `unsupported version ${JSON.stringify(spec.ociVersion)}: want a 1.x SemVer version`);
  }

  checkRoot(spec, bundleDir, fail);
  checkProcess(spec, fail, warn, mustBeAbsolute);

  // config.md "POSIX-platform Hooks": path MUST be absolute.
  for (const [stage, hooks] of Object.entries(spec.hooks ?? {}) as Array<[string, Hook[] | undefined]>) {
    (hooks ?? []).forEach((h, i) => mustBeAbsolute(pointer('hooks', stage, i, 'path'), h.path));
  }

  (spec.mounts ?? []).forEach((m, i) => {
    // config.md "Mounts" (v1.3.0): on Linux the destination SHOULD be absolute, MAY be relative and is then
    // relative to "/"; relative paths are deprecated. So warn, as runc >= 1.2 does, and accept.
    if (!path.isAbsolute(m.destination)) {
      warn(
        pointer('mounts', i, 'destination'),
        `relative mount destination ${JSON.stringify(m.destination)} is deprecated, using it as relative to "/"`,
      );
    }
    const isBind = (m.options ?? []).some((o) => o === 'bind' || o === 'rbind') || m.type === 'bind';
    if (isBind && !m.source) fail(pointer('mounts', i), 'bind mount needs a source');
    // runc checkIDMapMounts: id-mapped mounts are bind mounts (mount_setattr(2) MOUNT_ATTR_IDMAP on a detached tree).
    if ((m.uidMappings || m.gidMappings) && !isBind) {
      fail(pointer('mounts', i), 'uidMappings/gidMappings are only supported on bind mounts');
    }
    if ((m.uidMappings === undefined) !== (m.gidMappings === undefined)) {
      fail(pointer('mounts', i), 'id-mapped mount needs both uidMappings and gidMappings');
    }
  });

  checkLinux(spec, opts, fail, mustBeAbsolute);
}

type Fail = (ptr: string, reason: string) => never;

function checkRoot(spec: Spec, bundleDir: string, fail: Fail): void {
  // config.md "Root": REQUIRED on every platform but Windows (Hyper-V).
  if (!spec.root) return fail('/', "must have required property 'root'");
  const rootfs = path.resolve(bundleDir, spec.root.path);
  let st: fs.Stats;
  try {
    st = fs.statSync(rootfs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'ENOENT') return fail('/root/path', `rootfs ${rootfs} does not exist`);
    return fail('/root/path', `stat rootfs ${rootfs}: ${code}`);
  }
  if (!st.isDirectory()) fail('/root/path', `rootfs ${rootfs} is not a directory`);
}

function checkProcess(
  spec: Spec,
  fail: Fail,
  warn: (ptr: string, reason: string) => void,
  mustBeAbsolute: (ptr: string, p: string) => void,
): void {
  const proc = spec.process;
  // config.md "Process": OPTIONAL in the document but REQUIRED when start is called; create is what reads it.
  if (!proc) return fail('/', "must have required property 'process'");
  // config.md: "at least one entry is REQUIRED (non-Windows)".
  if (!proc.args || proc.args.length === 0) fail('/process/args', 'must have at least one entry');
  // config.md: cwd "MUST be an absolute path".
  mustBeAbsolute('/process/cwd', proc.cwd);

  // config.md "POSIX process": unknown types and duplicates MUST generate an error.
  const seen = new Set<string>();
  (proc.rlimits ?? []).forEach((r, i) => {
    if (!(r.type in rlimitNumbers))
      fail(pointer('process', 'rlimits', i, 'type'), `unknown rlimit ${JSON.stringify(r.type)}`);
    if (seen.has(r.type)) fail(pointer('process', 'rlimits', i), `duplicate rlimit ${JSON.stringify(r.type)}`);
    seen.add(r.type);
    // setrlimit(2): EINVAL when rlim_cur > rlim_max.
    if (r.soft > r.hard) fail(pointer('process', 'rlimits', i), `soft limit ${r.soft} exceeds hard limit ${r.hard}`);
  });

  // config.md "Linux Process": capabilities that cannot be mapped MUST be logged as a warning and SHOULD NOT
  // fail the container (runc >= 1.1 likewise ignores them with a warning).
  for (const [set, caps] of Object.entries(proc.capabilities ?? {}) as Array<[string, string[] | undefined]>) {
    (caps ?? []).forEach((c, i) => {
      if (!(c in capabilityNumbers))
        warn(pointer('process', 'capabilities', set, i), `unknown capability ${JSON.stringify(c)}, ignored`);
    });
  }

  // sched_setattr(2) rules, as runc's validator applies them.
  const s = proc.scheduler;
  if (s) {
    if (s.nice !== undefined && (s.nice < -20 || s.nice > 19))
      fail('/process/scheduler/nice', `must be within -20..19, got ${s.nice}`);
    if (s.priority && s.policy !== 'SCHED_FIFO' && s.policy !== 'SCHED_RR') {
      fail('/process/scheduler/priority', 'can only be set for SCHED_FIFO or SCHED_RR');
    }
    if (s.policy !== 'SCHED_DEADLINE' && (s.runtime || s.deadline || s.period)) {
      fail('/process/scheduler', 'runtime, deadline and period can only be set for SCHED_DEADLINE');
    }
  }
}

function checkLinux(
  spec: Spec,
  opts: CheckOptions,
  fail: Fail,
  mustBeAbsolute: (ptr: string, p: string) => void,
): void {
  const linux = spec.linux ?? {};
  const namespaces = linux.namespaces ?? [];
  const byType = new Map<LinuxNamespace['type'], { ns: LinuxNamespace; index: number }>();
  namespaces.forEach((ns, i) => {
    // config-linux.md "Namespaces": duplicated types MUST generate an error; path MUST be absolute.
    if (byType.has(ns.type)) fail(pointer('linux', 'namespaces', i), `duplicate namespace ${JSON.stringify(ns.type)}`);
    byType.set(ns.type, { ns, index: i });
    if (ns.path !== undefined) mustBeAbsolute(pointer('linux', 'namespaces', i, 'path'), ns.path);
  });
  const has = (t: LinuxNamespace['type']) => byType.has(t);

  // A new user namespace (no path) is useless without maps: the container would run as the overflow id.
  const user = byType.get('user');
  if (user && user.ns.path === undefined) {
    const missing = [
      linux.uidMappings?.length ? '' : 'uidMappings',
      linux.gidMappings?.length ? '' : 'gidMappings',
    ].filter(Boolean);
    if (missing.length > 0) {
      fail(pointer('linux', 'namespaces', user.index), `user namespace requested without ${missing.join(' and ')}`);
    }
  }
  // runc: "User namespace mappings specified, but USER namespace isn't enabled in the config".
  if (!user) {
    if (linux.uidMappings) fail('/linux/uidMappings', 'user namespace mappings given without a user namespace');
    if (linux.gidMappings) fail('/linux/gidMappings', 'user namespace mappings given without a user namespace');
  }

  // runc uts(): hostname and domainname only make sense in a UTS namespace of the container's own.
  if (spec.hostname && !has('uts')) fail('/hostname', 'unable to set hostname without a private UTS namespace');
  if (spec.domainname && !has('uts')) fail('/domainname', 'unable to set domainname without a private UTS namespace');

  checkSysctls(linux.sysctl ?? {}, byType, fail);

  // config-linux.md "Devices": type c, b, u or p; path "full path"; major/minor REQUIRED unless type is p.
  (linux.devices ?? []).forEach((d, i) => {
    mustBeAbsolute(pointer('linux', 'devices', i, 'path'), d.path);
    if (!['c', 'b', 'u', 'p'].includes(d.type))
      fail(pointer('linux', 'devices', i, 'type'), `invalid device type ${JSON.stringify(d.type)}`);
    if (d.type !== 'p' && (d.major === undefined || d.minor === undefined)) {
      fail(pointer('linux', 'devices', i), `device ${d.path} of type ${d.type} needs major and minor`);
    }
  });

  // config-linux.md "Masked Paths"/"Readonly Paths": MUST be absolute; runc: they need a mount namespace.
  for (const key of ['maskedPaths', 'readonlyPaths'] as const) {
    const paths = linux[key] ?? [];
    paths.forEach((p, i) => mustBeAbsolute(pointer('linux', key, i), p));
    if (paths.length > 0 && !has('mount'))
      fail(pointer('linux', key), 'unable to restrict paths without a private mount namespace');
  }

  // runc namespaces(): offsets are written into a new time namespace's timens_offsets.
  if (linux.timeOffsets && !has('time')) fail('/linux/timeOffsets', 'time offsets given without a time namespace');

  const cg = linux.cgroupsPath;
  if (cg !== undefined && cg !== '') {
    if (opts.systemdCgroup) {
      // runc libcontainer/cgroups/systemd: "slice:prefix:name", the slice being empty or a *.slice unit.
      const parts = cg.split(':');
      if (parts.length !== 3 || cg.includes('/')) {
        fail('/linux/cgroupsPath', `expected "slice:prefix:name" for systemd cgroups, got ${JSON.stringify(cg)}`);
      }
      if (parts[0] !== '' && !parts[0]!.endsWith('.slice')) {
        fail('/linux/cgroupsPath', `invalid slice name ${JSON.stringify(parts[0])}: must end in ".slice"`);
      }
    } else if (isSystemdCgroupsPath(cg)) {
      fail(
        '/linux/cgroupsPath',
        `${JSON.stringify(cg)} is a systemd "slice:prefix:name" path, which needs --systemd-cgroup`,
      );
    }
  }

  // runc intelrdtCheck: closID names a directory under /sys/fs/resctrl.
  const clos = linux.intelRdt?.closID;
  if (clos !== undefined && (clos === '.' || clos === '..' || clos.includes('/'))) {
    fail('/linux/intelRdt/closID', `invalid closID ${JSON.stringify(clos)}`);
  }

  // config-linux.md "Seccomp": listenerMetadata MUST NOT be set if listenerPath is not set.
  if (linux.seccomp?.listenerMetadata && !linux.seccomp.listenerPath) {
    fail('/linux/seccomp/listenerMetadata', 'must not be set without listenerPath');
  }
}

function checkSysctls(
  sysctl: Record<string, string>,
  byType: Map<LinuxNamespace['type'], { ns: LinuxNamespace; index: number }>,
  fail: Fail,
): void {
  // /proc/sys is only partly namespaced: runc validator.go sysctl() allows IPC keys with an IPC namespace,
  // net.* with a network namespace other than the host's, kernel.domainname with a UTS namespace, and
  // nothing else.
  let hostNet: boolean | undefined;
  for (const key of Object.keys(sysctl)) {
    const ptr = pointer('linux', 'sysctl', key);
    const s = sysctlDotted(key);
    if (ipcSysctls.has(s) || s.startsWith('fs.mqueue.')) {
      if (!byType.has('ipc')) fail(ptr, `sysctl ${JSON.stringify(s)} is not allowed in the host's ipc namespace`);
      continue;
    }
    if (s.startsWith('net.')) {
      hostNet ??= isHostNetwork(byType.get('network'), fail);
      if (hostNet) fail(ptr, `sysctl ${JSON.stringify(s)} is not allowed in the host's network namespace`);
      continue;
    }
    if (byType.has('uts') && s === 'kernel.domainname') continue;
    if (byType.has('uts') && s === 'kernel.hostname') {
      fail(ptr, 'sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field');
    }
    fail(ptr, `sysctl ${JSON.stringify(s)} is not in a separate kernel namespace`);
  }
}

/** Whether the container shares the runtime's network namespace: none requested, or a path to the same one. */
function isHostNetwork(net: { ns: LinuxNamespace; index: number } | undefined, fail: Fail): boolean {
  if (!net) return true;
  if (net.ns.path === undefined) return false;
  try {
    const mine = fs.statSync('/proc/self/ns/net');
    const theirs = fs.statSync(net.ns.path);
    return mine.dev === theirs.dev && mine.ino === theirs.ino;
  } catch (err) {
    return fail(
      pointer('linux', 'namespaces', net.index, 'path'),
      `stat ${net.ns.path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}
