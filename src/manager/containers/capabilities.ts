// Docker's security defaults for a container other than seccomp: the capability set and the
// --cap-add/--cap-drop/--privileged arithmetic, the masked and read-only /proc and /sys paths, and
// the device cgroup rules. Data and pure functions; the host is read only by hostCapabilities().
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LinuxCapabilities, LinuxDeviceCgroup } from '../../../spec/types/runtime';
import { RuntimeError } from '../../errors/index';
import { CAPABILITIES } from '../../runtime/plan/constants';

/** Docker's default capabilities (moby oci/caps/defaults.go), in Docker's order. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** The "every capability" value of --cap-add and --cap-drop. */
export const ALL_CAPABILITIES = 'ALL';

/** What the capability arithmetic needs to know about the host. */
export type CapabilityEnv = {
  /** Every capability name the engine knows, in kernel order. */
  known: readonly string[];
  /** Those this kernel has and the engine itself holds: all that a container can be given. */
  available: readonly string[];
};

/**
 * The host's capabilities, as Docker 28 finds them (oci/caps/utils_linux.go): the names we know,
 * cut at /proc/sys/kernel/cap_last_cap, and of those the ones in the engine's own effective set.
 * A capability outside that set cannot be granted: the runtime's capset(2) fails with EPERM (this
 * is why dockerd 20.10, which offers all up to CAP_AUDIT_READ, cannot start --privileged
 * containers on a host whose engine lacks CAP_SYS_RESOURCE).
 */
export function hostCapabilities(proc = '/proc'): CapabilityEnv {
  let last = CAPABILITIES.length - 1;
  try {
    last = Math.min(last, Number(fs.readFileSync(path.join(proc, 'sys/kernel/cap_last_cap'), 'utf8').trim()));
  } catch {
    /* no procfs entry (kernels before 3.2): every name we know */
  }
  const inKernel = CAPABILITIES.slice(0, last + 1);
  let eff: bigint | undefined;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync(path.join(proc, 'self/status'), 'utf8'));
    if (m) eff = BigInt(`0x${m[1]}`);
  } catch {
    /* unreadable: assume every capability, as Docker does when it cannot tell */
  }
  const available = eff === undefined ? inKernel : inKernel.filter((_, bit) => (eff! >> BigInt(bit)) & 1n);
  return { known: CAPABILITIES, available };
}

let hostEnv: CapabilityEnv | undefined;

function defaultEnv(): CapabilityEnv {
  return (hostEnv ??= hostCapabilities());
}

/**
 * --cap-add/--cap-drop values as Docker normalizes them (NormalizeLegacyCapabilities): upper case,
 * CAP_ prefixed when missing, "ALL" kept. Unknown names and names this host cannot grant are
 * InvalidArgument errors in Docker's words; `option` names the flag ("CapAdd" → "invalid CapAdd: …").
 */
export function normalizeCapabilities(list: readonly string[], option?: string, env: CapabilityEnv = defaultEnv()): string[] {
  return list.map((c) => {
    let n = c.toUpperCase();
    if (n === ALL_CAPABILITIES) return n;
    if (!n.startsWith('CAP_')) n = `CAP_${n}`;
    let problem: string | undefined;
    if (!env.known.includes(n)) problem = `unknown capability: ${JSON.stringify(n)}`;
    else if (!env.available.includes(n))
      problem = `capability not supported by your kernel or not available in the current environment: ${JSON.stringify(n)}`;
    if (problem) throw new RuntimeError('InvalidArgument', option ? `invalid ${option}: ${problem}` : problem);
    return n;
  });
}

/** Docker's create-time check of HostConfig.CapAdd/CapDrop (daemon/container.go validateCapabilities). */
export function validateCapabilities(o: { capAdd?: readonly string[]; capDrop?: readonly string[] }, env: CapabilityEnv = defaultEnv()): void {
  normalizeCapabilities(o.capAdd ?? [], 'CapAdd', env);
  normalizeCapabilities(o.capDrop ?? [], 'CapDrop', env);
}

/**
 * The container's capability set (bounding = permitted = effective), Docker's TweakCapabilities:
 * privileged → every available capability; nothing to add or drop → the defaults; --cap-add ALL →
 * every available one but those dropped; --cap-drop ALL → only those added; otherwise the defaults
 * minus the dropped plus the added. Duplicates are removed, first occurrence kept.
 */
export function containerCapabilities(
  o: { capAdd?: readonly string[]; capDrop?: readonly string[]; privileged?: boolean },
  env: CapabilityEnv = defaultEnv(),
): string[] {
  if (o.privileged) return [...env.available];
  const adds = o.capAdd ?? [];
  const drops = o.capDrop ?? [];
  if (adds.length === 0 && drops.length === 0) return [...DEFAULT_CAPABILITIES];
  const drop = normalizeCapabilities(drops, 'CapDrop', env);
  const add = normalizeCapabilities(adds, 'CapAdd', env);
  let caps: string[];
  if (add.includes(ALL_CAPABILITIES)) caps = env.available.filter((c) => !drop.includes(c));
  else if (drop.includes(ALL_CAPABILITIES)) caps = add;
  else caps = [...DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c)), ...add];
  return [...new Set(caps)];
}

/** process.capabilities for a set (moby oci.SetCapabilities): no inheritable or ambient set. */
export function capabilitiesSpec(caps: readonly string[]): LinuxCapabilities {
  return { bounding: [...caps], effective: [...caps], permitted: [...caps] };
}

/**
 * linux.maskedPaths of an unprivileged container (moby oci/defaults.go, Docker 28), without the
 * per-CPU thermal_throttle entries that defaultMaskedPaths() adds. Shared: never mutate.
 */
export const DEFAULT_MASKED_PATHS: string[] = [
  '/proc/asound',
  '/proc/acpi',
  // GHSA-6fw5-f8r9-fgfm: interrupt counts leak host activity.
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  // GHSA-jq35-85cj-fj4p: RAPL energy counters are a side channel.
  '/sys/devices/virtual/powercap',
];

/** linux.readonlyPaths of an unprivileged container. Shared: never mutate. */
export const DEFAULT_READONLY_PATHS: string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** "0-3,8" (the kernel's cpu list format) → [0, 1, 2, 3, 8]. */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    if (!part) continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) continue;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    for (let c = lo; c <= hi; c++) out.push(c);
  }
  return out;
}

/**
 * The masked paths Docker 28 gives a container: none when privileged; else the defaults plus each
 * possible CPU's thermal_throttle directory that exists (GHSA-6fw5-f8r9-fgfm). sys is the host's
 * sysfs, a parameter for tests.
 */
export function defaultMaskedPaths(privileged: boolean, sys = '/sys'): string[] {
  if (privileged) return [];
  const out = [...DEFAULT_MASKED_PATHS];
  let cpus: number[] = [];
  try {
    cpus = parseCpuList(fs.readFileSync(path.join(sys, 'devices/system/cpu/possible'), 'utf8'));
  } catch {
    /* no cpu list: no thermal paths */
  }
  for (const c of cpus) {
    const rel = `devices/system/cpu/cpu${c}/thermal_throttle`;
    if (fs.existsSync(path.join(sys, rel))) out.push(`/sys/${rel}`);
  }
  return out;
}

/** The read-only paths Docker gives a container: none when privileged. */
export function defaultReadonlyPaths(privileged: boolean): string[] {
  return privileged ? [] : [...DEFAULT_READONLY_PATHS];
}

/**
 * linux.resources.devices of an unprivileged container before --device and --device-cgroup-rule
 * (moby oci/defaults.go): deny all; allow zero 1:5, null 1:3, urandom 1:9, random 1:8, tty 5:0,
 * console 5:1; deny fuse 10:229. The runtime appends runc's allowed devices (mknod of any, full,
 * pts, ptmx, tun) after these, as runc's specconv does.
 */
export const DEFAULT_DEVICE_RULES: readonly LinuxDeviceCgroup[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
  { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
];

/** The device rules Docker starts from: everything for a privileged container, else the defaults. */
export function defaultDeviceCgroupRules(privileged: boolean): LinuxDeviceCgroup[] {
  return privileged ? [{ allow: true, access: 'rwm' }] : DEFAULT_DEVICE_RULES.map((r) => ({ ...r }));
}
