// Driver unit tests on a temp-dir fixture (youki's set_fixture approach): no root, no real cgroup.
// They check cgroupsPath resolution and the exact files and values each driver writes.
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blkioWeightToIoWeight, cleanCgroupPath, createCgroupManager, sharesToWeight, swapToV2, V1Manager, V2Manager } from './index';
import { parseProcCgroup, parseV1Hierarchies } from './detect';
import type { Sys } from '../native/index';

async function fixture(): Promise<{ root: string; proc: string; done(): Promise<void> }> {
  const base = await fsp.mkdtemp(path.join(os.tmpdir(), 'keel-cg-'));
  const root = path.join(base, 'cgroup');
  const proc = path.join(base, 'proc');
  await fsp.mkdir(path.join(proc, 'self'), { recursive: true });
  await fsp.mkdir(root);
  return { root, proc, done: () => fsp.rm(base, { recursive: true, force: true }) };
}

async function touch(dir: string, files: Record<string, string>): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  for (const [f, v] of Object.entries(files)) await fsp.writeFile(path.join(dir, f), v);
}

const read = (dir: string, f: string) => fsp.readFile(path.join(dir, f), 'utf8');

test('conversions match runc', () => {
  assert.equal(sharesToWeight(0), 0);
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(262144), 10000);
  assert.equal(blkioWeightToIoWeight(500), 4950);
  assert.equal(swapToV2(200, 100), 100);
  assert.equal(swapToV2(-1, 100), -1);
  assert.equal(swapToV2(0, -1), -1);
  assert.throws(() => swapToV2(50, 100), /memory\+swap limit should be >= memory limit/);
  assert.throws(() => swapToV2(50, 0), /without memory limit/);
});

test('cgroupsPath cleaning cannot climb out', () => {
  assert.equal(cleanCgroupPath('../../a/b'), 'a/b');
  assert.equal(cleanCgroupPath('/a/../../b/'), '/b');
  assert.equal(cleanCgroupPath(''), '');
});

test('mountinfo and /proc/self/cgroup parsing', () => {
  const h = parseV1Hierarchies(
    '30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n31 25 0:27 /sub /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n32 25 0:28 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n',
  );
  assert.deepEqual(h, [
    { mountPoint: '/sys/fs/cgroup/cpu,cpuacct', root: '/', subsystems: ['cpu', 'cpuacct'] },
    { mountPoint: '/sys/fs/cgroup/memory', root: '/sub', subsystems: ['memory'] },
  ]);
  const own = parseProcCgroup('4:memory:/sub/me\n1:name=systemd:/x\n0::/u\n');
  assert.equal(own.get('memory'), '/sub/me');
  assert.equal(own.get('name=systemd'), '/x');
  assert.equal(own.get(''), '/u');
});

test('v1: paths follow runc (absolute under the mount, relative under our own cgroup, default = id)', async () => {
  const f = await fixture();
  try {
    await fsp.writeFile(
      path.join(f.proc, 'self/mountinfo'),
      `30 25 0:26 / ${f.root}/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n31 25 0:27 /sub ${f.root}/memory rw - cgroup cgroup rw,memory\n33 25 0:29 / ${f.root}/devices rw - cgroup cgroup rw,devices\n`,
    );
    await fsp.writeFile(path.join(f.proc, 'self/cgroup'), '3:devices:/\n2:memory:/sub/me\n1:cpu,cpuacct:/rt\n0::/\n');
    const abs = await createCgroupManager({ id: 'c1', cgroupsPath: '/a/b', root: f.root, proc: f.proc, mode: 'v1' });
    assert.deepEqual(abs.paths(), {
      devices: `${f.root}/devices/a/b`,
      memory: `${f.root}/memory/a/b`,
      cpu: `${f.root}/cpu,cpuacct/a/b`,
      cpuacct: `${f.root}/cpu,cpuacct/a/b`,
    });
    const rel = await createCgroupManager({ id: 'c1', root: f.root, proc: f.proc, mode: 'hybrid' });
    assert.equal(rel.paths().memory, `${f.root}/memory/me/c1`);
    assert.equal(rel.paths().cpu, `${f.root}/cpu,cpuacct/rt/c1`);
    assert.equal(rel.paths()[''], `${f.root}/unified/c1`);
    await assert.rejects(createCgroupManager({ id: 'c1', cgroupsPath: 'system.slice:keel:c1', root: f.root, proc: f.proc }), { kind: 'NotImplemented' });
  } finally {
    await f.done();
  }
});

test('v1: set writes runc\'s files and values in order', async () => {
  const f = await fixture();
  try {
    const d = (c: string) => path.join(f.root, c, 'x');
    await touch(d('memory'), { 'memory.limit_in_bytes': '9223372036854771712', 'memory.memsw.limit_in_bytes': '', 'memory.soft_limit_in_bytes': '', 'memory.swappiness': '', 'memory.oom_control': '' });
    await touch(d('cpu'), { 'cpu.shares': '', 'cpu.cfs_quota_us': '', 'cpu.cfs_period_us': '' });
    await touch(d('pids'), { 'pids.max': '' });
    await touch(d('devices'), { 'devices.allow': '', 'devices.deny': '' });
    await touch(d('blkio'), { 'blkio.weight': '', 'blkio.throttle.read_bps_device': '' });
    const m = new V1Manager({ memory: d('memory'), cpu: d('cpu'), pids: d('pids'), devices: d('devices'), blkio: d('blkio') });
    // cpu.shares is read back by runc to detect clamping; the fixture echoes what was written.
    await m.set({
      memory: { limit: 1 << 20, swap: 2 << 20, reservation: 4096, swappiness: 10, disableOOMKiller: true, kernel: 1 },
      cpu: { shares: 512, quota: 20000, period: 50000 },
      pids: { limit: 0 },
      blockIO: { weight: 300, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1000 }] },
      devices: [{ allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }],
    });
    assert.equal(await read(d('memory'), 'memory.limit_in_bytes'), String(1 << 20));
    assert.equal(await read(d('memory'), 'memory.memsw.limit_in_bytes'), String(2 << 20));
    assert.equal(await read(d('memory'), 'memory.soft_limit_in_bytes'), '4096');
    assert.equal(await read(d('memory'), 'memory.swappiness'), '10');
    assert.equal(await read(d('memory'), 'memory.oom_control'), '1');
    assert.equal(await read(d('cpu'), 'cpu.shares'), '512');
    assert.equal(await read(d('cpu'), 'cpu.cfs_quota_us'), '20000');
    assert.equal(await read(d('cpu'), 'cpu.cfs_period_us'), '50000');
    assert.equal(await read(d('pids'), 'pids.max'), '1');
    assert.equal(await read(d('blkio'), 'blkio.weight'), '300');
    assert.equal(await read(d('blkio'), 'blkio.throttle.read_bps_device'), '8:0 1000');
    assert.equal(await read(d('devices'), 'devices.deny'), 'a'); // then the allow lines, last one kept by the fixture
    assert.equal(await read(d('devices'), 'devices.allow'), 'c 1:3 rw');
    await assert.rejects(m.set({ unified: { 'memory.high': '1' } }), /cannot use unified on cgroup v1/);
    await assert.rejects(m.set({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }), /cannot set hugetlb limit/);
    await assert.rejects(m.set({ memory: { swappiness: 101 } }), /valid range is 0-100/);
    await assert.rejects(new V1Manager({ cpu: path.join(f.root, 'nope') }).set({ cpu: { shares: 2 } }), (e: Error) => e.message === `set cpu.shares: write ${f.root}/nope/cpu.shares: ENOENT`);
  } finally {
    await f.done();
  }
});

test('v2: set writes fs2\'s files; unified keys are validated', async () => {
  const f = await fixture();
  try {
    const dir = path.join(f.root, 'x');
    await touch(dir, {
      'cgroup.controllers': 'cpu memory pids io',
      'memory.max': '', 'memory.swap.max': '', 'memory.low': '', 'memory.high': '', 'memory.current': '1000000',
      'cpu.max': '', 'cpu.weight': '', 'cpu.idle': '', 'pids.max': '', 'io.weight': '', 'io.max': '', 'cpuset.cpus': '',
    });
    const fakeSys = {} as Sys;
    const m = new V2Manager(dir, { root: f.root, sys: fakeSys });
    await m.set({
      memory: { limit: 100 << 20, swap: 300 << 20, reservation: 50 << 20, swappiness: 10 },
      cpu: { shares: 1024, quota: -1, period: 20000, idle: 1, cpus: '0', realtimeRuntime: 5 },
      pids: { limit: -1 },
      blockIO: { weight: 500, throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 7 }] },
      unified: { 'memory.high': '5000000' },
    });
    assert.equal(await read(dir, 'memory.max'), String(100 << 20));
    assert.equal(await read(dir, 'memory.swap.max'), String(200 << 20));
    assert.equal(await read(dir, 'memory.low'), String(50 << 20));
    assert.equal(await read(dir, 'cpu.max'), 'max 20000');
    assert.equal(await read(dir, 'cpu.weight'), '39');
    assert.equal(await read(dir, 'cpu.idle'), '1');
    assert.equal(await read(dir, 'cpuset.cpus'), '0');
    assert.equal(await read(dir, 'pids.max'), 'max');
    assert.equal(await read(dir, 'io.weight'), '4950');
    assert.equal(await read(dir, 'io.max'), '8:0 wiops=7');
    assert.equal(await read(dir, 'memory.high'), '5000000');
    await assert.rejects(m.set({ unified: { '../x': '1' } }), /no slashes/);
    await assert.rejects(m.set({ unified: { 'hugetlb.2MB.max': '1' } }), /controller "hugetlb" not available/);
    await assert.rejects(m.set({ unified: { nodot: '1' } }), /CONTROLLER.PARAMETER/);
    await assert.rejects(m.update({ memory: { limit: 4096, checkBeforeUpdate: true } }), /rejecting memory limit 4096 <= usage 1000000/);
    await m.update({ memory: { limit: 4096 } });
    assert.equal(await read(dir, 'memory.max'), '4096');
  } finally {
    await f.done();
  }
});

test('v2: relative paths live under the parent of our own cgroup; stats parse fs2 files', async () => {
  const f = await fixture();
  try {
    await fsp.writeFile(path.join(f.proc, 'self/cgroup'), '0::/user.slice/me.scope\n');
    const m = await createCgroupManager({ id: 'c9', cgroupsPath: 'pods/c9', root: f.root, proc: f.proc, mode: 'v2' });
    assert.deepEqual(m.paths(), { '': `${f.root}/user.slice/pods/c9` });
    const dir = m.paths()['']!;
    await touch(dir, {
      'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 3\nnr_throttled 1\nthrottled_usec 7\n',
      'memory.current': '4096', 'memory.max': 'max', 'memory.stat': 'anon 100\nfile 200\n', 'memory.events': 'low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n',
      'pids.current': '2', 'pids.max': '10', 'io.stat': '8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n',
    });
    const s = await m.stats();
    assert.deepEqual(s.cpu, { usage: { total: 1500000, kernel: 500000, user: 1000000 }, throttling: { periods: 3, throttledPeriods: 1, throttledTime: 7000 } });
    assert.equal(s.memory.cache, 200);
    assert.deepEqual(s.memory.usage, { limit: Number.MAX_SAFE_INTEGER, usage: 4096, failcnt: 2 });
    assert.deepEqual(s.pids, { current: 2, limit: 10 });
    assert.deepEqual(s.blkio.ioServiceBytesRecursive, [{ major: 8, op: 'Read', value: 10 }, { major: 8, op: 'Write', value: 20 }]);
    assert.equal(await m.oomKillCount(), 1);
    await m.destroy();
    await assert.rejects(fsp.stat(dir), { code: 'ENOENT' });
  } finally {
    await f.done();
  }
});
