// Device cgroup rules: normalisation of spec entries, runc's default allow-list, and the v1
// devices.allow/devices.deny line format. The v2 eBPF program is built in device-filter.ts.
import { errors } from '../errors/index';
import type { LinuxDeviceCgroup } from './types';

/** A normalised rule: type a|c|b, -1 for a wildcard number, access a subset of "rwm". */
export type DeviceRule = { allow: boolean; type: 'a' | 'c' | 'b'; major: number; minor: number; access: string };

/**
 * The access as runc's devices.Permissions reads it: the r, w and m it holds, in that order; any
 * other letter is ignored ("rwa" is "rw"), as its toSet/fromSet do.
 */
export function deviceAccess(access: string): string {
  return [...'rwm'].filter((c) => access.includes(c)).join('');
}

/**
 * Normalises spec entries as runc's specconv does (missing type = "a", missing numbers = wildcard).
 * A rule left with no access it knows grants or denies nothing and is dropped.
 */
export function normalizeDeviceRules(entries: LinuxDeviceCgroup[]): DeviceRule[] {
  return entries.flatMap((d, i) => {
    const type = d.type ?? 'a';
    if (type !== 'a' && type !== 'c' && type !== 'b' && type !== 'u' && type !== 'p')
      throw errors.invalid(`device rule ${i}: invalid type ${JSON.stringify(type)}`);
    if (!d.access) throw errors.invalid(`device access at ${i} field cannot be empty`);
    const access = deviceAccess(d.access);
    if (!access) return [];
    // "u" (unbuffered char) is a char device to the cgroup; "p" (fifo) needs no rule, runc maps it to c.
    const t = type === 'u' || type === 'p' ? 'c' : type;
    return [{ allow: d.allow, type: t, major: d.major ?? -1, minor: d.minor ?? -1, access }];
  });
}

/**
 * runc's specconv.AllowedDevices, appended after the spec's own rules at create: mknod of any
 * device, the standard character devices, /dev/pts/*, /dev/ptmx and /dev/net/tun.
 */
export const defaultDeviceRules: readonly LinuxDeviceCgroup[] = Object.freeze([
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 136, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
]);

/** The line devices.allow/devices.deny take: "c 1:3 rwm", "a *:* rwm". */
export function v1DeviceLine(r: DeviceRule): string {
  const num = (n: number) => (n < 0 ? '*' : String(n));
  return `${r.type} ${num(r.major)}:${num(r.minor)} ${r.access}`;
}
