// docker update: new resource limits and restart policy for a container, applied to the running
// task through the shim (Task.Update) and kept in the record for the next start.
import { RuntimeError } from '../../errors/index';
import { task } from '../tasks/shim';
import type { Engine } from './engine';
import { validateHostConfig } from './engine';
import type { HostConfig } from './types';

const RESOURCE_KEYS = [
  'CpuShares', 'Memory', 'NanoCpus', 'CpuPeriod', 'CpuQuota', 'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'CpusetCpus', 'CpusetMems',
  'MemoryReservation', 'MemorySwap', 'KernelMemory', 'PidsLimit', 'BlkioWeight', 'OomKillDisable',
] as const;

export async function updateContainer(e: Engine, ref: string, body: Record<string, unknown>): Promise<{ Warnings: string[] }> {
  const rec = e.find(ref);
  return e.lock.run(rec.ID, async () => {
    const next: HostConfig = { ...rec.HostConfig };
    for (const k of RESOURCE_KEYS) if (body[k] !== undefined && body[k] !== null && !(body[k] === 0 && k !== 'PidsLimit')) (next as Record<string, unknown>)[k] = body[k];
    if (body.NanoCpus) {
      delete next.CpuQuota;
      delete next.CpuPeriod;
    }
    if (body.RestartPolicy) {
      next.RestartPolicy = body.RestartPolicy as HostConfig['RestartPolicy'];
      if (rec.HostConfig.AutoRemove && next.RestartPolicy?.Name && next.RestartPolicy.Name !== 'no') throw new RuntimeError('InvalidArgument', 'Restart policy cannot be updated because AutoRemove is enabled for the container');
    }
    if (next.Memory && rec.HostConfig.Memory && !body.MemorySwap && rec.HostConfig.MemorySwap && rec.HostConfig.MemorySwap > 0 && next.Memory > rec.HostConfig.MemorySwap) {
      throw new RuntimeError('InvalidArgument', 'Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
    validateHostConfig(next);
    const conn = e.live(rec.ID).conn;
    if (rec.State.Running && conn) {
      const r: Record<string, unknown> = {};
      const mem: Record<string, number> = {};
      if (body.Memory) mem.limit = next.Memory!;
      if (body.MemorySwap) mem.swap = next.MemorySwap!;
      else if (body.Memory && (!rec.HostConfig.MemorySwap || rec.HostConfig.MemorySwap === 0)) mem.swap = next.Memory! * 2;
      if (body.MemoryReservation) mem.reservation = next.MemoryReservation!;
      if (Object.keys(mem).length) r.memory = mem;
      const cpu: Record<string, unknown> = {};
      if (body.CpuShares) cpu.shares = next.CpuShares;
      if (body.NanoCpus) {
        cpu.period = 100000;
        cpu.quota = Math.round((next.NanoCpus! * 100000) / 1e9);
      }
      if (body.CpuPeriod) cpu.period = next.CpuPeriod;
      if (body.CpuQuota) cpu.quota = next.CpuQuota;
      if (body.CpusetCpus) cpu.cpus = next.CpusetCpus;
      if (body.CpusetMems) cpu.mems = next.CpusetMems;
      if (Object.keys(cpu).length) r.cpu = cpu;
      if (body.PidsLimit !== undefined && body.PidsLimit !== null) r.pids = { limit: Number(body.PidsLimit) > 0 ? Number(body.PidsLimit) : -1 };
      if (body.BlkioWeight) r.blockIO = { weight: next.BlkioWeight };
      if (Object.keys(r).length) {
        try {
          await task.update(conn, rec.ID, r);
        } catch (err) {
          throw new RuntimeError('Internal', `Cannot update container ${rec.ID}: ${(err as Error).message}`);
        }
      }
    }
    rec.HostConfig = next;
    await e.d.store.save(rec);
    e.event(rec, 'update');
    return { Warnings: [] };
  });
}
