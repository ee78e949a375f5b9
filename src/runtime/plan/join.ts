// compileJoinPlan: the InitPlan of `exec`: enter every namespace of a running container's init
// (user first, then an extra fork for the pid namespace) and run one more process there. Pure.
import type { Process, Spec } from '../../../spec/types/runtime';
import { compilePlan, type PlanOptions } from './compile';
import { NAMESPACES } from './constants';
import type { InitPlan } from './types';

export type JoinPlanOptions = Omit<PlanOptions, 'rootfs' | 'execFifo' | 'noPivot'> & {
  /** host pid of the container's init, whose /proc/<pid>/ns/* are joined */
  initPid: number;
};

export function compileJoinPlan(spec: Spec, proc: Process, opts: JoinPlanOptions): InitPlan {
  const namespaces = (spec.linux?.namespaces ?? []).map((ns) => ({
    type: ns.type,
    path: `/proc/${opts.initPid}/ns/${NAMESPACES[ns.type]?.proc ?? ns.type}`,
  }));
  const joinSpec: Spec = {
    ociVersion: spec.ociVersion,
    process: proc,
    linux: { namespaces },
  };
  if (spec.root) joinSpec.root = spec.root;
  const plan = compilePlan(joinSpec, { ...opts, rootfs: '', execFifo: null, noPivot: false });
  // No mount namespace to join: the init is chrooted in the runtime's, so chroot into its root too.
  if (plan.sharedMountNs) plan.rootfs = `/proc/${opts.initPid}/root`;
  // runc exec also enters the pid namespace, which needs the extra fork; everything else is setns.
  return { ...plan, joinOnly: true, devices: [], symlinks: [], mounts: [], forkAfter: plan.joins.some((j) => j.type === 'pid') || plan.forkAfter };
}
