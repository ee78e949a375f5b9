// linux.resources → cgroup v1 files, written exactly as opencontainers/cgroups fs/*.go writes them
// (file names, value formats, ordering and EBUSY/EINVAL retries). No path resolution here.
import { errors, wrap } from '../errors/index';
import { joinInside } from './common';
import { normalizeDeviceRules, v1DeviceLine } from './devices';
import { codeOf, exists, parseUint, readCgroupFile, setCgroupFile, writeCgroupFile } from './fsutil';
import type { LinuxResources } from './types';
import * as path from 'node:path';

type Paths = Record<string, string>;

/** The directory of ctrl, or the runc error for a limit on a controller we have no cgroup for. */
function need(paths: Paths, ctrl: string): string {
  const p = paths[ctrl];
  if (!p) throw errors.precondition(`cannot set ${ctrl} limit: container could not join or create cgroup`);
  return p;
}

/** fs/memory.go setMemory: EBUSY means usage is above the new limit; say so with the numbers. */
async function setMemoryLimit(dir: string, val: number): Promise<void> {
  if (val === 0) return;
  try {
    await writeCgroupFile(dir, 'memory.limit_in_bytes', String(val));
  } catch (err) {
    if (codeOf(err) !== 'EBUSY') throw wrap(err, 'set memory.limit_in_bytes');
    const usage = parseUint(await readCgroupFile(dir, 'memory.usage_in_bytes'));
    const peak = parseUint(await readCgroupFile(dir, 'memory.max_usage_in_bytes'));
    throw errors.precondition(`unable to set memory limit to ${val} (current usage: ${usage}, peak usage: ${peak})`);
  }
}

async function setSwapLimit(dir: string, val: number): Promise<void> {
  if (val === 0) return;
  await setCgroupFile(dir, 'memory.memsw.limit_in_bytes', String(val));
}

/**
 * fs/memory.go: memory.limit_in_bytes must stay <= memory.memsw.limit_in_bytes at every step, so
 * when raising, swap goes first. kernel/kernelTCP are ignored with a warning by runc (kmem
 * accounting is gone from modern kernels); useHierarchy is ignored too (always on since 6.x).
 */
async function setMemory(dir: string, m: NonNullable<LinuxResources['memory']>): Promise<void> {
  const memory = m.limit ?? 0;
  let swap = m.swap ?? 0;
  if (memory === -1 && swap === 0 && (await exists(path.join(dir, 'memory.memsw.limit_in_bytes')))) swap = -1;
  let done = false;
  if (memory !== 0 && swap !== 0) {
    const cur = parseUint(await readCgroupFile(dir, 'memory.limit_in_bytes'));
    if (swap === -1 || cur < swap) {
      await setSwapLimit(dir, swap);
      await setMemoryLimit(dir, memory);
      done = true;
    }
  }
  if (!done) {
    await setMemoryLimit(dir, memory);
    await setSwapLimit(dir, swap);
  }
  if (m.reservation !== undefined && m.reservation !== 0) await setCgroupFile(dir, 'memory.soft_limit_in_bytes', String(m.reservation));
  if (m.disableOOMKiller) await setCgroupFile(dir, 'memory.oom_control', '1');
  if (m.swappiness !== undefined && m.swappiness !== -1) {
    if (m.swappiness > 100 || m.swappiness < 0)
      throw errors.invalid(`invalid memory swappiness value: ${m.swappiness} (valid range is 0-100)`);
    await setCgroupFile(dir, 'memory.swappiness', String(m.swappiness));
  }
}

/** fs/cpu.go SetRtSched: period and runtime depend on each other; retry the period after runtime. */
async function setRtSched(dir: string, c: NonNullable<LinuxResources['cpu']>): Promise<void> {
  let period = '';
  if (c.realtimePeriod) {
    period = String(c.realtimePeriod);
    try {
      await writeCgroupFile(dir, 'cpu.rt_period_us', period);
      period = '';
    } catch (err) {
      if (codeOf(err) !== 'EINVAL' || !c.realtimeRuntime) throw wrap(err, 'set cpu.rt_period_us');
    }
  }
  if (c.realtimeRuntime) {
    await setCgroupFile(dir, 'cpu.rt_runtime_us', String(c.realtimeRuntime));
    if (period) await setCgroupFile(dir, 'cpu.rt_period_us', period);
  }
}

/** fs/cpu.go Set: shares (checked by reading back), then period/burst/quota with EINVAL ordering. */
async function setCpu(dir: string, c: NonNullable<LinuxResources['cpu']>): Promise<void> {
  if (c.shares) {
    await setCgroupFile(dir, 'cpu.shares', String(c.shares));
    const read = parseUint(await readCgroupFile(dir, 'cpu.shares'));
    if (c.shares > read) throw errors.invalid(`the maximum allowed cpu-shares is ${read}`);
    if (c.shares < read) throw errors.invalid(`the minimum allowed cpu-shares is ${read}`);
  }
  let period = '';
  if (c.period) {
    period = String(c.period);
    try {
      await writeCgroupFile(dir, 'cpu.cfs_period_us', period);
      period = '';
    } catch (err) {
      if (codeOf(err) !== 'EINVAL' || !c.quota) throw wrap(err, 'set cpu.cfs_period_us');
    }
  }
  let burst = '';
  if (c.burst !== undefined) {
    burst = String(c.burst);
    try {
      await writeCgroupFile(dir, 'cpu.cfs_burst_us', burst);
      burst = '';
    } catch (err) {
      if (codeOf(err) === 'ENOENT') burst = '';
      else if (codeOf(err) !== 'EINVAL' || !c.quota) throw wrap(err, 'set cpu.cfs_burst_us');
    }
  }
  if (c.quota) {
    await setCgroupFile(dir, 'cpu.cfs_quota_us', String(c.quota));
    if (period) await setCgroupFile(dir, 'cpu.cfs_period_us', period);
    if (burst) await setCgroupFile(dir, 'cpu.cfs_burst_us', burst);
  }
  if (c.idle !== undefined) await setCgroupFile(dir, 'cpu.idle', String(c.idle));
  await setRtSched(dir, c);
}

/** fs/blkio.go: blkio.weight when present, else the BFQ files (blkio.bfq.weight). */
async function setBlkio(dir: string, b: NonNullable<LinuxResources['blockIO']>): Promise<void> {
  const plain = await exists(path.join(dir, 'blkio.weight'));
  const weightFile = plain ? 'blkio.weight' : 'blkio.bfq.weight';
  const weightDeviceFile = plain ? 'blkio.weight_device' : 'blkio.bfq.weight_device';
  if (b.weight) await setCgroupFile(dir, weightFile, String(b.weight));
  if (b.leafWeight) await setCgroupFile(dir, 'blkio.leaf_weight', String(b.leafWeight));
  for (const wd of b.weightDevice ?? []) {
    if (wd.weight) await setCgroupFile(dir, weightDeviceFile, `${wd.major}:${wd.minor} ${wd.weight}`);
    if (wd.leafWeight) await setCgroupFile(dir, 'blkio.leaf_weight_device', `${wd.major}:${wd.minor} ${wd.leafWeight}`);
  }
  const throttles: [keyof typeof b, string][] = [
    ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
    ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
    ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
    ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
  ];
  for (const [key, file] of throttles) {
    for (const td of (b[key] as { major: number; minor: number; rate: number }[] | undefined) ?? [])
      await setCgroupFile(dir, file, `${td.major}:${td.minor} ${td.rate}`);
  }
}

/** fs/hugetlb.go: limit_in_bytes, plus rsvd.limit_in_bytes when the kernel has it (5.7+). */
async function setHugetlb(dir: string, limits: NonNullable<LinuxResources['hugepageLimits']>): Promise<void> {
  let skipRsvd = false;
  for (const l of limits) {
    const prefix = 'hugetlb.' + l.pageSize;
    joinInside(dir, prefix);
    await setCgroupFile(dir, `${prefix}.limit_in_bytes`, String(l.limit));
    if (skipRsvd) continue;
    try {
      await writeCgroupFile(dir, `${prefix}.rsvd.limit_in_bytes`, String(l.limit));
    } catch (err) {
      if (codeOf(err) === 'ENOENT') skipRsvd = true;
      else throw wrap(err, `set ${prefix}.rsvd.limit_in_bytes`);
    }
  }
}

/** fscommon/rdma.go createCmdString: "<device> hca_handle=N hca_object=M". */
export function rdmaLine(device: string, l: { hcaHandles?: number; hcaObjects?: number }): string {
  let s = device;
  if (l.hcaHandles !== undefined) s += ` hca_handle=${l.hcaHandles}`;
  if (l.hcaObjects !== undefined) s += ` hca_object=${l.hcaObjects}`;
  return s;
}

/** fs/pids.go and fs2/pids.go: >0 is the limit, 0 is "1", negative is "max". */
export function pidsValue(limit: number): string {
  if (limit > 0) return String(limit);
  if (limit === 0) return '1';
  return 'max';
}

/**
 * v1 devices: deny everything, then write each rule in order to devices.allow or devices.deny
 * (the kernel applies them in sequence, so the last matching rule wins, as in the v2 filter).
 */
async function setDevices(dir: string, entries: NonNullable<LinuxResources['devices']>): Promise<void> {
  const rules = normalizeDeviceRules(entries);
  await setCgroupFile(dir, 'devices.deny', 'a');
  for (const r of rules) await setCgroupFile(dir, r.allow ? 'devices.allow' : 'devices.deny', v1DeviceLine(r));
}

/**
 * Applies r to the v1 hierarchies in runc's subsystem order (cpuset, devices, memory, cpu, pids,
 * blkio, hugetlb, net_cls, net_prio, rdma). `unified` is refused as runc's ErrV1NoUnified.
 */
export async function setV1Resources(paths: Paths, r: LinuxResources, opts: { devices: boolean; rootless: boolean }): Promise<void> {
  if (r.unified && Object.keys(r.unified).length > 0) throw errors.invalid('invalid configuration: cannot use unified on cgroup v1');
  const c = r.cpu;
  if (c?.cpus) await setCgroupFile(need(paths, 'cpuset'), 'cpuset.cpus', c.cpus);
  if (c?.mems) await setCgroupFile(need(paths, 'cpuset'), 'cpuset.mems', c.mems);
  if (opts.devices && r.devices) {
    try {
      await setDevices(need(paths, 'devices'), r.devices);
    } catch (err) {
      // runc ignores device cgroup errors for rootless containers: it cannot write them anyway.
      if (!opts.rootless) throw err;
    }
  }
  if (r.memory) await setMemory(need(paths, 'memory'), r.memory);
  if (c && (c.shares || c.period || c.quota || c.burst !== undefined || c.idle !== undefined || c.realtimePeriod || c.realtimeRuntime))
    await setCpu(need(paths, 'cpu'), c);
  if (r.pids) await setCgroupFile(need(paths, 'pids'), 'pids.max', pidsValue(r.pids.limit));
  if (r.blockIO) await setBlkio(need(paths, 'blkio'), r.blockIO);
  if (r.hugepageLimits?.length) await setHugetlb(need(paths, 'hugetlb'), r.hugepageLimits);
  if (r.network?.classID) await setCgroupFile(need(paths, 'net_cls'), 'net_cls.classid', String(r.network.classID));
  for (const p of r.network?.priorities ?? []) await setCgroupFile(need(paths, 'net_prio'), 'net_prio.ifpriomap', `${p.name} ${p.priority}`);
  for (const [dev, l] of Object.entries(r.rdma ?? {})) await setCgroupFile(need(paths, 'rdma'), 'rdma.max', rdmaLine(dev, l));
}
