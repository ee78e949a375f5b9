// The CgroupManager contract every driver (v1, v2) implements. Interface and option types only;
// the drivers live in v1.ts and v2.ts and the factory in index.ts.
import type { LinuxResources, Stats } from './types';

/** Stops an OOM watch. */
export type OomWatch = { close(): void };

/** One container's cgroup(s), resolved to absolute directories when the manager is constructed. */
export interface CgroupManager {
  /** Which driver this is: "v1" (one hierarchy per controller) or "v2" (unified). */
  readonly version: 'v1' | 'v2';
  /**
   * Creates the container's cgroup directory in every hierarchy (parents included), preparing
   * what joining needs (v1 cpuset cpus/mems copied from the parent; v2 controllers enabled in
   * each ancestor's cgroup.subtree_control). Idempotent.
   */
  create(): Promise<void>;
  /** Moves process pid (all its threads) into the cgroup in every hierarchy. */
  apply(pid: number): Promise<void>;
  /** Applies linux.resources at create time. Fields left undefined are not touched. */
  set(resources: LinuxResources): Promise<void>;
  /**
   * Applies new limits to a running container (the `update` verb). Like set, but honours
   * memory.checkBeforeUpdate (refuse a limit at or below current usage) and leaves devices alone
   * unless resources.devices is given.
   */
  update(resources: LinuxResources): Promise<void>;
  /** Freezes every process of the cgroup and waits until the kernel reports it frozen. */
  freeze(): Promise<void>;
  /** Thaws the cgroup and waits until the kernel reports it thawed. */
  thaw(): Promise<void>;
  /** Whether the cgroup is frozen (v1 freezer.state FROZEN, v2 cgroup.freeze 1). */
  isFrozen(): Promise<boolean>;
  /** Every pid in the cgroup and in nested cgroups below it, sorted ascending. */
  pids(): Promise<number[]>;
  /**
   * Sends signal to every process: SIGKILL through cgroup.kill on v2 when the kernel has it (5.14+);
   * otherwise freezes, signals each pid, and thaws, as runc's signalAllProcesses does.
   */
  killAll(signal: NodeJS.Signals | number): Promise<void>;
  /** Resource usage in the shape runc's `events --stats` prints as data. */
  stats(): Promise<Stats>;
  /**
   * How many processes the OOM killer has killed in this cgroup so far (v2 memory.events
   * oom_kill; v1 memory.oom_control oom_kill, kernel 4.13+). Undefined without a memory controller.
   */
  oomKillCount(): Promise<number | undefined>;
  /**
   * Calls onOom with the new total each time oomKillCount grows. Polls every intervalMs
   * (default 200 ms): v1's eventfd notification needs cgroup.event_control plus an eventfd
   * binding, and polling the counter reports the same kills. The watch does not keep Node alive.
   */
  watchOom(onOom: (count: number) => void, intervalMs?: number): OomWatch;
  /**
   * Removes the cgroup and every nested cgroup below it (made by the container), deepest first,
   * retrying EBUSY briefly. Kills nothing: the caller kills first. Missing directories are fine.
   */
  destroy(): Promise<void>;
  /** Controller name → absolute directory ("" is the unified hierarchy, v2's only key). */
  paths(): Record<string, string>;
  /** The unified (v2) directory, for clone3 CLONE_INTO_CGROUP; undefined on a v1-only host. */
  unifiedPath(): string | undefined;
}

/** What createCgroupManager needs; mirrors runc's --systemd-cgroup, rootless and linux.cgroupsPath. */
export type CgroupManagerOptions = {
  /** linux.cgroupsPath: absolute (under the cgroup root), relative (under our own cgroup) or empty. */
  cgroupsPath?: string;
  /** The container id: the default cgroup name when cgroupsPath is empty. */
  id: string;
  /** runc's --systemd-cgroup; not implemented yet (throws NotImplemented). */
  systemd?: boolean;
  /** Tolerate permission errors when creating/joining, as runc does for rootless containers. */
  rootless?: boolean;
  /** The cgroup mount root; default /sys/fs/cgroup. Tests pass a fixture directory. */
  root?: string;
  /** The proc mount; default /proc. Tests pass a fixture with self/mountinfo and self/cgroup. */
  proc?: string;
  /** Force a driver instead of detecting (tests). */
  mode?: 'v1' | 'hybrid' | 'v2';
};
