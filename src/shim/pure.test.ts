// Pure pieces of the shim: process state table, mount option parsing, runc Options decoding and
// the cgroup Stats → containerd Metrics mapping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode, toAny } from './messages';
import { metricsAny } from './metrics';
import { ShimProcess, TaskStatus } from './process';
import { parseMountOptions } from './rootfs';
import { runtimeOptions } from './task-service';
import type { Stats } from '../cgroups/index';

const io = { stdin: '', stdout: '', stderr: '', terminal: false };

test('process states: created → running → paused → running → stopped → deleted', () => {
  const p = new ShimProcess('c', '', io);
  assert.equal(p.status, TaskStatus.CREATED);
  assert.throws(() => p.apply('pause'), /cannot pause a created process/);
  p.apply('start');
  assert.equal(p.status, TaskStatus.RUNNING);
  assert.throws(() => p.apply('delete'), /cannot delete a running process/);
  p.apply('pause');
  assert.equal(p.status, TaskStatus.PAUSED);
  assert.throws(() => p.apply('start'), /cannot start a paused process/);
  p.apply('resume');
  p.setExited({ pid: 1, status: 2, exitedAt: new Date() });
  p.setExited({ pid: 1, status: 9, exitedAt: new Date() });
  assert.equal(p.exit?.status, 2, 'the first exit wins');
  assert.equal(p.status, TaskStatus.STOPPED);
  assert.throws(() => p.check('kill'), (e: { kind?: string }) => e.kind === 'NotFound');
  p.apply('delete');
  assert.throws(() => p.apply('start'), /cannot start a deleted process/);
});

test('mount options split into flags and data', () => {
  assert.deepEqual(parseMountOptions(['ro', 'nosuid', 'lowerdir=/a:/b', 'upperdir=/u', 'workdir=/w', 'index=off']), {
    flags: 1 | 2,
    data: 'lowerdir=/a:/b,upperdir=/u,workdir=/w,index=off',
  });
  assert.deepEqual(parseMountOptions(['rbind', 'rw']), { flags: 4096 | 16384, data: '' });
});

test('runtime options: BinaryName and Root from containerd.runc.v1.Options, anything else ignored', () => {
  assert.deepEqual(runtimeOptions(toAny('containerd.runc.v1.Options', { binaryName: 'runc', root: '/r' })), { binaryName: 'runc', root: '/r', systemdCgroup: false });
  assert.deepEqual(runtimeOptions({ type_url: 'runtimeoptions.v1.Options', value: Buffer.from([1, 2]) }), {});
  assert.deepEqual(runtimeOptions(null), {});
});

const stats: Stats = {
  cpu: { usage: { total: 5_000_000, kernel: 1_000_000, user: 4_000_000, percpu: [2_000_000, 3_000_000] }, throttling: { periods: 4, throttledPeriods: 1, throttledTime: 7000 } },
  cpuset: {} as Stats['cpuset'],
  memory: { cache: 10, usage: { limit: 100, usage: 50, max: 60, failcnt: 0 }, raw: { rss: 11, total_rss: 12, anon: 13, file: 14 } },
  pids: { current: 3, limit: 10 },
  blkio: { ioServiceBytesRecursive: [{ major: 8, minor: 0, op: 'Read', value: 100 }, { major: 8, minor: 0, op: 'Write', value: 200 }] },
  hugetlb: { '2MB': { usage: 1, max: 2, failcnt: 0 } },
  intel_rdt: {},
  network_interfaces: null,
};

test('v1 metrics carry cgroup v1 fields', () => {
  const any = metricsAny('v1', stats, 2);
  assert.equal(any.type_url, 'io.containerd.cgroups.v1.Metrics');
  const m = decode<Record<string, any>>('io.containerd.cgroups.v1.Metrics', any.value);
  assert.equal(m.cpu.usage.total, 5_000_000);
  assert.deepEqual(m.cpu.usage.perCpu, [2_000_000, 3_000_000]);
  assert.equal(m.cpu.throttling.throttledPeriods, 1);
  assert.deepEqual([m.memory.cache, m.memory.rss, m.memory.totalRss, m.memory.usage.usage, m.memory.usage.limit], [10, 11, 12, 50, 100]);
  assert.equal(m.pids.limit, 10);
  assert.equal(m.blkio.ioServiceBytesRecursive[1].op, 'Write');
  assert.equal(m.hugetlb[0].pagesize, '2MB');
  assert.equal(m.memoryOomControl.oomKill, 2);
});

test('v2 metrics convert ns to usec and fold io rows per device', () => {
  const any = metricsAny('v2', stats, 1);
  assert.equal(any.type_url, 'io.containerd.cgroups.v2.Metrics');
  const m = decode<Record<string, any>>('io.containerd.cgroups.v2.Metrics', any.value);
  assert.deepEqual([m.cpu.usageUsec, m.cpu.userUsec, m.cpu.systemUsec, m.cpu.throttledUsec], [5000, 4000, 1000, 7]);
  assert.deepEqual([m.memory.anon, m.memory.file, m.memory.usage, m.memory.usageLimit], [13, 14, 50, 100]);
  assert.deepEqual(m.io.usage, [{ major: 8, minor: 0, rbytes: 100, wbytes: 200, rios: 0, wios: 0 }]);
  assert.equal(m.memoryEvents.oomKill, 1);
  assert.ok(encode('io.containerd.cgroups.v2.Metrics', m).length > 0);
});
