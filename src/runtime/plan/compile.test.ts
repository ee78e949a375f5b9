// Golden-plan tests of compilePlan: spec fixtures in, InitPlan out. Pure, no root, no I/O beyond
// reading the fixtures. Regenerate the golden files with UPDATE_GOLDEN=1 after a deliberate change.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Spec } from '../../../spec/types/runtime';
import { RuntimeError } from '../../errors/index';
import { compilePlan, execCandidates, type PlanOptions } from './compile';
import { CLONE, MOUNT_ATTR, MS } from './constants';
import { compileJoinPlan } from './join';
import { parseMountOptions } from './mount-options';

const testdata = path.join(__dirname, 'testdata');

function fixture(name: string): Spec {
  return JSON.parse(fs.readFileSync(path.join(testdata, name), 'utf8')) as Spec;
}

const opts: PlanOptions = {
  id: 'web',
  bundle: '/bundles/web',
  rootfs: '/bundles/web/rootfs',
  execFifo: '/run/keel/web/exec.fifo',
  noPivot: false,
  noNewKeyring: false,
  preserveFds: 0,
  host: { capLast: 40, cgroup2: true, exeDev: 2049n, exeIno: 1234n, isRoot: true },
};

function golden(name: string, value: unknown): void {
  const file = path.join(testdata, name);
  const text = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v), 2) + '\n';
  if (process.env.UPDATE_GOLDEN) fs.writeFileSync(file, text);
  assert.equal(text, fs.readFileSync(file, 'utf8'), `${name} differs (UPDATE_GOLDEN=1 to accept)`);
}

test('runc default spec compiles to the golden plan', () => {
  golden('runc-default.plan.json', compilePlan(fixture('runc-default.json'), opts));
});

test('runc default spec: namespaces, mounts, caps, rlimits resolved', () => {
  const p = compilePlan(fixture('runc-default.json'), opts);
  assert.equal(p.cloneFlags, CLONE.NEWPID | CLONE.NEWNET | CLONE.NEWIPC | CLONE.NEWUTS | CLONE.NEWNS);
  assert.equal(p.unshareFlags, CLONE.NEWCGROUP, 'cgroup namespace is unshared by the child');
  assert.equal(p.forkAfter, false);
  assert.equal(p.newUserns, false);
  const dev = p.mounts.find((m) => m.destination === '/dev')!;
  assert.equal(dev.flags, MS.NOSUID | MS.STRICTATIME);
  assert.equal(dev.data, 'mode=755,size=65536k');
  const sys = p.mounts.find((m) => m.destination === '/sys')!;
  assert.equal(sys.flags, MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY);
  assert.equal(sys.procfsLike, true);
  const cg = p.mounts.find((m) => m.destination === '/sys/fs/cgroup')!;
  assert.equal(cg.type, 'cgroup2');
  const pts = p.mounts.find((m) => m.destination === '/dev/pts')!;
  assert.equal(pts.data, 'newinstance,ptmxmode=0666,mode=0620,gid=5');
  const three = 2 ** 29 + 2 ** 5 + 2 ** 10; // AUDIT_WRITE, KILL, NET_BIND_SERVICE
  assert.equal(p.capBounding, three);
  assert.equal(p.capAmbient, three);
  assert.equal(p.capInheritable, 0);
  assert.equal(p.applyCaps, true);
  assert.deepEqual(p.rlimits, [{ type: 'RLIMIT_NOFILE', resource: 7, soft: 1024n, hard: 1024n }]);
  assert.equal(p.readonlyRoot, true);
  assert.equal(p.terminal, true);
  assert.equal(p.keyringName, '_ses.web');
  assert.equal(p.devices.length, 6);
  assert.deepEqual(p.execPaths.slice(0, 2), ['/usr/local/sbin/sh', '/usr/local/bin/sh']);
});

test('cgroup mount on a v1 host becomes a read-only rbind of the host hierarchy', () => {
  const p = compilePlan(fixture('runc-default.json'), { ...opts, host: { ...opts.host, cgroup2: false } });
  const cg = p.mounts.find((m) => m.destination === '/sys/fs/cgroup')!;
  assert.equal(cg.kind, 'bind');
  assert.equal(cg.source, '/sys/fs/cgroup');
  assert.equal(cg.flags & (MS.BIND | MS.REC | MS.RDONLY), MS.BIND | MS.REC | MS.RDONLY);
});

test('mount option table: later options win, propagation and recursive attributes', () => {
  const o = parseMountOptions(['ro', 'rw', 'nosuid', 'suid', 'noexec', 'rbind', 'rslave', 'rro', 'rnoatime', 'ratime', 'size=1m'], '/x');
  assert.equal(o.flags, MS.NOEXEC | MS.BIND | MS.REC);
  assert.equal(o.propagation, MS.SLAVE | MS.REC);
  assert.equal(o.attrSet, MOUNT_ATTR.RDONLY | MOUNT_ATTR.RELATIME);
  assert.equal(o.attrClr, MOUNT_ATTR._ATIME);
  assert.deepEqual(o.data, ['size=1m']);
  assert.equal(o.bind, true);
  const r = parseMountOptions(['rrw', 'rnosuid', 'rsuid', 'private', 'shared'], '/x');
  assert.equal(r.attrSet, 0);
  assert.equal(r.attrClr, MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID);
  assert.equal(r.propagation, MS.SHARED);
  assert.equal(parseMountOptions(['idmap'], '/x').idmap, 'idmap');
  assert.equal(parseMountOptions(['ridmap', 'rbind'], '/x').idmap, 'ridmap');
  assert.deepEqual(parseMountOptions(['idmap'], '/x').data, [], 'idmap never reaches mount(2)');
  assert.throws(() => parseMountOptions(['idmap=uids=0-1-10'], '/x'), (e: RuntimeError) => e.kind === 'InvalidArgument');
  assert.equal(parseMountOptions(['tmpcopyup'], '/x').copyUp, true);
  assert.deepEqual(parseMountOptions(['tmpcopyup'], '/x').data, []);
});

test('bind mounts: relative sources resolve against the bundle, destinations are normalized', () => {
  const spec = fixture('runc-default.json');
  spec.mounts = [{ destination: 'data/../vol/', type: 'none', source: 'host-dir', options: ['bind', 'ro'] }];
  const [m] = compilePlan(spec, opts).mounts;
  assert.deepEqual(
    { kind: m!.kind, source: m!.source, destination: m!.destination, flags: m!.flags, type: m!.type },
    { kind: 'bind', source: '/bundles/web/host-dir', destination: '/vol', flags: MS.BIND | MS.RDONLY, type: '' },
  );
});

test('user namespace: maps required, devices bound, devpts gid dropped when unmapped', () => {
  const spec = fixture('runc-default.json');
  spec.linux!.namespaces!.push({ type: 'user' });
  assert.throws(() => compilePlan(spec, opts), /uidMappings/);
  spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 1 }];
  spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 1 }];
  const p = compilePlan(spec, { ...opts, host: { ...opts.host, isRoot: false } });
  assert.equal(p.newUserns, true);
  assert.equal(p.cloneFlags & CLONE.NEWUSER, CLONE.NEWUSER);
  assert.equal(p.bindDevices, true);
  assert.equal(p.setGroups, false);
  assert.equal(p.mapsDumpable, true);
  assert.equal(p.mounts.find((m) => m.destination === '/dev/pts')!.data, 'newinstance,ptmxmode=0666,mode=0620');
  const asRoot = compilePlan(spec, opts);
  assert.equal(asRoot.setGroups, true);
  assert.equal(asRoot.mapsDumpable, false);
  spec.process!.user!.additionalGids = [5];
  assert.throws(() => compilePlan(spec, { ...opts, host: { ...opts.host, isRoot: false } }), /additional groups in a rootless container/);
});

test('rootless exec: a joined user namespace keeps the inherited groups (setgroups is denied there)', () => {
  const spec = fixture('runc-default.json');
  delete spec.hostname;
  spec.linux!.namespaces = [{ type: 'user', path: '/proc/1/ns/user' }, { type: 'mount', path: '/proc/1/ns/mnt' }];
  assert.equal(compilePlan(spec, { ...opts, host: { ...opts.host, isRoot: false } }).setGroups, false);
  assert.equal(compilePlan(spec, opts).setGroups, true);
});

test('joined namespaces: user first, the rest unshared, extra fork for pid', () => {
  const spec = fixture('runc-default.json');
  delete spec.hostname;
  spec.linux!.namespaces = [{ type: 'network', path: '/proc/1/ns/net' }, { type: 'user', path: '/proc/1/ns/user' }, { type: 'pid' }, { type: 'mount' }];
  const p = compilePlan(spec, opts);
  assert.deepEqual(p.joins.map((j) => j.type), ['user', 'network']);
  assert.equal(p.cloneFlags, 0);
  assert.equal(p.unshareFlags, CLONE.NEWPID | CLONE.NEWNS);
  assert.equal(p.forkAfter, true);
  assert.equal(p.bindDevices, true);
});

test('errors: unknown capability, rlimit, namespace; what needs a mount namespace; hostname without uts', () => {
  const bad = (mut: (s: Spec) => void, re: RegExp) => {
    const s = fixture('runc-default.json');
    mut(s);
    assert.throws(() => compilePlan(s, opts), re);
  };
  bad((s) => s.process!.capabilities!.bounding!.push('CAP_FLY'), /unknown capability "CAP_FLY"/);
  bad((s) => s.process!.rlimits!.push({ type: 'RLIMIT_FUN', hard: 1, soft: 1 }), /unknown rlimit type/);
  bad((s) => (s.linux!.namespaces = [{ type: 'pid' }]), /root.readonly needs a mount namespace/);
  bad((s) => {
    s.linux!.namespaces = [{ type: 'pid' }];
    s.root!.readonly = false;
    s.linux!.rootfsPropagation = 'shared';
  }, /rootfsPropagation needs a mount namespace/);
  bad((s) => (s.linux!.namespaces = [{ type: 'mount' }]), /uts namespace/);
  bad((s) => (s.process!.args = []), /args must not be empty/);
});

test('capabilities newer than the kernel are skipped with a warning; absent caps are left alone', () => {
  const s = fixture('runc-default.json');
  s.process!.capabilities!.bounding!.push('CAP_CHECKPOINT_RESTORE');
  const p = compilePlan(s, { ...opts, host: { ...opts.host, capLast: 39 } });
  assert.equal(p.capBounding, 2 ** 29 + 2 ** 5 + 2 ** 10);
  assert.match(p.warnings.join('\n'), /CAP_CHECKPOINT_RESTORE/);
  delete s.process!.capabilities;
  assert.equal(compilePlan(s, opts).applyCaps, false);
});

test('rlimit infinity and LISTEN_FDS pass-through', () => {
  const s = fixture('runc-default.json');
  s.process!.rlimits = [{ type: 'RLIMIT_CORE', hard: 18446744073709551615, soft: 0 }];
  const p = compilePlan(s, { ...opts, preserveFds: 2, listenFds: 3 });
  assert.equal(p.rlimits[0]!.hard, 0xffffffffffffffffn);
  assert.equal(p.preserveFds, 5);
  assert.deepEqual(p.env.slice(-2), ['LISTEN_FDS=3', 'LISTEN_PID=1']);
});

test('PATH lookup candidates follow execvp', () => {
  assert.deepEqual(execCandidates('ls', ['PATH=/bin:/usr/bin'], '/'), ['/bin/ls', '/usr/bin/ls']);
  assert.deepEqual(execCandidates('./run', ['PATH=/bin'], '/app'), ['/app/run']);
  assert.deepEqual(execCandidates('x', ['PATH=:rel'], '/w'), ['/w/x', '/w/rel/x']);
  assert.equal(execCandidates('sh', [], '/').length, 6);
});

test('timeOffsets: the child makes the time namespace (not clone3) and writes timens_offsets lines', () => {
  const s = fixture('runc-default.json');
  s.linux!.namespaces!.push({ type: 'time' });
  assert.equal(compilePlan(s, opts).timeOffsets, null);
  assert.ok(compilePlan(s, opts).cloneFlags & CLONE.NEWTIME, 'without offsets clone3 creates it');
  s.linux!.timeOffsets = { monotonic: { secs: -5, nanosecs: 7 }, boottime: { secs: 86400 } };
  const p = compilePlan(s, opts);
  assert.equal(p.timeOffsets, '1 -5 7\n7 86400 0\n');
  assert.equal(p.cloneFlags & CLONE.NEWTIME, 0);
  assert.equal(p.unshareFlags & CLONE.NEWTIME, 0);
  s.linux!.timeOffsets = { boottime: { secs: 1, nanosecs: 1e9 } };
  assert.throws(() => compilePlan(s, opts), /nanosecs must be in/);
  s.linux!.timeOffsets = { boottime: { secs: 1 } };
  s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'time' ? { type: 'time', path: '/proc/1/ns/time' } : n));
  assert.throws(() => compilePlan(s, opts), /joining an existing time namespace/);
});

test('no mount namespace: the runtime\'s is shared, nothing of its / is changed, exec chroots into the init\'s root', () => {
  const s = fixture('runc-default.json');
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
  s.root!.readonly = false;
  const p = compilePlan(s, opts);
  assert.equal(p.sharedMountNs, true);
  assert.equal(p.cloneFlags & CLONE.NEWNS, 0);
  const j = compileJoinPlan(s, s.process!, { ...opts, initPid: 4321 });
  assert.equal(j.sharedMountNs, true);
  assert.equal(j.rootfs, '/proc/4321/root');
  s.linux!.namespaces!.push({ type: 'mount' });
  assert.equal(compileJoinPlan(s, s.process!, { ...opts, initPid: 4321 }).sharedMountNs, false);
});

test('cgroup mount on a v1 host: a tmpfs with the container\'s cgroup of each hierarchy bound on it, made read-only after', () => {
  const s = fixture('runc-default.json');
  const v1 = {
    ...opts,
    host: { ...opts.host, cgroup2: false },
    cgroupV1: [
      { name: 'cpu,cpuacct', source: '/sys/fs/cgroup/cpu,cpuacct/keel/web' },
      { name: 'memory', source: '/sys/fs/cgroup/memory/keel/web' },
    ],
  };
  const p = compilePlan(s, v1);
  const cg = p.mounts.filter((m) => m.destination.startsWith('/sys/fs/cgroup'));
  assert.deepEqual(
    cg.map((m) => [m.kind, m.type, m.source, m.destination]),
    [
      ['fs', 'tmpfs', 'tmpfs', '/sys/fs/cgroup'],
      ['bind', '', '/sys/fs/cgroup/cpu,cpuacct/keel/web', '/sys/fs/cgroup/cpu,cpuacct'],
      ['bind', '', '/sys/fs/cgroup/memory/keel/web', '/sys/fs/cgroup/memory'],
    ],
  );
  assert.equal(cg[0]!.flags & MS.RDONLY, 0, 'the tmpfs is writable until the links are made');
  assert.ok(cg[1]!.flags & MS.RDONLY, 'the binds carry the mount\'s ro');
  assert.deepEqual(
    p.symlinks.filter((l) => l.link.startsWith('/sys/fs/cgroup')),
    [
      { target: 'cpu,cpuacct', link: '/sys/fs/cgroup/cpu' },
      { target: 'cpu,cpuacct', link: '/sys/fs/cgroup/cpuacct' },
    ],
  );
  assert.ok(p.readonly.includes('/sys/fs/cgroup'));
  // Without the list (no cgroups known) the host hierarchies are bound read-only as a whole.
  const fallback = compilePlan(s, { ...opts, host: { ...opts.host, cgroup2: false } }).mounts.filter((m) => m.destination === '/sys/fs/cgroup');
  assert.deepEqual(fallback.map((m) => [m.kind, m.source]), [['bind', '/sys/fs/cgroup']]);
});

test('cgroup2 host: a cgroup mount the kernel would refuse becomes a bind, as runc mountCgroupV2 falls back', () => {
  const cgMount = (s: Spec, o: Partial<PlanOptions> = {}) => compilePlan(s, { ...opts, ...o }).mounts.filter((m) => m.destination === '/sys/fs/cgroup');
  const withNs = (types: NonNullable<NonNullable<Spec['linux']>['namespaces']>[number]['type'][]) => {
    const s = fixture('runc-default.json');
    s.linux!.namespaces = types.map((type) => ({ type }));
    s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    return s;
  };
  // Root, a fresh sysfs: cgroup2 is mounted (also in a user namespace that owns its cgroup namespace).
  assert.deepEqual(cgMount(fixture('runc-default.json')).map((m) => [m.kind, m.type]), [['fs', 'cgroup2']]);
  assert.deepEqual(cgMount(withNs(['mount', 'pid', 'uts', 'user', 'cgroup'])).map((m) => [m.kind, m.type]), [['fs', 'cgroup2']]);
  // A user namespace without its own cgroup namespace (EPERM): the host's tree, read-only.
  const eperm = cgMount(withNs(['mount', 'pid', 'uts', 'user']), { cgroup2Path: '/sys/fs/cgroup/alice/web' });
  assert.deepEqual(eperm.map((m) => [m.kind, m.source]), [['bind', '/sys/fs/cgroup']]);
  assert.ok(eperm[0]!.flags & MS.BIND && eperm[0]!.attrSet & MOUNT_ATTR.RDONLY);
  // `spec --rootless` binds the host's /sys (EBUSY): the container's own cgroup, as its namespace shows it.
  const rootless = withNs(['mount', 'pid', 'uts', 'user', 'cgroup']);
  rootless.mounts = rootless.mounts!.map((m) => (m.type === 'sysfs' ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'ro'] } : m));
  assert.deepEqual(cgMount(rootless, { cgroup2Path: '/sys/fs/cgroup/alice/web' }).map((m) => [m.kind, m.source]), [['bind', '/sys/fs/cgroup/alice/web']]);
  assert.deepEqual(cgMount(rootless).map((m) => [m.kind, m.source]), [['bind', '/sys/fs/cgroup']], 'no cgroup of its own: the host tree');
});

test('rootfsPropagation: rshared keeps the host peer groups for /, as runc; the default and rslave make it rslave', () => {
  const prop = (v: string | undefined) => {
    const s = fixture('runc-default.json');
    (s.linux as { rootfsPropagation?: string }).rootfsPropagation = v;
    const p = compilePlan(s, opts);
    return [p.rootPropagation, p.rootfsPropagation];
  };
  assert.deepEqual(prop(undefined), [MS.SLAVE | MS.REC, 0]);
  assert.deepEqual(prop('rshared'), [MS.SHARED | MS.REC, MS.SHARED | MS.REC]);
  assert.deepEqual(prop('rslave'), [MS.SLAVE | MS.REC, MS.SLAVE | MS.REC]);
  assert.deepEqual(prop('rprivate'), [MS.PRIVATE | MS.REC, MS.PRIVATE | MS.REC]);
});

test('a read-only /dev tmpfs is mounted read-write and made read-only after the devices (runc finalizeRootfs)', () => {
  const spec = fixture('runc-default.json');
  spec.mounts = spec.mounts!.map((m) => (m.destination === '/dev' ? { ...m, options: [...(m.options ?? []), 'ro'] } : m));
  const p = compilePlan(spec, opts);
  const dev = p.mounts.find((m) => m.destination === '/dev')!;
  assert.equal(dev.flags & MS.RDONLY, 0, '/dev is writable while devices and symlinks go in');
  assert.equal(p.readonlyDev, true);
  assert.equal(compilePlan(fixture('runc-default.json'), opts).readonlyDev, false);
});
