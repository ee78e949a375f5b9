// InitPlan: the one derived model of a container process, produced by compilePlan and consumed by
// native/src/addon/spawn.cc (which copies it into struct rt_plan, native/include/rt/plan.h) and by
// launch.ts (the parent-only fields). Field names mirror the C struct; keep them in step.
import type { LinuxIDMapping } from '../../../spec/types/runtime';

/** One entry of the child's MOUNTS step. */
export type PlanMount = {
  /** 'bind': bind (rbind with MS_REC), remount with flags, propagation; 'fs': plain mount(2). */
  kind: 'fs' | 'bind';
  /** Host path for binds (absolute), fs source otherwise. */
  source: string;
  /** Absolute, normalized path inside the rootfs. */
  destination: string;
  type: string;
  /** Options that are not flags, joined with ','. */
  data: string;
  /** MS_* flags without propagation. */
  flags: number;
  /** MS_SHARED/SLAVE/PRIVATE/UNBINDABLE [| MS_REC], 0 = leave as is. */
  propagation: number;
  /** mount_setattr(AT_RECURSIVE) attributes from the r* options. */
  attrSet: number;
  attrClr: number;
  /** proc and sysfs destinations must be real directories (CVE-2019-19921). */
  procfsLike: boolean;
  /** Id-mapped bind (idmap/ridmap, mounts[].uidMappings): made by the parent (src/runtime/idmap.ts). */
  idmap?: PlanIdmap;
  /** Parent-filled: fd of the detached id-mapped tree the child attaches (rt_mount.tree_fd). */
  treeFd?: number;
  /** Parent-filled: treeFd is a plain clone of a bind source in a user namespace, attached only if
   * the container's root may not reach the source path (rt_mount.tree_fallback). */
  treeFallback?: boolean;
  /** tmpcopyup on a tmpfs: the child copies the covered directory into it (rt_mount.copy_up). */
  copyUp?: true;
};

/** How an id-mapped bind is made: open_tree(OPEN_TREE_CLONE [| AT_RECURSIVE for rbind]), then
 * mount_setattr(MOUNT_ATTR_IDMAP [| AT_RECURSIVE]) with a user namespace carrying the mapping. */
export type PlanIdmap = {
  /** ridmap: the mapping goes on every mount of an rbind tree, not only its top. */
  recursive: boolean;
  /** The user namespace to take: an existing one (the container joins linux.namespaces[user].path)… */
  usernsPath: string | null;
  /** …or one made for these mappings (the mount's own, else the container's). */
  uidMappings: LinuxIDMapping[];
  gidMappings: LinuxIDMapping[];
};

export type PlanDevice = { path: string; mode: number; major: number; minor: number; uid: number; gid: number };
export type PlanSymlink = { target: string; link: string };
export type PlanSysctl = { key: string; path: string; value: string };
export type PlanRlimit = { type: string; resource: number; soft: bigint; hard: bigint };
export type PlanJoin = { type: string; flag: number; path: string };

export type InitPlan = {
  /** Namespaces created by clone3 itself. */
  cloneFlags: number;
  /** Namespaces created by unshare() in the child (after joins; always the cgroup namespace). */
  unshareFlags: number;
  /** Namespaces entered with setns(), user first. */
  joins: PlanJoin[];
  newUserns: boolean;
  /** The child is dumpable while its maps are written: an unprivileged parent (or newuidmap, which
   * checks the owner of /proc/<pid>) cannot write the maps of a non-dumpable process. */
  mapsDumpable: boolean;
  /** A pid or time namespace is entered after clone: the child forks once more. */
  forkAfter: boolean;
  /** exec into a running container: no rootfs setup. */
  joinOnly: boolean;
  /** Parent-only: written to /proc/<pid>/{uid,gid}_map when newUserns. */
  uidMappings: LinuxIDMapping[];
  gidMappings: LinuxIDMapping[];

  rootfs: string;
  execFifo: string | null;
  /** wait for a second byte on the exec fifo: start runs the startContainer hooks in between */
  fifoHold: boolean;
  /** Parent-set (launch.ts): the child waits right after INIT until placed in its cgroups. */
  waitCgroup: boolean;
  /** linux.timeOffsets as timens_offsets lines; the child creates the time namespace itself (TIMENS). */
  timeOffsets: string | null;
  rootPropagation: number;
  /** Parent-set (launch.ts) when rootPropagation is shared: the mount holding the rootfs, made
   * private in the new namespace before the rootfs is bound (runc rootfsParentMountPrivate). */
  rootfsParent: string | null;
  rootfsPropagation: number;
  readonlyRoot: boolean;
  /** A tmpfs /dev with "ro": mounted read-write for the devices, symlinks and console, made
   * read-only at step ROOT_RO (runc finalizeRootfs). */
  readonlyDev: boolean;
  noPivot: boolean;
  /** Parent-filled with --no-pivot (launch.ts, from its mountinfo): the full proc and sysfs mounts
   * outside the rootfs, detached before MS_MOVE (runc msMoveRoot). */
  hideMounts: string[];
  /** No mount namespace of its own (runtime-spec: the runtime's is inherited): no propagation change
   * or self-bind on the runtime's /, chroot instead of pivot_root; exec chroots into the init's root. */
  sharedMountNs: boolean;
  mounts: PlanMount[];
  devices: PlanDevice[];
  bindDevices: boolean;
  symlinks: PlanSymlink[];
  masked: string[];
  readonly: string[];
  sysctls: PlanSysctl[];
  rlimits: PlanRlimit[];

  hostname: string | null;
  domainname: string | null;
  newKeyring: boolean;
  keyringName: string;
  uid: number;
  gid: number;
  umask: number;
  groups: number[];
  setGroups: boolean;
  /** false when process.capabilities is absent: the capability sets are left untouched. */
  applyCaps: boolean;
  capLast: number;
  capBounding: number;
  capEffective: number;
  capPermitted: number;
  capInheritable: number;
  capAmbient: number;
  noNewPrivileges: boolean;
  /** process.apparmorProfile, armed for the final execve at step APPARMOR; null = leave the label alone. */
  apparmorProfile: string | null;
  seccomp: boolean;
  /** Parent-filled (launch.ts, libseccomp): the BPF program, seccomp(2) flags, and whether it notifies. */
  seccompProgram: Buffer | null;
  seccompFlags: number;
  seccompNotify: boolean;
  /** Parent-only: written to /proc/<pid>/oom_score_adj. */
  oomScoreAdj: number | null;

  terminal: boolean;
  consoleRows: number;
  consoleCols: number;

  cwd: string;
  args: string[];
  env: string[];
  /** Where the child looks for args[0], in PATH order (absolute inside the container). */
  execPaths: string[];
  preserveFds: number;
  /** The runtime's own executable (st_dev, st_ino), refused as an exec target (CVE-2019-5736). */
  hostExeDev: bigint;
  hostExeIno: bigint;

  /** Options that were accepted but not applied (logged by launch.ts). */
  warnings: string[];
};
