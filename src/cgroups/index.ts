// Public entry of src/cgroups: the CgroupManager contract, the driver factory, detection and the
// helpers the runtime verbs need (default device rules, conversions). Wiring only.
import { errors } from '../errors/index';
import type { Sys } from '../native/index';
import { detectCgroupMode } from './detect';
import type { CgroupManager, CgroupManagerOptions } from './manager';
import { V1Manager } from './v1';
import { V2Manager } from './v2';

export type { CgroupManager, CgroupManagerOptions, OomWatch } from './manager';
export type { CgroupMode, LinuxResources, Stats } from './types';
export { detectCgroupMode, cleanCgroupPath, innerCgroupPath } from './detect';
export { defaultDeviceRules } from './devices';
export { sharesToWeight, swapToV2, blkioWeightToIoWeight } from './convert';
export { V1Manager } from './v1';
export { V2Manager } from './v2';

/**
 * Picks and resolves the driver for this host, as runc's manager.New does: v2 on a unified host,
 * v1 (joining the unused cgroup2 mount too) on v1 and hybrid hosts. A systemd-style cgroupsPath
 * ("slice:prefix:name") or systemd: true is refused: there is no systemd driver yet (TODO #4).
 */
export async function createCgroupManager(opts: CgroupManagerOptions, sys?: Sys): Promise<CgroupManager> {
  if (!opts.id) throw errors.invalid('cgroup: container id is required');
  if (opts.systemd) throw errors.notImplemented('systemd cgroup driver is not implemented');
  if (opts.cgroupsPath && /^[^/]*:[^/]*:[^/]*$/.test(opts.cgroupsPath) && opts.cgroupsPath.includes(':'))
    throw errors.notImplemented(`systemd-style cgroupsPath ${JSON.stringify(opts.cgroupsPath)} needs the systemd driver, which is not implemented`);
  const mode = opts.mode ?? (await detectCgroupMode(opts.root));
  if (mode === 'v2') return V2Manager.open(opts, sys);
  return V1Manager.open(opts, mode === 'hybrid');
}
