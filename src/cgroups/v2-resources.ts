// linux.resources → cgroup v2 files, as opencontainers/cgroups fs2/*.go writes them, plus the
// eBPF device filter. Values runc ignores on v2 (swappiness, disableOOMKiller, kernel memory,
// realtime, leafWeight, net_cls/net_prio) are ignored here too.
import * as fsp from 'node:fs/promises';
import { closeSync, constants as fsc } from 'node:fs';
import { errors, wrap } from '../errors/index';
import type { Sys } from '../native/index';
import { joinInside } from './common';
import { blkioWeightToIoWeight, numToStr, sharesToWeight, swapToV2 } from './convert';
import { BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI, BPF_PROG_TYPE_CGROUP_DEVICE, buildDeviceFilter, encodeInsns } from './device-filter';
import { normalizeDeviceRules } from './devices';
import { codeOf, fsError, parseKeyValues, parseUint, readOptional, readOptionalSync, setCgroupFile, writeCgroupFile } from './fsutil';
import { pidsValue, rdmaLine } from './v1-resources';
import type { LinuxResources } from './types';

/** fs2.CheckMemoryUsage: with checkBeforeUpdate, refuse a limit at or below memory.current. */
async function checkMemoryUsage(dir: string, m: NonNullable<LinuxResources['memory']>): Promise<void> {
  const limit = m.limit ?? 0;
  const swap = m.swap ?? 0;
  if (limit <= 0 && swap <= 0) return;
  const cur = await readOptional(dir, 'memory.current').catch(() => undefined);
  if (cur === undefined) return; // best effort, as runc
  const usage = parseUint(cur);
  if (swap > 0 && swap <= usage) throw errors.precondition(`rejecting memory+swap limit ${swap} <= usage ${usage}`);
  if (limit > 0 && limit <= usage) throw errors.precondition(`rejecting memory limit ${limit} <= usage ${usage}`);
}

/** fs2/memory.go setMemory: memory.swap.max (swap alone), memory.max, memory.low. */
async function setMemory(dir: string, m: NonNullable<LinuxResources['memory']>, check: boolean): Promise<void> {
  const limit = m.limit ?? 0;
  const swapIn = m.swap ?? 0;
  const reservation = m.reservation ?? 0;
  if (!limit && !swapIn && !reservation) return;
  if (check && m.checkBeforeUpdate) await checkMemoryUsage(dir, m);
  const swap = swapToV2(swapIn, limit);
  let swapStr = numToStr(swap);
  if (swapStr === '' && swap === 0 && swapIn > 0) swapStr = '0';
  if (swapStr !== '') {
    try {
      await writeCgroupFile(dir, 'memory.swap.max', swapStr);
    } catch (err) {
      // No swap accounting (no swap at all): "max" and "0" are what we already have.
      if (!(codeOf(err) === 'ENOENT' && (swapStr === 'max' || swapStr === '0'))) throw wrap(err, 'set memory.swap.max');
    }
  }
  const max = numToStr(limit);
  if (max) await setCgroupFile(dir, 'memory.max', max);
  const low = numToStr(reservation);
  if (low) await setCgroupFile(dir, 'memory.low', low);
}

/** fs2/cpu.go setCPU: cpu.idle, cpu.weight (from shares), cpu.max "quota period", cpu.max.burst. */
async function setCpu(dir: string, c: NonNullable<LinuxResources['cpu']>): Promise<void> {
  const weight = sharesToWeight(c.shares ?? 0);
  const quota = c.quota ?? 0;
  const period = c.period ?? 0;
  if (!weight && !quota && !period && c.idle === undefined && c.burst === undefined) return;
  if (c.idle !== undefined) await setCgroupFile(dir, 'cpu.idle', String(c.idle));
  if (weight) await setCgroupFile(dir, 'cpu.weight', String(weight));
  let burst = '';
  if (c.burst !== undefined) {
    burst = String(c.burst);
    try {
      await writeCgroupFile(dir, 'cpu.max.burst', burst);
      burst = '';
    } catch (err) {
      if (codeOf(err) !== 'EINVAL' || !quota) throw wrap(err, 'set cpu.max.burst');
    }
  }
  if (quota || period) {
    const value = `${quota > 0 ? quota : 'max'} ${period || 100000}`;
    await setCgroupFile(dir, 'cpu.max', value);
    if (burst) await setCgroupFile(dir, 'cpu.max.burst', burst);
  }
}

/**
 * fs2/io.go setIo: io.bfq.weight when BFQ is the scheduler (raw blkio weight), else io.weight
 * (converted); per-device weights only through io.bfq.weight; throttles as io.max lines.
 */
async function setIo(dir: string, b: NonNullable<LinuxResources['blockIO']>): Promise<void> {
  let bfq: fsp.FileHandle | undefined;
  try {
    if (b.weight || b.weightDevice?.length) {
      try {
        bfq = await fsp.open(`${dir}/io.bfq.weight`, fsc.O_RDWR);
      } catch (err) {
        if (codeOf(err) !== 'ENOENT') throw wrap(fsError('open', `${dir}/io.bfq.weight`, err), 'set io.bfq.weight');
      }
    }
    if (b.weight) {
      if (bfq) await bfq.write(String(b.weight), 0);
      else await setCgroupFile(dir, 'io.weight', String(blkioWeightToIoWeight(b.weight)));
    }
    if (bfq && b.weightDevice?.length) {
      // Per-device BFQ weights need a kernel whose io.bfq.weight reads "default N" (5.4+).
      const head = (await bfq.read(Buffer.alloc(32), 0, 32, 0)).buffer.toString().trim();
      if (!/^\d+$/.test(head)) {
        for (const wd of b.weightDevice) if (wd.weight) await bfq.write(`${wd.major}:${wd.minor} ${wd.weight}\n`, 0);
      }
    }
  } finally {
    await bfq?.close();
  }
  const throttles: [keyof typeof b, string][] = [
    ['throttleReadBpsDevice', 'rbps'],
    ['throttleWriteBpsDevice', 'wbps'],
    ['throttleReadIOPSDevice', 'riops'],
    ['throttleWriteIOPSDevice', 'wiops'],
  ];
  for (const [key, name] of throttles)
    for (const td of (b[key] as { major: number; minor: number; rate: number }[] | undefined) ?? [])
      await setCgroupFile(dir, 'io.max', `${td.major}:${td.minor} ${name}=${td.rate}`);
}

/**
 * Loads the device filter built from the rules and attaches it with BPF_F_ALLOW_MULTI, then
 * detaches the programs that were there before (runc's devices/v2.go + ebpf_linux.go), so during
 * the switch both apply and nothing is briefly allowed.
 */
export async function setDevicesV2(sys: Sys, dir: string, entries: NonNullable<LinuxResources['devices']>): Promise<void> {
  const insns = encodeInsns(buildDeviceFilter(normalizeDeviceRules(entries)));
  const dirFd = await fsp.open(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
  try {
    const before = sys.bpfProgQuery(dirFd.fd, BPF_CGROUP_DEVICE);
    const prog = sys.bpfProgLoad(BPF_PROG_TYPE_CGROUP_DEVICE, insns, 'Apache');
    try {
      sys.bpfProgAttach(dirFd.fd, prog, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI);
    } finally {
      // The attachment holds its own reference to the program.
      closeFd(prog);
    }
    for (const id of before) {
      const old = sys.bpfProgGetFdById(id);
      try {
        sys.bpfProgDetach(dirFd.fd, old, BPF_CGROUP_DEVICE);
      } finally {
        closeFd(old);
      }
    }
  } catch (err) {
    throw wrap(err, `set devices: ${dir}`);
  } finally {
    await dirFd.close();
  }
}

function closeFd(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    /* already closed */
  }
}

/**
 * fs2.setUnified, validated first: each key must be CONTROLLER.PARAMETER with no path separator,
 * and CONTROLLER must be enabled for this cgroup (listed in cgroup.controllers) or be "cgroup".
 * Each line of a value is written separately (cgroups.WriteFileByLine).
 */
async function setUnified(dir: string, unified: Record<string, string>): Promise<void> {
  const enabled = new Set(((await readOptional(dir, 'cgroup.controllers')) ?? '').trim().split(/\s+/));
  for (const [k, v] of Object.entries(unified)) {
    if (k.includes('/')) throw errors.invalid(`unified resource ${JSON.stringify(k)} must be a file name (no slashes)`);
    joinInside(dir, k);
    const dot = k.indexOf('.');
    if (dot <= 0) throw errors.invalid(`unified resource ${JSON.stringify(k)} must be in the form CONTROLLER.PARAMETER`);
    const ctrl = k.slice(0, dot);
    if (ctrl !== 'cgroup' && !enabled.has(ctrl))
      throw errors.invalid(`unified resource ${JSON.stringify(k)} can't be set: controller ${JSON.stringify(ctrl)} not available`);
    for (const line of v.split('\n')) {
      if (line === '') continue;
      try {
        await writeCgroupFile(dir, k, line);
      } catch (err) {
        throw wrap(err, `unable to set unified resource ${JSON.stringify(k)}`);
      }
    }
  }
}

/**
 * fs2 needAnyControllers: whether r asks for anything a controller enforces. The device rules do
 * not count (always present, and the eBPF filter is not a controller).
 */
export function needsControllers(r: LinuxResources): boolean {
  const set = (o: object | undefined) => o !== undefined && Object.values(o).some((v) => v !== undefined && v !== null && v !== 0 && v !== '' && !(Array.isArray(v) && v.length === 0));
  return (
    (r.pids?.limit !== undefined && r.pids.limit !== 0) ||
    set(r.memory) ||
    set(r.cpu) ||
    set(r.blockIO) ||
    (r.hugepageLimits ?? []).length > 0 ||
    Object.keys(r.rdma ?? {}).length > 0 ||
    Object.keys(r.unified ?? {}).length > 0
  );
}

/** Applies r to the unified directory in fs2.Manager.Set order. */
export async function setV2Resources(sys: Sys, dir: string, r: LinuxResources, opts: { devices: boolean; check: boolean; rootless: boolean }): Promise<void> {
  if (r.pids) await setCgroupFile(dir, 'pids.max', pidsValue(r.pids.limit));
  if (r.memory) await setMemory(dir, r.memory, opts.check);
  if (r.blockIO) await setIo(dir, r.blockIO);
  if (r.cpu) await setCpu(dir, r.cpu);
  if (opts.devices && r.devices) {
    try {
      await setDevicesV2(sys, dir, r.devices);
    } catch (err) {
      if (!opts.rootless) throw err;
    }
  }
  if (r.cpu?.cpus) await setCgroupFile(dir, 'cpuset.cpus', r.cpu.cpus);
  if (r.cpu?.mems) await setCgroupFile(dir, 'cpuset.mems', r.cpu.mems);
  let skipRsvd = false;
  for (const l of r.hugepageLimits ?? []) {
    const prefix = 'hugetlb.' + l.pageSize;
    joinInside(dir, prefix);
    await setCgroupFile(dir, `${prefix}.max`, String(l.limit));
    if (skipRsvd) continue;
    try {
      await writeCgroupFile(dir, `${prefix}.rsvd.max`, String(l.limit));
    } catch (err) {
      if (codeOf(err) === 'ENOENT') skipRsvd = true;
      else throw wrap(err, `set ${prefix}.rsvd.max`);
    }
  }
  for (const [dev, l] of Object.entries(r.rdma ?? {})) await setCgroupFile(dir, 'rdma.max', rdmaLine(dev, l));
  if (r.unified) await setUnified(dir, r.unified);
}

/** memory.events / hugetlb events style "key value" file → one key, 0 when absent. */
export async function eventCount(dir: string, file: string, key: string): Promise<number | undefined> {
  const text = await readOptional(dir, file);
  if (text === undefined) return undefined;
  return parseKeyValues(text)[key] ?? 0;
}

/** eventCount without the thread pool (an OOM watch's timer reads it). */
export function eventCountSync(dir: string, file: string, key: string): number | undefined {
  const text = readOptionalSync(dir, file);
  if (text === undefined) return undefined;
  return parseKeyValues(text)[key] ?? 0;
}

