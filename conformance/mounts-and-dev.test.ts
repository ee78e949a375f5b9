// Conformance: the filesystem view — default and custom mounts, read-only root, masked and read-only
// paths, /dev defaults and linux.devices — read from mountinfo and by opening files inside, for keel and runc.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Conformance, type Runtime } from './lib/runtime';
import { mountAt, parseMountinfo, parseReport, type MountEntry } from './lib/probe';

const h = new Conformance('mounts');

function mounts(rt: Runtime, edit?: Parameters<typeof h.bundle>[1]): MountEntry[] {
  const r = h.run(rt, h.bundle(rt, edit));
  assert.equal(r.code, 0, r.stderr);
  return parseMountinfo(parseReport(r.stdout).mountinfo);
}

function sh(rt: Runtime, script: string, edit?: Parameters<typeof h.bundle>[1]): string {
  const r = h.run(rt, h.bundle(rt, (c) => {
    edit?.(c);
    c.process!.args = ['sh', '-c', script];
  }));
  assert.equal(r.code, 0, `${script}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

h.scenario('default mounts: proc, dev tmpfs, devpts, shm, mqueue, sysfs ro, cgroup ro', (rt) => {
  const m = mounts(rt);
  const expect: [string, string, string[]][] = [
    ['/proc', 'proc', []],
    ['/dev', 'tmpfs', ['nosuid']],
    ['/dev/pts', 'devpts', ['nosuid', 'noexec']],
    ['/dev/shm', 'tmpfs', ['nosuid', 'noexec', 'nodev']],
    ['/dev/mqueue', 'mqueue', ['nosuid', 'noexec', 'nodev']],
    ['/sys', 'sysfs', ['ro', 'nosuid', 'noexec', 'nodev']],
  ];
  for (const [mp, type, opts] of expect) {
    const e = mountAt(m, mp);
    assert.ok(e, `${mp} mounted`);
    assert.equal(e.fsType, type, mp);
    for (const o of opts) assert.ok(e.options.includes(o), `${mp} has ${o}: ${e.options}`);
  }
  assert.ok(mountAt(m, '/dev/pts')!.superOptions.includes('gid=5'), 'devpts gid=5');
  assert.ok(mountAt(m, '/dev/pts')!.superOptions.includes('mode=620'), 'devpts mode=620');
  assert.ok(mountAt(m, '/dev/pts')!.superOptions.includes('ptmxmode=666'), 'devpts ptmxmode=666');
  assert.ok(mountAt(m, '/dev/shm')!.superOptions.includes('size=65536k'));
  // /sys/fs/cgroup is a tree of read-only cgroup mounts (v1) or one cgroup2 mount.
  const cg = m.filter((e) => e.mountPoint === '/sys/fs/cgroup' || e.mountPoint.startsWith('/sys/fs/cgroup/'));
  assert.ok(cg.length > 0, '/sys/fs/cgroup mounted');
  for (const e of cg.filter((x) => /^cgroup2?$/.test(x.fsType))) assert.ok(e.options.includes('ro'), `${e.mountPoint} ro`);
  assert.equal(mountAt(m, '/')!.options.includes('ro'), false, 'root is writable by default');
});

const cgroupV1Host = fs.statfsSync('/sys/fs/cgroup').type !== 0x63677270;

h.scenario(
  'cgroup v1: /sys/fs/cgroup shows only the container\'s own cgroup of each hierarchy, read-only',
  (rt) => {
    // From inside: every hierarchy is a read-only bind whose root is the container's cgroup, whose
    // cgroup.procs lists only the container's processes; the tmpfs under them is read-only too.
    const out = sh(
      rt,
      'cat /sys/fs/cgroup/pids/cgroup.procs; echo --; cat /proc/self/mountinfo; echo --; touch /sys/fs/cgroup/x 2>&1; ls /sys/fs/cgroup',
      (c) => (c.linux!.cgroupsPath = `/keel-conf-${process.pid}-${rt.name}-${++seq}`), // a leaf only: delete removes it
    );
    const [procs, info, rest] = out.split('--\n');
    assert.ok(procs!.trim().split('\n').includes('1'), `the container's pid 1 is in the pids cgroup it sees: ${procs}`);
    const m = parseMountinfo(info!);
    const root = mountAt(m, '/sys/fs/cgroup');
    assert.equal(root?.fsType, 'tmpfs');
    // runc 1.1.5 leaves this tmpfs writable (seen here: rw,nosuid,nodev,noexec); keel makes it
    // read-only as the mount's "ro" asks, so nothing can be created beside the hierarchies.
    if (rt.name === 'keel') assert.ok(root!.options.includes('ro'), `tmpfs ro: ${root!.options}`);
    for (const name of ['pids', 'memory', 'devices', 'freezer']) {
      const e = mountAt(m, `/sys/fs/cgroup/${name}`);
      assert.ok(e, `${name} mounted`);
      assert.ok(e.options.includes('ro'), `${name} ro`);
      assert.match(e.root, new RegExp(`/keel-conf-${process.pid}-${rt.name}-\\d+$`), `${name} shows the container's cgroup, not the host's tree`);
    }
    if (rt.name === 'keel') assert.match(rest!, /Read-only file system/);
    assert.match(rest!, /^pids$/m);
  },
  () => (cgroupV1Host ? undefined : 'the host is cgroup v2: the mount is cgroup2 (tested in the cgv2 VM)'),
);
let seq = 0;

h.scenario('custom tmpfs with size and mode, bind mounts ro and rw', (rt) => {
  const ro = h.scratch('ro');
  const rw = h.scratch('rw');
  fs.writeFileSync(path.join(ro, 'hello'), 'from-host\n');
  const b = h.bundle(rt, (c) => {
    c.mounts!.push(
      { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=1m', 'mode=750'] },
      { destination: '/ro', type: 'bind', source: ro, options: ['rbind', 'ro'] },
      { destination: '/rw', type: 'bind', source: rw, options: ['rbind', 'rw'] },
    );
    c.process!.args = [
      'sh',
      '-c',
      'stat -c "%a" /scratch; cat /ro/hello; /probe write /ro/new x; /probe write /ro/hello x; echo from-container > /rw/made && echo rw-ok; /probe report',
    ];
  });
  // /probe write on a missing file opens O_WRONLY without O_CREAT: ENOENT is the fs answer, EROFS for the existing one.
  const r = h.run(rt, b);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.deepEqual(lines.slice(0, 5), ['750', 'from-host', 'ENOENT', 'EROFS', 'rw-ok']);
  assert.equal(fs.readFileSync(path.join(rw, 'made'), 'utf8'), 'from-container\n');
  const m = parseMountinfo(parseReport(r.stdout).mountinfo);
  const t = mountAt(m, '/scratch')!;
  assert.equal(t.fsType, 'tmpfs');
  assert.ok(t.superOptions.includes('size=1024k'), t.superOptions.join(','));
  assert.ok(t.superOptions.includes('mode=750'), t.superOptions.join(','));
  assert.ok(t.options.includes('nosuid') && t.options.includes('nodev'), t.options.join(','));
  assert.ok(mountAt(m, '/ro')!.options.includes('ro'));
  assert.ok(mountAt(m, '/rw')!.options.includes('rw'));
});

h.scenario('a bind mount of a single file', (rt) => {
  const src = path.join(h.scratch('file'), 'hosts');
  fs.writeFileSync(src, '10.0.0.1 conformance\n');
  const out = sh(rt, 'cat /etc/hosts', (c) => c.mounts!.push({ destination: '/etc/hosts', type: 'bind', source: src, options: ['bind', 'ro'] }));
  assert.equal(out, '10.0.0.1 conformance\n');
});

h.scenario('read-only root: writes fail, mounted tmpfs stays writable', (rt) => {
  const out = sh(
    rt,
    'touch /newfile 2>&1 || echo root-ro; touch /dev/shm/x && echo shm-rw; awk \'$5 == "/" { o = $6 } END { print o }\' /proc/self/mountinfo',
    (c) => (c.root!.readonly = true),
  );
  const lines = out.trim().split('\n');
  assert.match(lines[0]!, /Read-only file system/);
  assert.deepEqual(lines.slice(1, 3), ['root-ro', 'shm-rw']);
  assert.ok(lines[3]!.split(',').includes('ro'), `root mount options ${lines[3]}`);
});

h.scenario('masked paths: /proc/kcore reads empty, masked dirs are empty, /sys/firmware hidden', (rt) => {
  const out = sh(rt, '/probe read /proc/kcore; /probe read /proc/keys; ls -A /proc/scsi 2>/dev/null | wc -l; ls -A /sys/firmware | wc -l');
  const [kcore, keys, scsi, firmware] = out.trim().split('\n');
  assert.equal(kcore, fs.existsSync('/proc/kcore') ? '0' : 'ENOENT', '/proc/kcore is /dev/null where the kernel has it');
  assert.equal(keys, '0', '/proc/keys is /dev/null');
  assert.equal(scsi, '0');
  assert.equal(firmware, '0');
});

h.scenario('masked paths are the bundle\'s: an unmasked path stays readable', (rt) => {
  const out = sh(rt, '/probe read /proc/keys', (c) => (c.linux!.maskedPaths = ['/proc/kcore']));
  assert.match(out.trim(), /^[1-9]\d*$/, '/proc/keys has content when the bundle does not mask it');
});

h.scenario('readonly paths: /proc/sys (and /proc/sysrq-trigger, bus, fs, irq where present) are read-only', (rt) => {
  const r = h.run(rt, h.bundle(rt, (c) => (c.process!.args = ['sh', '-c', '/probe write /proc/sys/kernel/hostname hacked; hostname; /probe report'])));
  assert.equal(r.code, 0, r.stderr);
  const [res, host] = r.stdout.split('\n');
  assert.equal(res, 'EROFS');
  assert.equal(host, 'conformance');
  const m = parseMountinfo(parseReport(r.stdout).mountinfo);
  for (const p of ['/proc/sys', '/proc/sysrq-trigger', '/proc/bus', '/proc/fs', '/proc/irq']) {
    if (!fs.existsSync(p)) continue; // e.g. no /proc/sysrq-trigger without CONFIG_MAGIC_SYSRQ: nothing to protect
    const e = mountAt(m, p);
    assert.ok(e, `${p} mounted`);
    assert.ok(e.options.includes('ro'), `${p} ro: ${e.options}`);
  }
});

h.scenario('/dev defaults: device nodes, ptmx, pts, shm, fd links', (rt) => {
  const out = sh(
    rt,
    'for d in null zero full random urandom tty; do stat -c "%n %F %t:%T %a" /dev/$d; done; ' +
      'for l in ptmx fd stdin stdout stderr; do echo "/dev/$l -> $(readlink /dev/$l)"; done; ' +
      'stat -c "%n %F" /dev/pts /dev/shm /dev/pts/ptmx',
  );
  assert.deepEqual(out.trim().split('\n'), [
    '/dev/null character special file 1:3 666',
    '/dev/zero character special file 1:5 666',
    '/dev/full character special file 1:7 666',
    '/dev/random character special file 1:8 666',
    '/dev/urandom character special file 1:9 666',
    '/dev/tty character special file 5:0 666',
    '/dev/ptmx -> pts/ptmx',
    '/dev/fd -> /proc/self/fd',
    '/dev/stdin -> /proc/self/fd/0',
    '/dev/stdout -> /proc/self/fd/1',
    '/dev/stderr -> /proc/self/fd/2',
    '/dev/pts directory',
    '/dev/shm directory',
    '/dev/pts/ptmx character special file',
  ]);
});

h.scenario('/dev defaults work: null swallows, zero reads zeros, full says ENOSPC', (rt) => {
  const out = sh(rt, 'echo x > /dev/null && echo null-ok; head -c 4 /dev/zero | od -An -tx1 | tr -d " "; /probe write /dev/full x; head -c 8 /dev/urandom | wc -c');
  assert.deepEqual(out.trim().split('\n'), ['null-ok', '00000000', 'ENOSPC', '8']);
});

h.scenario('linux.devices: node with major:minor, mode and owner; cgroup rules decide access', (rt) => {
  const out = sh(
    rt,
    'stat -c "%n %F %t:%T %a %u:%g" /dev/myfull /dev/mymem; /probe write /dev/myfull x; /probe open /dev/mymem',
    (c) => {
      c.linux!.devices = [
        { path: '/dev/myfull', type: 'c', major: 1, minor: 7, fileMode: 0o606, uid: 1000, gid: 1001 },
        { path: '/dev/mymem', type: 'c', major: 1, minor: 1, fileMode: 0o600, uid: 0, gid: 0 },
      ];
      // Allow only the first: the second exists as a node but the device cgroup refuses to open it.
      c.linux!.resources!.devices!.push({ allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' });
    },
  );
  assert.deepEqual(out.trim().split('\n'), [
    '/dev/myfull character special file 1:7 606 1000:1001',
    '/dev/mymem character special file 1:1 600 0:0',
    'ENOSPC',
    'EPERM',
  ]);
});

h.scenario('a default device the cgroup does not allow is unusable even with a node', (rt) => {
  // /dev/tty (5:0) is a default node and allowed by default; /dev/fuse-like 10:229 is neither.
  const out = sh(rt, '/probe open /dev/mine', (c) => {
    c.linux!.devices = [{ path: '/dev/mine', type: 'c', major: 10, minor: 229, fileMode: 0o666 }];
  });
  assert.equal(out.trim(), 'EPERM');
});

h.finish();
