// docker stats: the container's cgroup read directly (src/cgroups) and turned into Docker's stats
// JSON (cpu/precpu, memory with its raw counters, blkio, pids, network from /proc/<pid>/net/dev).
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import { createCgroupManager, type CgroupManager, type Stats } from '../../cgroups/index';
import type { ContainerRecord } from './types';

export type DockerStats = Record<string, unknown>;

/** Host CPU time in nanoseconds (the sum of /proc/stat's cpu line, USER_HZ = 100). */
async function systemCpuNs(): Promise<number> {
  const text = await fs.readFile('/proc/stat', 'utf8');
  const f = text.split('\n')[0]!.trim().split(/\s+/).slice(1, 8).map(Number);
  return f.reduce((a, b) => a + b, 0) * 1e7;
}

async function netStats(pid: number): Promise<Record<string, Record<string, number>> | undefined> {
  if (!pid) return undefined;
  let text: string;
  try {
    text = await fs.readFile(`/proc/${pid}/net/dev`, 'utf8');
  } catch {
    return undefined;
  }
  const out: Record<string, Record<string, number>> = {};
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const v = m[2]!.trim().split(/\s+/).map(Number);
    out[m[1]!] = { rx_bytes: v[0]!, rx_packets: v[1]!, rx_errors: v[2]!, rx_dropped: v[3]!, tx_bytes: v[8]!, tx_packets: v[9]!, tx_errors: v[10]!, tx_dropped: v[11]! };
  }
  return Object.keys(out).length ? out : undefined;
}

export class StatsReader {
  private mgr: CgroupManager | undefined;
  private prev: { cpu: Record<string, unknown>; read: string } | undefined;

  constructor(private readonly rec: ContainerRecord, private readonly cgroupsPath: string) {}

  async sample(): Promise<DockerStats> {
    const read = new Date().toISOString();
    const zero = { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
    let s: Stats | undefined;
    if (this.rec.State.Running) {
      try {
        this.mgr ??= await createCgroupManager({ id: this.rec.ID, cgroupsPath: this.cgroupsPath });
        s = await this.mgr.stats();
      } catch {
        s = undefined;
      }
    }
    const cpu = s
      ? {
          cpu_usage: {
            total_usage: s.cpu.usage?.total ?? 0,
            ...(s.cpu.usage?.percpu ? { percpu_usage: s.cpu.usage.percpu } : {}),
            usage_in_kernelmode: s.cpu.usage?.kernel ?? 0,
            usage_in_usermode: s.cpu.usage?.user ?? 0,
          },
          system_cpu_usage: await systemCpuNs(),
          online_cpus: os.cpus().length,
          throttling_data: { periods: s.cpu.throttling?.periods ?? 0, throttled_periods: s.cpu.throttling?.throttledPeriods ?? 0, throttled_time: s.cpu.throttling?.throttledTime ?? 0 },
        }
      : zero;
    const limit = s?.memory.usage?.limit;
    const hostMem = os.totalmem();
    const memory = s
      ? {
          usage: s.memory.usage?.usage ?? 0,
          max_usage: s.memory.usage?.max ?? 0,
          stats: s.memory.raw ?? {},
          failcnt: s.memory.usage?.failcnt ?? 0,
          limit: !limit || limit >= hostMem ? hostMem : limit,
        }
      : {};
    const blk = (rows: { major?: number; minor?: number; op?: string; value?: number }[] | undefined) =>
      rows ? rows.map((r) => ({ major: r.major ?? 0, minor: r.minor ?? 0, op: r.op ?? '', value: r.value ?? 0 })) : null;
    const out: DockerStats = {
      read: this.rec.State.Running ? read : '0001-01-01T00:00:00Z',
      preread: this.prev?.read ?? '0001-01-01T00:00:00Z',
      pids_stats: s ? { current: s.pids.current ?? 0, ...(s.pids.limit ? { limit: s.pids.limit } : {}) } : {},
      blkio_stats: {
        io_service_bytes_recursive: blk(s?.blkio.ioServiceBytesRecursive),
        io_serviced_recursive: blk(s?.blkio.ioServicedRecursive),
        io_queue_recursive: null,
        io_service_time_recursive: null,
        io_wait_time_recursive: null,
        io_merged_recursive: null,
        io_time_recursive: null,
        sectors_recursive: null,
      },
      num_procs: 0,
      storage_stats: {},
      cpu_stats: cpu,
      precpu_stats: this.prev?.cpu ?? zero,
      memory_stats: memory,
      name: this.rec.Name,
      id: this.rec.ID,
    };
    const net = await netStats(this.rec.State.Pid);
    if (net) out.networks = net;
    this.prev = { cpu, read };
    return out;
  }
}
