// CRIU's command lines for runc's checkpoint/restore flags, and reading CRIU's own error from its
// log. Pure: no criu binary is run here (conformance/checkpoint.test.ts runs the real one).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { criuError, dumpArgs, emptyNamespaces, parsePageServer, restoreArgs, checkManageCgroupsMode, type CriuOptions } from './criu';

const o: CriuOptions = { imagesDir: '/img', workDir: '/work', emptyNs: ['net'] };
const c = { pid: 42, root: '/b/rootfs', binds: [{ destination: '/data', source: '/srv/data' }] };

test('dump: the tree, runc\'s mandatory options, binds external by destination', () => {
  const a = dumpArgs({ ...o, shellJob: true, leaveRunning: true, manageCgroupsMode: 'full' }, { ...c, freezer: '/sys/fs/cgroup/freezer/x' });
  assert.deepEqual(a.slice(0, 3), ['dump', '--tree', '42']);
  const s = a.join(' ');
  for (const want of ['--images-dir /img', '--work-dir /work', '--log-file dump.log', '--root /b/rootfs', '--empty-ns net', '--external mnt[/data]:/data', '--freeze-cgroup /sys/fs/cgroup/freezer/x']) {
    assert.ok(s.includes(want), `${want} in ${s}`);
  }
  for (const flag of ['--manage-cgroups=full', '--shell-job', '--leave-running']) assert.ok(a.includes(flag), flag);
  assert.ok(!a.includes('--tcp-established'));
});

test('pre-dump tracks memory and leaves the tasks running without being told', () => {
  const a = dumpArgs({ ...o, preDump: true, leaveRunning: true }, c);
  assert.equal(a[0], 'pre-dump');
  assert.ok(a.includes('--track-mem'));
  assert.ok(!a.includes('--leave-running'));
});

test('restore: detached, pid file, binds mapped to their sources, cgroup roots and inherited pipes', () => {
  const a = restoreArgs(o, { ...c, cgroupRoots: { cpu: '/sys/fs/cgroup/cpu/x', '': '/sys/fs/cgroup/x' }, inheritFds: [{ fd: 1, key: 'pipe:[77]' }] }, '/run/keel/x/restore.pid');
  assert.equal(a[0], 'restore');
  const s = a.join(' ');
  for (const want of ['--log-file restore.log', '--restore-detached', '--pidfile /run/keel/x/restore.pid', '--external mnt[/data]:/srv/data', '--cgroup-root cpu:/sys/fs/cgroup/cpu/x', '--cgroup-root /sys/fs/cgroup/x', '--inherit-fd fd[1]:pipe:[77]']) {
    assert.ok(s.includes(want), `${want} in ${s}`);
  }
});

test('runc\'s flag checks: page server, cgroups mode, empty namespaces', () => {
  assert.deepEqual(parsePageServer('10.0.0.1:27'), { address: '10.0.0.1', port: 27 });
  assert.deepEqual(parsePageServer('[::1]:8080'), { address: '::1', port: 8080 });
  assert.throws(() => parsePageServer('nohost'), /Use --page-server ADDRESS:PORT/);
  assert.throws(() => parsePageServer(':80'), /Use --page-server ADDRESS:PORT/);
  assert.throws(() => checkManageCgroupsMode('loose'), /Invalid manage cgroups mode/);
  assert.doesNotThrow(() => checkManageCgroupsMode('strict'));
  assert.deepEqual(emptyNamespaces(['network']), ['net']);
  assert.throws(() => emptyNamespaces(['pid']), /namespace "pid" is not supported/);
});

test('CRIU\'s own error is the last Error line of its log', () => {
  const log = [
    '(00.000001) Version: 3.17.1 (gitid 0)',
    '(00.136718) Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable',
    '(00.136721) Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing kerndat.',
    '(00.136754) Adjust mmap_min_addr 0x1000 -> 0x10000',
  ].join('\n');
  assert.equal(criuError(log), 'kerndat_vdso_fill_symtable failed when initializing kerndat.');
  assert.equal(criuError('(00.1) all fine\n'), undefined);
});
