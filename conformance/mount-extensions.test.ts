// Conformance: id-mapped bind mounts (config.md "Mounts": uidMappings/gidMappings, idmap, ridmap)
// and tmpcopyup (runc's extension), for keel, runc and crun. runc 1.1 predates id-mapped mounts, so
// crun is the reference there; crun 1.8 predates ridmap.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Mount, Spec } from '../spec/types/runtime';
import { Conformance, type Runtime } from './lib/runtime';
import { mountAt, parseMountinfo, parseReport } from './lib/probe';

const h = new Conformance('mountext', { crun: true });

const noIdmapRunc = h.runcBefore(1, 2, 'id-mapped mounts');
const CONTAINER_MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];

function mount(...args: string[]): void {
  const r = spawnSync('mount', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount ${args.join(' ')}: ${r.stderr}`);
}

function umount(target: string): void {
  spawnSync('umount', ['-l', target]);
}

/**
 * Whether dir's filesystem takes id-mapped mounts (ext4, xfs, btrfs, tmpfs since 6.3 do), probed
 * with util-linux's X-mount.idmap on a throwaway bind.
 */
function idmapWorksOn(dir: string): boolean {
  const probe = fs.mkdtempSync(path.join(dir, '.idmap-probe-'));
  const target = `${probe}-mnt`;
  fs.mkdirSync(target);
  try {
    const r = spawnSync('mount', ['--bind', '-o', 'X-mount.idmap=0:100000:1', probe, target], { encoding: 'utf8' });
    if (r.status !== 0) return false;
    umount(target);
    return true;
  } finally {
    fs.rmdirSync(target);
    fs.rmdirSync(probe);
  }
}

/**
 * A scratch directory on a filesystem that supports id-mapped mounts: the temp dir's own, else a
 * tmpfs mounted on it (returned in `mounted` so the scenario unmounts it).
 */
function idmapScratch(name: string, mounted: string[]): string {
  const d = h.scratch(name);
  if (!idmapWorksOn(d)) {
    mount('-t', 'tmpfs', '-o', 'mode=755', 'tmpfs', d);
    mounted.push(d);
  }
  return d;
}

/** A host directory owned by host root with one file, f, also host root's. */
function rootOwnedDir(name: string, mounted: string[]): string {
  const d = idmapScratch(name, mounted);
  fs.chownSync(d, 0, 0);
  fs.chmodSync(d, 0o755);
  fs.writeFileSync(path.join(d, 'f'), 'host file\n');
  fs.chownSync(path.join(d, 'f'), 0, 0);
  return d;
}

/** A bundle in a user namespace (container 0 → host 100000, 65536 ids) running `sh -c script`. */
function usernsBundle(rt: Runtime, script: string, mounts: Mount[]) {
  const b = h.bundle(rt, (c: Spec) => {
    c.linux!.namespaces!.push({ type: 'user' });
    c.linux!.uidMappings = CONTAINER_MAP;
    c.linux!.gidMappings = CONTAINER_MAP;
    // The host's cgroupfs cannot be mounted from a user namespace (as in namespaces.test.ts).
    c.mounts = c.mounts!.filter((m) => m.destination !== '/sys/fs/cgroup');
    c.mounts.push(...mounts);
    c.process!.args = ['sh', '-c', script];
  });
  // Container root (host 100000) cannot create mount points in a rootfs owned by host root.
  for (const m of mounts) fs.mkdirSync(path.join(b.dir, 'rootfs', m.destination), { recursive: true });
  return b;
}

function runOk(rt: Runtime, b: ReturnType<typeof usernsBundle>): string[] {
  const r = h.run(rt, b);
  assert.equal(r.code, 0, `${rt.name} run: ${r.stderr}${r.stdout}`);
  return r.stdout.trim().split('\n');
}

h.scenario(
  'idmap: the mount mapping shows host root as root inside a user namespace; new files are host root',
  (rt) => {
    const mounted: string[] = [];
    try {
      const src = rootOwnedDir('idmap', mounted);
      const b = usernsBundle(rt, 'stat -c %u:%g /idm/f /plain/f; echo inside > /idm/new && stat -c %u:%g /idm/new', [
        { destination: '/idm', type: 'bind', source: src, options: ['bind', 'idmap'], uidMappings: CONTAINER_MAP, gidMappings: CONTAINER_MAP },
        { destination: '/plain', type: 'bind', source: src, options: ['bind', 'ro'] },
      ]);
      const overflow = fs.readFileSync('/proc/sys/kernel/overflowuid', 'utf8').trim();
      const overflowg = fs.readFileSync('/proc/sys/kernel/overflowgid', 'utf8').trim();
      // Through the id-mapped mount host 0 is container 0; the plain bind shows the overflow ids.
      assert.deepEqual(runOk(rt, b), ['0:0', `${overflow}:${overflowg}`, '0:0']);
      const st = fs.statSync(path.join(src, 'new'));
      assert.deepEqual([st.uid, st.gid], [0, 0], 'a file container root made through the id-mapped mount belongs to host root');
      assert.equal(fs.readFileSync(path.join(src, 'new'), 'utf8'), 'inside\n');
    } finally {
      for (const m of mounted.reverse()) umount(m);
    }
  },
  noIdmapRunc,
);

h.scenario(
  'idmap without mappings takes the container user namespace mapping',
  (rt) => {
    const mounted: string[] = [];
    try {
      const src = rootOwnedDir('idmap-ns', mounted);
      const b = usernsBundle(rt, 'stat -c %u:%g /idm/f', [{ destination: '/idm', type: 'bind', source: src, options: ['rbind', 'idmap'] }]);
      assert.deepEqual(runOk(rt, b), ['0:0']);
    } finally {
      for (const m of mounted.reverse()) umount(m);
    }
  },
  noIdmapRunc,
);

h.scenario(
  'ridmap maps every mount of an rbind tree, idmap only its top',
  (rt) => {
    const mounted: string[] = [];
    try {
      const src = rootOwnedDir('ridmap', mounted);
      const sub = path.join(src, 'sub');
      fs.mkdirSync(sub);
      mount('-t', 'tmpfs', '-o', 'mode=755', 'tmpfs', sub);
      mounted.push(sub);
      fs.writeFileSync(path.join(sub, 'g'), 'on a submount\n');
      const maps = { uidMappings: CONTAINER_MAP, gidMappings: CONTAINER_MAP };
      const b = usernsBundle(rt, 'stat -c %u:%g /r/f /r/sub/g /t/f /t/sub/g', [
        { destination: '/r', type: 'bind', source: src, options: ['rbind', 'ridmap'], ...maps },
        { destination: '/t', type: 'bind', source: src, options: ['rbind', 'idmap'], ...maps },
      ]);
      const overflow = fs.readFileSync('/proc/sys/kernel/overflowuid', 'utf8').trim();
      const overflowg = fs.readFileSync('/proc/sys/kernel/overflowgid', 'utf8').trim();
      assert.deepEqual(runOk(rt, b), ['0:0', '0:0', '0:0', `${overflow}:${overflowg}`]);
    } finally {
      for (const m of mounted.reverse()) umount(m);
    }
  },
  (rt) => noIdmapRunc(rt) ?? h.before('crun', 1, 9, 'ridmap')(rt),
);

h.scenario('tmpcopyup: a tmpfs over /etc starts with its files, modes, owners and links; writes stay in the tmpfs', (rt) => {
  const b = h.bundle(rt, (c) => {
    c.mounts!.push(
      { destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'nosuid', 'nodev', 'size=1m'] },
      { destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'ro', 'nosuid'] },
    );
    c.process!.args = [
      'sh',
      '-c',
      [
        'head -1 /etc/passwd',
        'stat -c "%a %u:%g" /etc /etc/sub /etc/sub/deep/secret /etc/suid',
        'cat /etc/sub/deep/secret',
        'readlink /etc/link',
        'echo changed > /etc/passwd && echo new > /etc/added && cat /etc/passwd /etc/added',
        'cat /data/kept',
        '/probe write /data/kept x',
        '/probe report',
      ].join('; '),
    ];
  });
  const etc = path.join(b.dir, 'rootfs', 'etc');
  fs.chmodSync(etc, 0o751);
  fs.mkdirSync(path.join(etc, 'sub', 'deep'), { recursive: true });
  fs.chmodSync(path.join(etc, 'sub'), 0o711);
  fs.chownSync(path.join(etc, 'sub'), 12, 34);
  fs.writeFileSync(path.join(etc, 'sub', 'deep', 'secret'), 'deep\n');
  fs.chmodSync(path.join(etc, 'sub', 'deep', 'secret'), 0o604);
  fs.chownSync(path.join(etc, 'sub', 'deep', 'secret'), 123, 456);
  fs.writeFileSync(path.join(etc, 'suid'), '');
  fs.chownSync(path.join(etc, 'suid'), 7, 8);
  fs.chmodSync(path.join(etc, 'suid'), 0o4755);
  fs.symlinkSync('passwd', path.join(etc, 'link'));
  fs.mkdirSync(path.join(b.dir, 'rootfs', 'data'));
  fs.writeFileSync(path.join(b.dir, 'rootfs', 'data', 'kept'), 'kept\n');
  const before = fs.readFileSync(path.join(etc, 'passwd'), 'utf8');

  const r = h.run(rt, b);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.deepEqual(lines.slice(0, 11), [
    'root:x:0:0:root:/root:/bin/sh',
    // runc gives the tmpfs root the covered directory's mode (mountToRootfs); crun copies the
    // entries only and leaves the root as mounted.
    rt.name === 'crun' ? '1777 0:0' : '751 0:0',
    '711 12:34',
    '604 123:456',
    '4755 7:8',
    'deep',
    'passwd',
    'changed',
    'new',
    'kept',
    'EROFS',
  ]);
  const m = parseMountinfo(parseReport(r.stdout).mountinfo);
  assert.equal(mountAt(m, '/etc')?.fsType, 'tmpfs');
  assert.ok(mountAt(m, '/etc')!.superOptions.includes('size=1024k'), mountAt(m, '/etc')!.superOptions.join(','));
  assert.ok(mountAt(m, '/data')!.options.includes('ro'), 'the read-only copy-up tmpfs is read-only once filled');
  assert.equal(fs.readFileSync(path.join(etc, 'passwd'), 'utf8'), before, 'the rootfs /etc/passwd is untouched');
  assert.equal(fs.existsSync(path.join(etc, 'added')), false, 'nothing written inside reaches the rootfs');
});

h.finish();
