// Mount-target attacks (runtime-interfaces.md §7): symlinked mount destinations (CVE-2021-30465,
// CVE-2024-45310), symlinked /proc and /sys (CVE-2019-19921 family, CVE-2019-16884), /dev/null
// replaced by a symlink or another file before masking (CVE-2025-31133), /dev/console
// (CVE-2025-52565) and redirected procfs writes (CVE-2025-52881). The races are won
// deterministically by a createContainer hook, which runs in the container's mount namespace after
// the mounts and devices and before pivot_root, masking, sysctls and the console.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { realShimSys, realSys } from '../../src/native';
import type { Spec } from '../../spec/types/runtime';
import { cgroupDirsNamed, cleanupTemplate, makeBundle, mountsUnder } from '../helpers/bundle';
import { errorMessage, isRoot, keel, run, tempDir, which } from '../helpers/keel';
import { hasStackTrace, installAttacker } from './lib/attacker';

const skip = !isRoot && 'needs root';
const tmp = tempDir('keel-mnt-');
const root = path.join(tmp.dir, 'root');
let n = 0;
const uid = () => `smnt-${process.pid}-${++n}`;
const k = (args: string[]) => keel(['--root', root, ...args]);

after(() => {
  for (const id of k(['list', '-q']).stdout.split('\n').filter(Boolean)) k(['delete', '--force', id]);
  cleanupTemplate();
  tmp.cleanup();
});

function bundle(edit: (s: Spec, b: string) => void): string {
  const dir = fs.mkdtempSync(path.join(tmp.dir, 'b-'));
  const b = makeBundle(dir, (s) => edit(s, dir));
  installAttacker(path.join(b, 'rootfs'));
  return b;
}

/** A createContainer hook running `script` (sh) with $R = the rootfs as seen before pivot_root. */
function hook(s: Spec, b: string, script: string): void {
  s.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `R=${b}/rootfs; ${script}`] }] };
}

/** `keel run` must fail with exit 1, one clear message, no stack trace, and leave nothing behind. */
function refused(b: string, msg: RegExp): string {
  const id = uid();
  const r = k(['run', '--bundle', b, id]);
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  assert.match(errorMessage(r), msg);
  assert.ok(!hasStackTrace(r.stderr), r.stderr);
  assert.match(k(['state', id]).stderr, /does not exist/);
  assert.deepEqual(cgroupDirsNamed(id), []);
  assert.deepEqual(mountsUnder(b), []);
  return errorMessage(r);
}

test('/dev/null swapped for a symlink to core_pattern before masking: refused, core_pattern untouched (CVE-2025-31133)', { skip }, () => {
  const corePattern = fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
  const b = bundle((s, d) => {
    s.process!.args = ['sh', '-c', 'echo "|/bin/pwned" > /proc/kcore; cat /proc/kcore'];
    hook(s, d, 'rm $R/dev/null && ln -s /proc/sys/kernel/core_pattern $R/dev/null');
  });
  refused(b, /\/dev\/null/);
  assert.equal(fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8'), corePattern);
});

test('/dev/null swapped for a regular file or another device before masking: refused (CVE-2025-31133)', { skip }, () => {
  for (const swap of ['rm $R/dev/null && echo SECRET > $R/dev/null', 'rm $R/dev/null && mknod -m 666 $R/dev/null c 1 5', 'rm $R/dev/null && mkdir $R/dev/null']) {
    const b = bundle((s, d) => {
      s.process!.args = ['cat', '/proc/kcore'];
      hook(s, d, swap);
    });
    refused(b, /\/dev\/null/);
  }
});

test('/proc and /sys mount destinations that are symlinks are refused (CVE-2019-19921, CVE-2019-16884)', { skip }, () => {
  for (const dest of ['proc', 'sys']) {
    for (const target of ['/tmp/fake', `${tmp.dir}/host-${dest}`, '..']) {
      const b = bundle((s) => (s.process!.args = ['true']));
      fs.rmSync(path.join(b, 'rootfs', dest), { recursive: true });
      fs.mkdirSync(path.join(b, 'rootfs', 'tmp', 'fake'), { recursive: true });
      fs.symlinkSync(target, path.join(b, 'rootfs', dest));
      refused(b, new RegExp(`/${dest}`));
      assert.ok(!fs.existsSync(`${tmp.dir}/host-${dest}`), 'nothing made on the host');
    }
  }
});

test('a symlinked mount destination resolves inside the rootfs; nothing is created on the host (CVE-2021-30465, CVE-2024-45310)', { skip }, () => {
  // The same directory exists on the host and in the rootfs: a host-side resolution would create
  // and mount on the host's copy.
  const marker = path.join('/tmp', `keel-escape-${process.pid}`);
  const dangling = path.join('/tmp', `keel-escape-${process.pid}-dangling`);
  fs.mkdirSync(marker, { recursive: true });
  const b = bundle((s) => {
    s.process!.args = ['cat', '/proc/self/mountinfo'];
    s.mounts!.push({ destination: '/evil/sub', type: 'tmpfs', source: 'tmpfs', options: ['size=64k'] });
    s.mounts!.push({ destination: '/evil2/x', type: 'tmpfs', source: 'tmpfs', options: ['size=64k'] });
  });
  fs.mkdirSync(path.join(b, 'rootfs', marker), { recursive: true });
  fs.symlinkSync(`../../../../../../../..${marker}`, path.join(b, 'rootfs', 'evil'));
  fs.symlinkSync('/etc', path.join(b, 'rootfs', 'evil2'));
  const id = uid();
  try {
    const r = k(['run', '--bundle', b, id]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(fs.readdirSync(marker), [], 'the host directory is untouched');
    assert.ok(fs.statSync(path.join(b, 'rootfs', marker, 'sub')).isDirectory(), 'sub created inside the rootfs');
    const points = r.stdout.split('\n').map((l) => l.split(' ')[4]);
    assert.ok(points.includes(`${marker}/sub`), 'the tmpfs is on the in-root resolution of /evil/sub');
    assert.ok(points.includes('/etc/x'), 'an absolute symlink is resolved against the container root');

    // A dangling escape: either refused or created inside the rootfs, never on the host.
    const b2 = bundle((s) => {
      s.process!.args = ['true'];
      s.mounts!.push({ destination: '/evil/sub', type: 'tmpfs', source: 'tmpfs', options: ['size=64k'] });
    });
    fs.symlinkSync(`../../../../../../../..${dangling}`, path.join(b2, 'rootfs', 'evil'));
    const id2 = uid();
    const r2 = k(['run', '--bundle', b2, id2]);
    assert.ok(r2.code === 0 || r2.code === 1, r2.stderr);
    assert.ok(!hasStackTrace(r2.stderr), r2.stderr);
    assert.ok(!fs.existsSync(dangling), `${dangling} must not be created on the host`);
    assert.match(k(['state', id2]).stderr, /does not exist/);
  } finally {
    fs.rmSync(marker, { recursive: true, force: true });
    fs.rmSync(dangling, { recursive: true, force: true });
  }
});

test('a procfs file bind-mounted over a sysctl target is not written through (CVE-2025-52881)', { skip }, () => {
  const decoy = path.join(tmp.dir, 'decoy');
  fs.writeFileSync(decoy, 'decoy\n');
  const b = bundle((s, d) => {
    s.process!.args = ['cat', '/proc/sys/net/ipv4/ip_default_ttl'];
    s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
    // A regular host file, then a different procfs file, in place of the sysctl's file.
    hook(s, d, `mount --bind ${decoy} $R/proc/sys/net/ipv4/ip_forward`);
  });
  const msg = refused(b, /ip_forward|sysctl/);
  assert.equal(fs.readFileSync(decoy, 'utf8'), 'decoy\n', `decoy untouched (${msg})`);
  const b2 = bundle((s, d) => {
    s.process!.args = ['cat', '/proc/sys/net/ipv4/ip_default_ttl'];
    s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
    hook(s, d, 'mount --bind $R/proc/sys/net/ipv4/ip_default_ttl $R/proc/sys/net/ipv4/ip_forward');
  });
  refused(b2, /ip_forward|sysctl/);
});

test('/dev/console planted as a symlink is never followed; the console is the pty peer (CVE-2025-52565)', { skip }, () => {
  const sockPath = path.join(tmp.dir, `console-${++n}.sock`);
  const l = realShimSys.unixListen(sockPath, 4);
  const receive = (): number => {
    const c = realShimSys.accept(l);
    if (c < 0) return -1;
    try {
      return realSys.recvMsg(c, 4096, 5000).fd;
    } finally {
      fs.closeSync(c);
    }
  };
  const create = (planted: boolean): { id: string; r: ReturnType<typeof k>; pidFile: string } => {
    const b = bundle((s, d) => {
      s.process!.terminal = true;
      s.process!.args = ['sleep', '600'];
      if (planted) hook(s, d, 'echo VICTIM > $R/victim; ln -s /victim $R/dev/console');
    });
    const id = uid();
    const pidFile = path.join(tmp.dir, `${id}.pid`);
    const r = k(['create', '--bundle', b, '--console-socket', sockPath, '--pid-file', pidFile, id]);
    const master = receive();
    if (master >= 0) fs.closeSync(master);
    assert.ok(!hasStackTrace(r.stderr), r.stderr);
    return { id, r, pidFile };
  };
  try {
    // Control: without the planted symlink the console works (else this test proves nothing).
    const c = create(false);
    assert.equal(c.r.code, 0, c.r.stderr);
    const cpid = fs.readFileSync(c.pidFile, 'utf8');
    assert.ok(fs.statSync(`/proc/${cpid}/root/dev/console`).isCharacterDevice());
    k(['delete', '--force', c.id]);

    const { id, r, pidFile } = create(true);
    if (r.code !== 0) {
      assert.equal(r.code, 1);
      assert.match(errorMessage(r), /console/);
      assert.match(k(['state', id]).stderr, /does not exist/);
      return;
    }
    // Created: /dev/console must be the pty, and /victim must still be the planted file.
    const pid = fs.readFileSync(pidFile, 'utf8');
    assert.ok(fs.statSync(`/proc/${pid}/root/dev/console`).isCharacterDevice(), '/dev/console is a character device');
    assert.equal(fs.readFileSync(`/proc/${pid}/root/victim`, 'utf8'), 'VICTIM\n', '/victim not covered by the pty');
    k(['delete', '--force', id]);
  } finally {
    fs.closeSync(l);
  }
});

test('runc 1.1.5 (comparison): also refuses a symlinked /proc destination', { skip: skip || (!which('runc') && 'runc not installed') }, () => {
  const b = bundle((s) => (s.process!.args = ['true']));
  fs.rmSync(path.join(b, 'rootfs', 'proc'), { recursive: true });
  fs.symlinkSync('/tmp', path.join(b, 'rootfs', 'proc'));
  const r = run(which('runc')!, ['--root', path.join(tmp.dir, 'runc-root'), 'run', '--bundle', b, uid()]);
  assert.notEqual(r.code, 0, r.stderr);
});
