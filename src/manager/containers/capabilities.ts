// Docker's default capability set, masked and read-only paths and device rules (placeholder until
// the full module lands: --cap-add/--cap-drop with ALL, privileged = every capability).
import * as fs from 'node:fs';
import type { LinuxDeviceCgroup } from '../../../spec/types/runtime';
import { RuntimeError } from '../../errors/index';
import { CAPABILITIES } from '../../runtime/plan/constants';

export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

function known(): string[] {
  let last = CAPABILITIES.length - 1;
  try {
    last = Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  } catch {
    /* keep the table */
  }
  // Only what this daemon may grant: a capability outside its bounding set cannot be set in a
  // child (capset EPERM), as on machines that withhold CAP_SYS_RESOURCE.
  let bnd = -1n;
  try {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) bnd = BigInt(`0x${m[1]}`);
  } catch {
    /* assume all */
  }
  return CAPABILITIES.slice(0, last + 1).filter((_c, i) => (bnd >> BigInt(i)) & 1n);
}

function norm(c: string): string {
  const u = c.toUpperCase();
  if (u === 'ALL') return u;
  const n = u.startsWith('CAP_') ? u : `CAP_${u}`;
  if (!CAPABILITIES.includes(n)) throw new RuntimeError('InvalidArgument', `invalid capability: ${c}`);
  return n;
}

export function containerCapabilities(o: { capAdd: string[]; capDrop: string[]; privileged: boolean }): string[] {
  if (o.privileged) return known();
  const add = o.capAdd.map(norm);
  const drop = o.capDrop.map(norm);
  let caps = add.includes('ALL') ? known() : [...DEFAULT_CAPABILITIES];
  for (const a of add) if (a !== 'ALL' && !caps.includes(a)) caps.push(a);
  if (drop.includes('ALL')) caps = add.filter((a) => a !== 'ALL');
  else caps = caps.filter((c) => !drop.includes(c));
  return caps;
}

export const DEFAULT_MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats',
  '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export const DEFAULT_DEVICE_RULES: LinuxDeviceCgroup[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
  { allow: true, type: 'c', major: 136, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
];
