// LSM requests of a bundle (process.apparmorProfile, process.selinuxLabel, linux.mountLabel): an
// AppArmor profile is applied by the child (step APPARMOR) when the host has AppArmor; SELinux
// labels are not applied, so they are refused with a clear reason instead of running the container
// unlabelled, as is anything the host lacks. What the host offers is read from sysfs, injectable.
import * as fs from 'node:fs';
import type { Process, Spec } from '../../spec/types/runtime';
import { RuntimeError } from '../errors/index';

export type HostLsm = { apparmor: boolean; selinux: boolean };

/** Which LSMs this kernel has enabled (securityfs lsm list, else the module parameters). */
export function hostLsm(sysRoot = '/sys'): HostLsm {
  let list = '';
  try {
    list = fs.readFileSync(`${sysRoot}/kernel/security/lsm`, 'utf8');
  } catch {
    /* securityfs not mounted: fall back to the per-LSM files */
  }
  const apparmor = list.includes('apparmor') || readTrim(`${sysRoot}/module/apparmor/parameters/enabled`) === 'Y';
  const selinux = list.includes('selinux') || fs.existsSync(`${sysRoot}/fs/selinux/enforce`);
  return { apparmor, selinux };
}

function readTrim(p: string): string {
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Throws when a label is asked for that this host lacks, or that keel cannot apply (SELinux). */
export function checkLsmRequests(proc: Process | undefined, spec: Spec | undefined, host: HostLsm): void {
  const ask: [string, string | undefined, keyof HostLsm][] = [
    ['apparmor profile', proc?.apparmorProfile, 'apparmor'],
    ['selinux label', proc?.selinuxLabel, 'selinux'],
    ['selinux mount label', spec?.linux?.mountLabel, 'selinux'],
  ];
  for (const [what, value, lsm] of ask) {
    if (!value) continue;
    const name = lsm === 'apparmor' ? 'AppArmor' : 'SELinux';
    if (!host[lsm]) throw new RuntimeError('InvalidArgument', `${what} ${JSON.stringify(value)} requested, but ${name} is not enabled on this host`);
    if (lsm === 'apparmor') continue;
    throw new RuntimeError('NotImplemented', `${what} ${JSON.stringify(value)}: applying ${name} labels is not supported by keel yet`);
  }
}
