// cgroup v2 driver: one unified directory, created with its ancestors' controllers enabled as
// fs2/create.go does; freezing via cgroup.freeze, killing via cgroup.kill, stats from *.stat files.
// Resource writes live in v2-resources.ts.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { RuntimeError, errors, wrap } from '../errors/index';
import { realSys, type Sys } from '../native/index';
import { pidsBelow, pollOom, signalEveryPid, signalNumber } from './common';
import { cleanCgroupPath, innerCgroupPath, parseProcCgroup, readProc } from './detect';
import { codeOf, exists, fsError, parseKeyValues, parseUint, readCgroupFile, readOptional, removeCgroupTree, setCgroupFile, sleep, writeCgroupFile, writeCgroupProc } from './fsutil';
import type { CgroupManager, CgroupManagerOptions, OomWatch } from './manager';
import { eventCount, eventCountSync, needsControllers, setV2Resources } from './v2-resources';
import { emptyStats, memoryEntryOf, omitZero, parseCpuList } from './v1-stats';
import type { BlkioEntry, LinuxResources, Stats } from './types';

/**
 * fs2/defaultpath.go: an absolute inner path is under the root; a relative one under the parent of
 * our own cgroup (our own usually has processes, so controllers cannot be enabled below it).
 */
export async function resolveV2Path(opts: CgroupManagerOptions): Promise<string> {
  const root = opts.root ?? '/sys/fs/cgroup';
  const inner = innerCgroupPath(opts.cgroupsPath, opts.id);
  if (path.isAbsolute(inner)) return path.join(root, inner);
  const own = parseProcCgroup(await readProc(path.join(opts.proc ?? '/proc', 'self/cgroup'))).get('');
  if (own === undefined) throw errors.notFound('cgroup: unified path not found in /proc/self/cgroup');
  return path.join(root, path.posix.dirname(own), inner);
}

export class V2Manager implements CgroupManager {
  readonly version = 'v2' as const;
  private readonly dir: string;
  private readonly root: string;
  private readonly sys: Sys;
  private readonly rootless: boolean;
  /**
   * Rootless only: why create could not make the cgroup (mkdir refused). The container then runs
   * without one, as runc's fs2 Apply does, unless a limit needs it (set throws).
   */
  private refused: Error | undefined;

  /** dir: the container's cgroup; root: the cgroup2 mount (controllers are enabled from there down). */
  constructor(dir: string, opts: { root?: string; sys?: Sys; rootless?: boolean } = {}) {
    this.dir = dir;
    this.root = opts.root ?? '/sys/fs/cgroup';
    this.sys = opts.sys ?? realSys;
    this.rootless = opts.rootless ?? false;
    if (path.relative(this.root, dir).startsWith('..')) throw errors.invalid(`cgroup ${dir} is not under ${this.root}`);
  }

  static async open(opts: CgroupManagerOptions, sys?: Sys): Promise<V2Manager> {
    if (opts.cgroupsPath && cleanCgroupPath(opts.cgroupsPath) === '/') throw errors.invalid('cgroupsPath must not be the cgroup root');
    return new V2Manager(await resolveV2Path(opts), { root: opts.root ?? '/sys/fs/cgroup', rootless: opts.rootless ?? false, ...(sys ? { sys } : {}) });
  }

  paths(): Record<string, string> {
    return this.refused ? {} : { '': this.dir };
  }

  unifiedPath(): string {
    return this.dir;
  }

  /**
   * fs2/create.go CreateCgroupPath: walk from the root, mkdir each level, and in every ancestor
   * write all of its cgroup.controllers to cgroup.subtree_control (one by one if the batch fails,
   * ignoring the ones the kernel refuses, as runc does).
   */
  async create(): Promise<void> {
    const rel = path.relative(this.root, this.dir);
    const parts = rel === '' ? [] : rel.split('/');
    let cur = this.root;
    for (let i = 0; i <= parts.length; i++) {
      if (i > 0) {
        cur = path.join(cur, parts[i - 1]!);
        try {
          await fsp.mkdir(cur, { mode: 0o755 });
        } catch (err) {
          if (codeOf(err) !== 'EEXIST') {
            if (this.rootless && (codeOf(err) === 'EACCES' || codeOf(err) === 'EPERM')) {
              this.refused = fsError('mkdir', cur, err);
              return;
            }
            throw wrap(fsError('mkdir', cur, err), 'create cgroup');
          }
        }
      }
      if (i === parts.length) break;
      const ctrls = ((await readOptional(cur, 'cgroup.controllers')) ?? '').trim().split(/\s+/).filter(Boolean);
      if (ctrls.length === 0) continue;
      try {
        await writeCgroupFile(cur, 'cgroup.subtree_control', ctrls.map((c) => '+' + c).join(' '));
      } catch {
        for (const c of ctrls) await writeCgroupFile(cur, 'cgroup.subtree_control', '+' + c).catch(() => undefined);
      }
    }
  }

  async apply(pid: number): Promise<void> {
    if (this.refused) return;
    try {
      await writeCgroupProc(this.dir, pid);
    } catch (err) {
      const code = codeOf((err as { cause?: unknown }).cause ?? err);
      if (this.rootless && (code === 'EACCES' || code === 'EPERM')) return;
      throw err;
    }
  }

  async set(resources: LinuxResources): Promise<void> {
    if (this.refused) {
      // fs2.Manager.Apply's wording (runc): a limit without a cgroup to hold it is an error.
      if (needsControllers(resources)) throw wrap(this.refused, 'rootless needs no limits + no cgrouppath when no permission is granted for cgroups');
      return;
    }
    await setV2Resources(this.sys, this.dir, resources, { devices: true, check: false, rootless: this.rootless });
  }

  async update(resources: LinuxResources): Promise<void> {
    await setV2Resources(this.sys, this.dir, resources, { devices: resources.devices !== undefined, check: true, rootless: this.rootless });
  }

  /** fs2/freezer.go: write cgroup.freeze, then wait for cgroup.events "frozen" to agree. */
  private async setFrozen(frozen: boolean): Promise<void> {
    if (!(await exists(path.join(this.dir, 'cgroup.freeze')))) {
      throw errors.notImplemented('freezer not supported: cgroup.freeze missing (kernel < 5.2)');
    }
    await setCgroupFile(this.dir, 'cgroup.freeze', frozen ? '1' : '0');
    for (let i = 0; i < 1000; i++) {
      const ev = parseKeyValues(await readCgroupFile(this.dir, 'cgroup.events'));
      if ((ev.frozen === 1) === frozen) return;
      await sleep(10);
    }
    throw new RuntimeError('DeadlineExceeded', `${frozen ? 'freeze' : 'thaw'} ${this.dir}: cgroup.events never reported frozen ${frozen ? 1 : 0}`);
  }

  freeze(): Promise<void> {
    return this.setFrozen(true);
  }

  thaw(): Promise<void> {
    return this.setFrozen(false);
  }

  async isFrozen(): Promise<boolean> {
    return ((await readOptional(this.dir, 'cgroup.freeze')) ?? '0').trim() === '1';
  }

  pids(): Promise<number[]> {
    return pidsBelow(this.dir);
  }

  /** cgroup.kill (5.14+) kills the whole subtree atomically, but only with SIGKILL. */
  async killAll(signal: NodeJS.Signals | number): Promise<void> {
    const sig = signalNumber(signal);
    if (sig === 9 && (await exists(path.join(this.dir, 'cgroup.kill')))) {
      await setCgroupFile(this.dir, 'cgroup.kill', '1');
      return;
    }
    await signalEveryPid(this, sig, await exists(path.join(this.dir, 'cgroup.freeze')));
  }

  async stats(): Promise<Stats> {
    return statsV2(this.dir);
  }

  async oomKillCount(): Promise<number | undefined> {
    return eventCountSync(this.dir, 'memory.events', 'oom_kill');
  }

  watchOom(onOom: (count: number) => void, intervalMs?: number): OomWatch {
    return pollOom(() => eventCountSync(this.dir, 'memory.events', 'oom_kill'), onOom, intervalMs);
  }

  async destroy(): Promise<void> {
    if (this.refused) return; // nothing was made
    await removeCgroupTree(this.dir);
  }
}

/** fs2 io.stat "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" → runc's blkio entries. */
export function parseIoStat(text: string): { bytes: BlkioEntry[]; ios: BlkioEntry[] } {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  const names: Record<string, [BlkioEntry[], string]> = {
    rbytes: [bytes, 'Read'],
    wbytes: [bytes, 'Write'],
    rios: [ios, 'Read'],
    wios: [ios, 'Write'],
  };
  for (const line of text.split('\n')) {
    const [dev, ...kvs] = line.trim().split(/\s+/);
    if (!dev || !dev.includes(':')) continue;
    const [major, minor] = dev.split(':').map(Number);
    for (const kv of kvs) {
      const [k, v] = kv.split('=');
      const target = names[k ?? ''];
      if (target) target[0].push(omitZero({ major, minor, op: target[1], value: Number(v) }));
    }
  }
  return { bytes, ios };
}

/** fs2.Manager.GetStats in runc's types.Stats shape (cpu.stat is in µs; runc reports ns). */
export async function statsV2(dir: string): Promise<Stats> {
  const s = emptyStats();
  const cpu = await readOptional(dir, 'cpu.stat');
  if (cpu !== undefined) {
    const st = parseKeyValues(cpu);
    s.cpu.usage = { ...omitZero({ total: (st.usage_usec ?? 0) * 1000 }), kernel: (st.system_usec ?? 0) * 1000, user: (st.user_usec ?? 0) * 1000 };
    const t = omitZero({ periods: st.nr_periods, throttledPeriods: st.nr_throttled, throttledTime: (st.throttled_usec ?? 0) * 1000 });
    if (Object.keys(t).length) s.cpu.throttling = t;
  }
  const cur = await readOptional(dir, 'memory.current');
  if (cur !== undefined) {
    const raw = parseKeyValues((await readOptional(dir, 'memory.stat')) ?? '');
    const limit = parseUint((await readOptional(dir, 'memory.max')) ?? 'max');
    const peak = parseUint((await readOptional(dir, 'memory.peak')) ?? '0');
    const events = parseKeyValues((await readOptional(dir, 'memory.events')) ?? '');
    const usage = memoryEntryOf(limit, parseUint(cur), peak, events.max ?? 0);
    const swapCur = await readOptional(dir, 'memory.swap.current');
    let swap;
    if (swapCur !== undefined) {
      // runc reports memory+swap here, like v1's memsw: usage and limit include memory's.
      const swapMax = parseUint((await readOptional(dir, 'memory.swap.max')) ?? 'max');
      const swapLimit = swapMax === Number.MAX_SAFE_INTEGER || limit === Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : swapMax + limit;
      swap = memoryEntryOf(swapLimit, parseUint(swapCur) + parseUint(cur), 0, 0);
    }
    s.memory = omitZero({ cache: raw.file ?? 0, usage, swap, raw: Object.keys(raw).length ? raw : undefined });
  }
  const pids = await readOptional(dir, 'pids.current');
  if (pids !== undefined) {
    const max = ((await readOptional(dir, 'pids.max')) ?? 'max').trim();
    s.pids = omitZero({ current: parseUint(pids), limit: max === 'max' ? 0 : Number(max) });
  }
  const io = await readOptional(dir, 'io.stat');
  if (io !== undefined) {
    const { bytes, ios } = parseIoStat(io);
    s.blkio = omitZero({ ioServiceBytesRecursive: bytes, ioServicedRecursive: ios });
  }
  for (const f of await fsp.readdir(dir).catch(() => [] as string[])) {
    const m = /^hugetlb\.([^.]+)\.current$/.exec(f);
    if (!m) continue;
    const size = m[1]!;
    const usage = parseUint((await readOptional(dir, f)) ?? '0');
    const failcnt = (await eventCount(dir, `hugetlb.${size}.events`, 'max')) ?? 0;
    s.hugetlb[size] = { ...(usage ? { usage } : {}), failcnt };
  }
  const cpus = await readOptional(dir, 'cpuset.cpus.effective');
  if (cpus !== undefined) {
    const c = parseCpuList(cpus);
    const mems = parseCpuList(await readOptional(dir, 'cpuset.mems.effective'));
    s.cpuset = { ...s.cpuset, ...(c.length ? { cpus: c } : {}), ...(mems.length ? { mems } : {}) };
  }
  return s;
}
