// Converts the cgroup layer's runc-shaped Stats into containerd's io.containerd.cgroups.v1.Metrics
// or v2.Metrics message (what the 1.6 runc shim returns from Stats). Pure mapping, no I/O.
import type { Stats } from '../cgroups/index';
import { toAny, type AnyMsg } from './messages';

type Entry = { major?: number; minor?: number; op?: string; value?: number };
const blk = (xs: Entry[] | undefined) => (xs ?? []).map((e) => ({ op: e.op ?? '', major: e.major ?? 0, minor: e.minor ?? 0, value: e.value ?? 0 }));
const mem = (e: { limit?: number; usage?: number; max?: number; failcnt?: number } | undefined) =>
  e ? { limit: e.limit ?? 0, usage: e.usage ?? 0, max: e.max ?? 0, failcnt: e.failcnt ?? 0 } : undefined;

/** cgroup v1 Metrics from Stats; raw memory.stat keys fill the MemoryStat counters. */
export function v1Metrics(s: Stats, oomKill?: number): object {
  const raw = s.memory.raw ?? {};
  const r = (k: string) => raw[k] ?? 0;
  return {
    hugetlb: Object.entries(s.hugetlb ?? {}).map(([pagesize, h]) => ({ pagesize, usage: h.usage ?? 0, max: h.max ?? 0, failcnt: h.failcnt ?? 0 })),
    pids: { current: s.pids.current ?? 0, limit: s.pids.limit ?? 0 },
    cpu: {
      usage: { total: s.cpu.usage?.total ?? 0, kernel: s.cpu.usage?.kernel ?? 0, user: s.cpu.usage?.user ?? 0, perCpu: s.cpu.usage?.percpu ?? [] },
      throttling: { periods: s.cpu.throttling?.periods ?? 0, throttledPeriods: s.cpu.throttling?.throttledPeriods ?? 0, throttledTime: s.cpu.throttling?.throttledTime ?? 0 },
    },
    memory: {
      cache: s.memory.cache ?? r('cache'),
      rss: r('rss'),
      rssHuge: r('rss_huge'),
      mappedFile: r('mapped_file'),
      dirty: r('dirty'),
      writeback: r('writeback'),
      pgPgIn: r('pgpgin'),
      pgPgOut: r('pgpgout'),
      pgFault: r('pgfault'),
      pgMajFault: r('pgmajfault'),
      inactiveAnon: r('inactive_anon'),
      activeAnon: r('active_anon'),
      inactiveFile: r('inactive_file'),
      activeFile: r('active_file'),
      unevictable: r('unevictable'),
      hierarchicalMemoryLimit: r('hierarchical_memory_limit'),
      hierarchicalSwapLimit: r('hierarchical_memsw_limit'),
      totalCache: r('total_cache'),
      totalRss: r('total_rss'),
      totalRssHuge: r('total_rss_huge'),
      totalMappedFile: r('total_mapped_file'),
      totalDirty: r('total_dirty'),
      totalWriteback: r('total_writeback'),
      totalPgPgIn: r('total_pgpgin'),
      totalPgPgOut: r('total_pgpgout'),
      totalPgFault: r('total_pgfault'),
      totalPgMajFault: r('total_pgmajfault'),
      totalInactiveAnon: r('total_inactive_anon'),
      totalActiveAnon: r('total_active_anon'),
      totalInactiveFile: r('total_inactive_file'),
      totalActiveFile: r('total_active_file'),
      totalUnevictable: r('total_unevictable'),
      usage: mem(s.memory.usage),
      swap: mem(s.memory.swap),
      kernel: mem(s.memory.kernel),
      kernelTcp: mem(s.memory.kernelTCP),
    },
    blkio: {
      ioServiceBytesRecursive: blk(s.blkio.ioServiceBytesRecursive),
      ioServicedRecursive: blk(s.blkio.ioServicedRecursive),
      ioQueuedRecursive: blk(s.blkio.ioQueueRecursive),
      ioServiceTimeRecursive: blk(s.blkio.ioServiceTimeRecursive),
      ioWaitTimeRecursive: blk(s.blkio.ioWaitTimeRecursive),
      ioMergedRecursive: blk(s.blkio.ioMergedRecursive),
      ioTimeRecursive: blk(s.blkio.ioTimeRecursive),
      sectorsRecursive: blk(s.blkio.sectorsRecursive),
    },
    memoryOomControl: oomKill === undefined ? undefined : { oomKill },
  };
}

/** cgroup v2 Metrics from Stats (runc's v2 Stats: cpu in ns, memory.raw holds memory.stat). */
export function v2Metrics(s: Stats, oomKill?: number): object {
  const raw = s.memory.raw ?? {};
  const r = (k: string) => raw[k] ?? 0;
  const us = (ns: number | undefined) => Math.floor((ns ?? 0) / 1000);
  return {
    pids: { current: s.pids.current ?? 0, limit: s.pids.limit ?? 0 },
    cpu: {
      usageUsec: us(s.cpu.usage?.total),
      userUsec: us(s.cpu.usage?.user),
      systemUsec: us(s.cpu.usage?.kernel),
      nrPeriods: s.cpu.throttling?.periods ?? 0,
      nrThrottled: s.cpu.throttling?.throttledPeriods ?? 0,
      throttledUsec: us(s.cpu.throttling?.throttledTime),
    },
    memory: {
      anon: r('anon'),
      file: r('file'),
      kernelStack: r('kernel_stack'),
      slab: r('slab'),
      sock: r('sock'),
      shmem: r('shmem'),
      fileMapped: r('file_mapped'),
      fileDirty: r('file_dirty'),
      fileWriteback: r('file_writeback'),
      anonThp: r('anon_thp'),
      inactiveAnon: r('inactive_anon'),
      activeAnon: r('active_anon'),
      inactiveFile: r('inactive_file'),
      activeFile: r('active_file'),
      unevictable: r('unevictable'),
      slabReclaimable: r('slab_reclaimable'),
      slabUnreclaimable: r('slab_unreclaimable'),
      pgfault: r('pgfault'),
      pgmajfault: r('pgmajfault'),
      usage: s.memory.usage?.usage ?? 0,
      usageLimit: s.memory.usage?.limit ?? 0,
      swapUsage: s.memory.swap?.usage ?? 0,
      swapLimit: s.memory.swap?.limit ?? 0,
    },
    io: {
      usage: ioRows(s),
    },
    hugetlb: Object.entries(s.hugetlb ?? {}).map(([pagesize, h]) => ({ pagesize, current: h.usage ?? 0, max: h.max ?? 0 })),
    memoryEvents: oomKill === undefined ? undefined : { oomKill },
  };
}

/** v2 io rows: runc folds io.stat into ioServiceBytesRecursive/ioServicedRecursive with Read/Write ops. */
function ioRows(s: Stats): object[] {
  const rows = new Map<string, { major: number; minor: number; rbytes: number; wbytes: number; rios: number; wios: number }>();
  const row = (e: Entry) => {
    const k = `${e.major ?? 0}:${e.minor ?? 0}`;
    let x = rows.get(k);
    if (!x) rows.set(k, (x = { major: e.major ?? 0, minor: e.minor ?? 0, rbytes: 0, wbytes: 0, rios: 0, wios: 0 }));
    return x;
  };
  for (const e of s.blkio.ioServiceBytesRecursive ?? []) {
    if (/^read$/i.test(e.op ?? '')) row(e).rbytes = e.value ?? 0;
    if (/^write$/i.test(e.op ?? '')) row(e).wbytes = e.value ?? 0;
  }
  for (const e of s.blkio.ioServicedRecursive ?? []) {
    if (/^read$/i.test(e.op ?? '')) row(e).rios = e.value ?? 0;
    if (/^write$/i.test(e.op ?? '')) row(e).wios = e.value ?? 0;
  }
  return [...rows.values()];
}

/** The Stats response's Any for this cgroup version. */
export function metricsAny(version: 'v1' | 'v2', s: Stats, oomKill?: number): AnyMsg {
  return version === 'v1' ? toAny('io.containerd.cgroups.v1.Metrics', v1Metrics(s, oomKill)) : toAny('io.containerd.cgroups.v2.Metrics', v2Metrics(s, oomKill));
}
