// cgroup v1 driver: one directory per mounted hierarchy (plus name=systemd and, on hybrid hosts,
// the unified mount as join-only), resolved with runc's fs/paths.go rules. Resource writes are in
// v1-resources.ts and statistics in v1-stats.ts; this file owns layout, joining and freezing.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { RuntimeError, errors, wrap } from '../errors/index';
import { pidsBelow, pollOom, signalEveryPid, signalNumber } from './common';
import { cleanCgroupPath, innerCgroupPath, parseProcCgroup, parseV1Hierarchies, readProc } from './detect';
import { codeOf, fsError, parseKeyValues, readCgroupFile, readOptional, readOptionalSync, removeCgroupTree, setCgroupFile, sleep, writeCgroupProc } from './fsutil';
import type { CgroupManager, CgroupManagerOptions, OomWatch } from './manager';
import { setV1Resources } from './v1-resources';
import { statsV1 } from './v1-stats';
import type { LinuxResources, Stats } from './types';

/** runc's fs subsystem order; name=systemd and misc are joined but never limited. */
/** statfs(2) f_type of a cgroup v1 hierarchy (linux/magic.h). */
const CGROUP_SUPER_MAGIC = 0x27e0eb;
const SUBSYSTEMS = ['cpuset', 'devices', 'memory', 'cpu', 'cpuacct', 'pids', 'blkio', 'hugetlb', 'net_cls', 'net_prio', 'perf_event', 'freezer', 'rdma', 'name=systemd', 'misc'];

/**
 * Resolves every hierarchy's directory as runc's fs.subsysPath: an absolute inner path lives at
 * root/<mount dir name>/inner; a relative one under our own cgroup in that hierarchy.
 */
export async function resolveV1Paths(opts: CgroupManagerOptions, hybrid: boolean): Promise<Record<string, string>> {
  const root = opts.root ?? '/sys/fs/cgroup';
  const proc = opts.proc ?? '/proc';
  const inner = innerCgroupPath(opts.cgroupsPath, opts.id);
  const hierarchies = parseV1Hierarchies(await readProc(path.join(proc, 'self/mountinfo')));
  const own = path.isAbsolute(inner) ? new Map<string, string>() : parseProcCgroup(await readProc(path.join(proc, 'self/cgroup')));
  const paths: Record<string, string> = {};
  for (const sub of SUBSYSTEMS) {
    const h = hierarchies.find((x) => x.subsystems.includes(sub));
    if (!h) continue;
    if (path.isAbsolute(inner)) {
      paths[sub] = path.join(root, path.basename(h.mountPoint), inner);
    } else {
      const mine = own.get(sub);
      if (mine === undefined) throw errors.notFound(`cgroup: own cgroup of ${sub} not found in ${proc}/self/cgroup`);
      paths[sub] = path.join(h.mountPoint, path.relative(h.root, mine), inner);
    }
  }
  if (hybrid) {
    const unified = path.join(root, 'unified');
    if (path.isAbsolute(inner)) paths[''] = path.join(unified, inner);
    else paths[''] = path.join(unified, own.get('') ?? '/', inner);
  }
  if (!paths.devices && !opts.rootless) throw errors.notFound('cgroup: devices hierarchy not mounted');
  return paths;
}

export class V1Manager implements CgroupManager {
  readonly version = 'v1' as const;
  private readonly dirs: Record<string, string>;
  private readonly rootless: boolean;

  /** dirs: controller → directory (see resolveV1Paths); a fixture passes its own. */
  constructor(dirs: Record<string, string>, opts: { rootless?: boolean } = {}) {
    this.dirs = { ...dirs };
    this.rootless = opts.rootless ?? false;
  }

  /** Resolves paths from the host (or fixture) mountinfo and /proc/self/cgroup. */
  static async open(opts: CgroupManagerOptions, hybrid: boolean): Promise<V1Manager> {
    if (opts.cgroupsPath && cleanCgroupPath(opts.cgroupsPath) === '/') throw errors.invalid('cgroupsPath must not be the cgroup root');
    return new V1Manager(await resolveV1Paths(opts, hybrid), { rootless: opts.rootless ?? false });
  }

  paths(): Record<string, string> {
    return { ...this.dirs };
  }

  unifiedPath(): string | undefined {
    return this.dirs[''];
  }

  /**
   * The hierarchies are independent directories, so they are made concurrently (a dozen chains of
   * awaits one after another were ~5-10 ms of every create). All of them settle before the first
   * error (in hierarchy order) is thrown, so a rollback never races a mkdir still in flight.
   */
  async create(): Promise<void> {
    const entries = Object.entries(this.dirs);
    const results = await Promise.allSettled(
      entries.map(([sub, dir]) => (sub === 'cpuset' ? this.createCpuset(dir) : fsp.mkdir(dir, { recursive: true, mode: 0o755 }))),
    );
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      const [sub, dir] = entries[i]!;
      const code = codeOf(r.reason);
      if (this.rootless && (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')) {
        delete this.dirs[sub];
        return;
      }
      throw wrap(r.reason, `create cgroup ${dir}`);
    });
  }

  /**
   * fs/cpuset.go cpusetEnsureParent: a new cpuset cgroup starts with empty cpus and mems, and no
   * task can join it until they are filled, so copy them down from the parent at each new level.
   */
  private async createCpuset(dir: string): Promise<void> {
    const parent = path.dirname(dir);
    // Every level up to the hierarchy's root, existing ones included: a parent made by someone else
    // (a pod cgroup) may still have empty cpus and mems, and then nothing can join below it.
    if (parent !== dir && (await isCgroupfsOrMissing(parent))) await this.createCpuset(parent);
    try {
      await fsp.mkdir(dir, { mode: 0o755 });
    } catch (err) {
      if (codeOf(err) !== 'EEXIST') throw fsError('mkdir', dir, err);
    }
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      const cur = (await readOptional(dir, f)) ?? '';
      if (cur.trim() !== '') continue;
      const up = (await readOptional(parent, f)) ?? '';
      if (up.trim() !== '') await setCgroupFile(dir, f, up.trim());
    }
  }

  async apply(pid: number): Promise<void> {
    for (const [sub, dir] of Object.entries(this.dirs)) {
      try {
        await writeCgroupProc(dir, pid);
      } catch (err) {
        const code = codeOf((err as { cause?: unknown }).cause ?? err);
        if (this.rootless && (code === 'EACCES' || code === 'EPERM')) {
          delete this.dirs[sub];
          continue;
        }
        throw err;
      }
    }
  }

  async set(resources: LinuxResources): Promise<void> {
    await setV1Resources(this.dirs, resources, { devices: true, rootless: this.rootless });
  }

  /** v1 has no checkBeforeUpdate: the kernel itself refuses a limit below usage with EBUSY. */
  async update(resources: LinuxResources): Promise<void> {
    await setV1Resources(this.dirs, resources, { devices: resources.devices !== undefined, rootless: this.rootless });
  }

  private freezerDir(): string {
    const d = this.dirs.freezer;
    if (!d) throw errors.precondition('cannot toggle freezer: cgroups not configured for container');
    return d;
  }

  /**
   * fs/freezer.go: write FROZEN and poll freezer.state until the kernel leaves FREEZING. A task
   * stuck in vfork can keep a cgroup FREEZING forever, so thaw and retry now and then as runc does.
   */
  async freeze(): Promise<void> {
    const dir = this.freezerDir();
    for (let i = 0; i < 1000; i++) {
      if (i % 50 === 49) {
        await setCgroupFile(dir, 'freezer.state', 'THAWED');
        await sleep(10);
      }
      await setCgroupFile(dir, 'freezer.state', 'FROZEN');
      const state = (await readCgroupFile(dir, 'freezer.state')).trim();
      if (state === 'FROZEN') return;
      await sleep(10);
    }
    await setCgroupFile(dir, 'freezer.state', 'THAWED');
    throw new RuntimeError('DeadlineExceeded', `freeze ${dir}: still FREEZING`);
  }

  async thaw(): Promise<void> {
    const dir = this.freezerDir();
    for (let i = 0; i < 1000; i++) {
      await setCgroupFile(dir, 'freezer.state', 'THAWED');
      if ((await readCgroupFile(dir, 'freezer.state')).trim() === 'THAWED') return;
      await sleep(10);
    }
    throw errors.internal(`thaw ${dir}: not THAWED`);
  }

  async isFrozen(): Promise<boolean> {
    const d = this.dirs.freezer;
    if (!d) return false;
    const s = await readOptional(d, 'freezer.state');
    return s?.trim() === 'FROZEN';
  }

  /** runc reads pids from the devices hierarchy; fall back to any hierarchy we have. */
  async pids(): Promise<number[]> {
    const dir = this.dirs.devices ?? this.dirs.freezer ?? this.dirs.pids ?? Object.values(this.dirs)[0];
    return dir ? pidsBelow(dir) : [];
  }

  async killAll(signal: NodeJS.Signals | number): Promise<void> {
    await signalEveryPid(this, signalNumber(signal), this.dirs.freezer !== undefined);
  }

  async stats(): Promise<Stats> {
    return statsV1(this.dirs);
  }

  async oomKillCount(): Promise<number | undefined> {
    return this.oomKillCountSync();
  }

  /** memory.oom_control's oom_kill (one small in-memory file: read without the thread pool). */
  private oomKillCountSync(): number | undefined {
    const d = this.dirs.memory;
    if (!d) return undefined;
    const text = readOptionalSync(d, 'memory.oom_control');
    if (text === undefined) return undefined;
    return parseKeyValues(text).oom_kill ?? 0;
  }

  watchOom(onOom: (count: number) => void, intervalMs?: number): OomWatch {
    return pollOom(() => this.oomKillCountSync(), onOom, intervalMs);
  }

  async destroy(): Promise<void> {
    const seen = new Set<string>();
    for (const dir of Object.values(this.dirs)) {
      if (seen.has(dir)) continue;
      seen.add(dir);
      await removeCgroupTree(dir);
    }
  }
}

/** Whether dir is on a cgroup v1 filesystem, or does not exist yet (it will be made there). */
async function isCgroupfsOrMissing(dir: string): Promise<boolean> {
  try {
    return (await fsp.statfs(dir)).type === CGROUP_SUPER_MAGIC;
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return true;
    throw fsError('statfs', dir, err);
  }
}
