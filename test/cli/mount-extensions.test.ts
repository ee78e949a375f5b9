// Failures of id-mapped mounts and tmpcopyup through bin/keel, as root: the one error line names the
// mount and the cause, and nothing is left behind (container, mount, user-namespace holder process).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { cleanupTemplate, makeBundle, mountsUnder } from '../helpers/bundle';
import { errorMessage, isRoot, keel, tempDir } from '../helpers/keel';
import type { Spec } from '../../spec/types/runtime';

const skip = !isRoot && 'needs root';
const tmp = tempDir('keel-mntext-');
const root = path.join(tmp.dir, 'root');
let n = 0;
const k = (args: string[]) => keel(['--root', root, ...args]);
const MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];

after(() => {
  for (const id of k(['list', '-q']).stdout.split('\n').filter(Boolean)) k(['delete', '--force', id]);
  cleanupTemplate();
  tmp.cleanup();
});

/** Processes named like keel's user-namespace holder (rt:userns), anywhere on the host. */
function holders(): string[] {
  return fs.readdirSync('/proc').filter((p) => {
    try {
      return /^\d+$/.test(p) && fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'rt:userns';
    } catch {
      return false;
    }
  });
}

/** `keel run` of a bundle that must fail; returns the error line, after checking nothing is left. */
function runFails(edit: (s: Spec) => void, prepare?: (rootfs: string) => void): string {
  const dir = makeBundle(fs.mkdtempSync(path.join(tmp.dir, 'b-')), (s) => {
    s.process!.args = ['true'];
    edit(s);
  });
  prepare?.(path.join(dir, 'rootfs'));
  const id = `mntext-${process.pid}-${++n}`;
  const r = k(['run', '--bundle', dir, id]);
  assert.equal(r.code, 1, `run should fail: ${r.stdout}${r.stderr}`);
  assert.deepEqual(k(['list', '-q']).stdout.trim(), '', 'no container left');
  assert.deepEqual(mountsUnder(tmp.dir), [], 'no mounts left');
  assert.deepEqual(holders(), [], 'no user-namespace holder left');
  return errorMessage(r);
}

function usernsMounts(s: Spec, mounts: NonNullable<Spec['mounts']>): void {
  s.linux!.namespaces!.push({ type: 'user' });
  s.linux!.uidMappings = MAP;
  s.linux!.gidMappings = MAP;
  s.mounts = s.mounts!.filter((m) => m.destination !== '/sys/fs/cgroup').concat(mounts);
}

test('idmap of a missing source: the error names the mount and open_tree', { skip }, () => {
  const missing = path.join(tmp.dir, 'missing');
  const msg = runFails((s) => usernsMounts(s, [{ destination: '/data', type: 'bind', source: missing, options: ['bind', 'idmap'] }]));
  assert.match(msg, new RegExp(`mount ${missing} on /data: open_tree ${missing}: ENOENT`));
});

test('idmap on a filesystem without id-mapped mount support says so', { skip }, () => {
  // sysfs does not set FS_ALLOW_IDMAP: mount_setattr answers EINVAL.
  const msg = runFails((s) => usernsMounts(s, [{ destination: '/data', type: 'bind', source: '/sys/kernel', options: ['rbind', 'idmap'] }]));
  assert.match(msg, /mount \/sys\/kernel on \/data: mount_setattr: EINVAL \(the filesystem may not support id-mapped mounts\)/);
});

test('idmap without mappings and without a user namespace is refused before anything runs', { skip }, () => {
  const msg = runFails((s) => s.mounts!.push({ destination: '/data', type: 'bind', source: tmp.dir, options: ['bind', 'idmap'] }));
  assert.match(msg, /mount \/data: idmap without uidMappings and gidMappings needs a user namespace/);
});

test('tmpcopyup of a tree deeper than the child copies is a named child error', { skip }, () => {
  const msg = runFails(
    (s) => s.mounts!.push({ destination: '/deep', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] }),
    (rootfs) => fs.mkdirSync(path.join(rootfs, 'deep', ...Array.from({ length: 40 }, (_, i) => `d${i}`)), { recursive: true }),
  );
  assert.match(msg, /mount tmpfs on \/deep \(tmpcopyup\): tmpcopyup: directory tree deeper than 32 levels/);
});

test('tmpcopyup copies symlinks as symlinks and never follows one out of the rootfs', { skip }, () => {
  const secret = path.join(tmp.dir, 'host-secret');
  fs.writeFileSync(secret, 'host only\n');
  const dir = makeBundle(fs.mkdtempSync(path.join(tmp.dir, 'b-')), (s) => {
    s.mounts!.push({ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] });
    s.process!.args = ['sh', '-c', 'readlink /etc/escape; readlink /etc/up; cat /etc/escape 2>&1; ls /etc/up/ | grep -c . ; ls /etc | grep -c .'];
  });
  const etc = path.join(dir, 'rootfs', 'etc');
  fs.symlinkSync(secret, path.join(etc, 'escape'));
  fs.symlinkSync('../../../../../../', path.join(etc, 'up'));
  const entries = fs.readdirSync(etc).length;
  const r = k(['run', '--bundle', dir, `mntext-${process.pid}-${++n}`]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(lines.slice(0, 3), [secret, '../../../../../../', `cat: can't open '/etc/escape': No such file or directory`]);
  // /etc/up resolves to the container's own / (the rootfs entries), and /etc holds the copies only.
  assert.equal(Number(lines[3]), fs.readdirSync(path.join(dir, 'rootfs')).length);
  assert.equal(Number(lines[4]), entries);
});
