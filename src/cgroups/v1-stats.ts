// Statistics of a v1 container in runc's types.Stats shape, read the way opencontainers/cgroups
// fs/*.go GetStats reads them and converted as runc's events.go convertLibcontainerStats does.
import { parseKeyValues, parseUint, readOptional } from './fsutil';
import type { BlkioEntry, MemoryEntry, Stats } from './types';

/** USER_HZ: cpuacct.stat counts ticks of 1/100 s on every Linux architecture we run on. */
const CLOCK_TICKS = 100;
const NS_PER_TICK = 1e9 / CLOCK_TICKS;

/** An empty Stats object; drivers fill in what their controllers report. */
export function emptyStats(): Stats {
  return {
    cpu: {},
    cpuset: {
      cpu_exclusive: 0,
      mem_hardwall: 0,
      mem_exclusive: 0,
      memory_migrate: 0,
      memory_spread_page: 0,
      memory_spread_slab: 0,
      memory_pressure: 0,
      sched_load_balance: 0,
      sched_relax_domain_level: 0,
    },
    memory: {},
    pids: {},
    blkio: {},
    hugetlb: {},
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** Drops zero/undefined optional fields as Go's omitempty does. */
export function omitZero<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === 0 || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out as T;
}

function numbers(text: string | undefined): number[] {
  return (text ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
}

/** "0-3,5" → [0,1,2,3,5] (fs/cpuset.go getCpusetStat). */
export function parseCpuList(text: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (text ?? '').trim().split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-');
    if (b === undefined) out.push(Number(a));
    else for (let i = Number(a); i <= Number(b); i++) out.push(i);
  }
  return out;
}

/** A MemoryEntry with runc's tags: limit and failcnt always, usage and max omitted when zero. */
export function memoryEntryOf(limit: number, usage: number, max: number, failcnt: number): MemoryEntry {
  return { limit, ...(usage ? { usage } : {}), ...(max ? { max } : {}), failcnt };
}

async function memoryEntry(dir: string, prefix: string): Promise<MemoryEntry | undefined> {
  const usage = await readOptional(dir, `${prefix}.usage_in_bytes`);
  if (usage === undefined) return undefined;
  return memoryEntryOf(
    parseUint((await readOptional(dir, `${prefix}.limit_in_bytes`)) ?? '0'),
    parseUint(usage),
    parseUint((await readOptional(dir, `${prefix}.max_usage_in_bytes`)) ?? '0'),
    parseUint((await readOptional(dir, `${prefix}.failcnt`)) ?? '0'),
  );
}

/** blkio "8:0 Read 123" lines; the "Total N" line has no device and is skipped as runc does. */
export function parseBlkioEntries(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 2 || !f[0]!.includes(':')) continue;
    const [maj, min] = f[0]!.split(':').map(Number);
    const e: BlkioEntry = f.length === 3 ? { major: maj, minor: min, op: f[1], value: Number(f[2]) } : { major: maj, minor: min, value: Number(f[1]) };
    out.push(omitZero(e));
  }
  return out;
}

export async function statsV1(dirs: Record<string, string>): Promise<Stats> {
  const s = emptyStats();
  const acct = dirs.cpuacct;
  if (acct) {
    const total = await readOptional(acct, 'cpuacct.usage');
    const stat = parseKeyValues((await readOptional(acct, 'cpuacct.stat')) ?? '');
    s.cpu.usage = omitZero({
      total: total === undefined ? 0 : parseUint(total),
      percpu: numbers(await readOptional(acct, 'cpuacct.usage_percpu')),
      percpu_kernel: numbers(await readOptional(acct, 'cpuacct.usage_percpu_sys')),
      percpu_user: numbers(await readOptional(acct, 'cpuacct.usage_percpu_user')),
      kernel: 0,
      user: 0,
    });
    s.cpu.usage.kernel = (stat.system ?? 0) * NS_PER_TICK;
    s.cpu.usage.user = (stat.user ?? 0) * NS_PER_TICK;
  }
  if (dirs.cpu) {
    const st = parseKeyValues((await readOptional(dirs.cpu, 'cpu.stat')) ?? '');
    const t = omitZero({ periods: st.nr_periods, throttledPeriods: st.nr_throttled, throttledTime: st.throttled_time });
    if (Object.keys(t).length) s.cpu.throttling = t;
  }
  if (dirs.cpuset) {
    const d = dirs.cpuset;
    const n = async (f: string) => parseUint((await readOptional(d, f)) ?? '0');
    const cpus = parseCpuList(await readOptional(d, 'cpuset.cpus'));
    const mems = parseCpuList(await readOptional(d, 'cpuset.mems'));
    s.cpuset = {
      ...(cpus.length ? { cpus } : {}),
      cpu_exclusive: await n('cpuset.cpu_exclusive'),
      ...(mems.length ? { mems } : {}),
      mem_hardwall: await n('cpuset.mem_hardwall'),
      mem_exclusive: await n('cpuset.mem_exclusive'),
      memory_migrate: await n('cpuset.memory_migrate'),
      memory_spread_page: await n('cpuset.memory_spread_page'),
      memory_spread_slab: await n('cpuset.memory_spread_slab'),
      memory_pressure: await n('cpuset.memory_pressure'),
      sched_load_balance: await n('cpuset.sched_load_balance'),
      sched_relax_domain_level: Number(((await readOptional(d, 'cpuset.sched_relax_domain_level')) ?? '0').trim()),
    };
  }
  if (dirs.memory) {
    const d = dirs.memory;
    const raw = parseKeyValues((await readOptional(d, 'memory.stat')) ?? '');
    const usage = await memoryEntry(d, 'memory');
    const swap = await memoryEntry(d, 'memory.memsw');
    const kernel = await memoryEntry(d, 'memory.kmem');
    const kernelTCP = await memoryEntry(d, 'memory.kmem.tcp');
    s.memory = omitZero({ cache: raw.cache ?? 0, usage, swap, kernel, kernelTCP, raw: Object.keys(raw).length ? raw : undefined });
  }
  if (dirs.pids) {
    const cur = await readOptional(dirs.pids, 'pids.current');
    const max = ((await readOptional(dirs.pids, 'pids.max')) ?? '').trim();
    s.pids = omitZero({ current: cur === undefined ? 0 : parseUint(cur), limit: max === 'max' || max === '' ? 0 : Number(max) });
  }
  if (dirs.blkio) {
    const d = dirs.blkio;
    // CFQ's recursive files when the scheduler provides them, else the throttle layer's (fs/blkio.go).
    let bytes = parseBlkioEntries(await readOptional(d, 'blkio.io_service_bytes_recursive'));
    let ios = parseBlkioEntries(await readOptional(d, 'blkio.io_serviced_recursive'));
    if (bytes.length === 0 && ios.length === 0) {
      bytes = parseBlkioEntries(await readOptional(d, 'blkio.throttle.io_service_bytes_recursive'));
      ios = parseBlkioEntries(await readOptional(d, 'blkio.throttle.io_serviced_recursive'));
    }
    s.blkio = omitZero({ ioServiceBytesRecursive: bytes, ioServicedRecursive: ios });
  }
  if (dirs.hugetlb) {
    const d = dirs.hugetlb;
    const { readdir } = await import('node:fs/promises');
    for (const f of await readdir(d)) {
      const m = /^hugetlb\.([^.]+)\.usage_in_bytes$/.exec(f);
      if (!m) continue;
      const size = m[1]!;
      s.hugetlb[size] = omitZero({
        usage: parseUint((await readOptional(d, f)) ?? '0'),
        max: parseUint((await readOptional(d, `hugetlb.${size}.max_usage_in_bytes`)) ?? '0'),
        failcnt: parseUint((await readOptional(d, `hugetlb.${size}.failcnt`)) ?? '0'),
      });
      s.hugetlb[size]!.failcnt ??= 0;
    }
  }
  return s;
}
