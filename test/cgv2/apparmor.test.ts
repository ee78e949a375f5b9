// process.apparmorProfile and `exec --apparmor` on a kernel with AppArmor, run inside
// ../shared/vm/cgv2-run by test/cgv2/run.sh (its Debian cloud kernel enables AppArmor by default;
// skipped on hosts without it). A test profile that allows everything but reading one file and
// writing under one directory is loaded with apparmor_parser; the same actions are tried with and
// without it, from `run` and from `exec`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { cleanupTemplate, makeBundle } from '../helpers/bundle';
import { errorMessage, keel, tempDir, which } from '../helpers/keel';

const enabled = (() => {
  try {
    return fs.readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    return false;
  }
})();
const parser = which('apparmor_parser');
// run.sh moves the VM's chrooted / onto the mount namespace root first, so AppArmor names the
// container's files from its own root (/keel-secret), as on any host that boots without a chroot.
const skip = !enabled ? 'AppArmor is not enabled in this kernel (runs in the cgv2 VM)' : !parser ? 'apparmor_parser missing (apt-get install apparmor)' : false;

const profile = `keel-test-${process.pid}`;
const tmp = tempDir('keel-aa-');
const root = path.join(tmp.dir, 'root');
const profileFile = path.join(tmp.dir, 'profile');
const securityfs = '/sys/kernel/security';
let mountedSecurityfs = false;
let loaded = false;
let n = 0;
const k = (args: string[]) => keel(['--root', root, ...args], { timeout: 300_000 });
const id = () => `aa-${process.pid}-${++n}`;

// Reads /keel-secret, writes under /keel-ro, and prints the label the kernel reports for itself.
const probe = 'cat /proc/self/attr/current; cat /keel-secret && echo read=ok; echo x > /keel-ro/f && echo write=ok; true';

before(() => {
  if (skip) return;
  if (!fs.existsSync(path.join(securityfs, 'apparmor'))) {
    const r = spawnSync('mount', ['-t', 'securityfs', 'securityfs', securityfs], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    mountedSecurityfs = true;
  }
  fs.writeFileSync(
    profileFile,
    `abi <abi/3.0>,
profile ${profile} flags=(attach_disconnected,mediate_deleted) {
  file,
  capability,
  network,
  signal,
  ptrace,
  unix,
  mount,
  umount,
  pivot_root,
  deny /keel-secret r,
  deny /keel-ro/** w,
}
`,
  );
  const r = spawnSync(parser as string, ['-r', profileFile], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  loaded = true;
});

after(() => {
  if (!skip) for (const c of k(['list', '-q']).stdout.split('\n').filter(Boolean)) k(['delete', '--force', c]);
  if (loaded) spawnSync(parser as string, ['-R', profileFile]);
  if (mountedSecurityfs) spawnSync('umount', [securityfs]);
  cleanupTemplate();
  tmp.cleanup();
});

function bundle(args: string[], apparmorProfile?: string): string {
  const dir = makeBundle(fs.mkdtempSync(path.join(tmp.dir, 'b-')), (s) => {
    s.process!.args = args;
    if (apparmorProfile) s.process!.apparmorProfile = apparmorProfile;
  });
  fs.writeFileSync(path.join(dir, 'rootfs/keel-secret'), 'secret\n');
  fs.mkdirSync(path.join(dir, 'rootfs/keel-ro'));
  return dir;
}

test('features claims AppArmor on this kernel', { skip }, () => {
  const r = k(['features']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as { linux: { apparmor: unknown } }).linux.apparmor, { enabled: true });
});

test('process.apparmorProfile confines the container; without it the same reads and writes succeed', { skip }, () => {
  const free = k(['run', '--bundle', bundle(['sh', '-c', probe]), id()]);
  assert.equal(free.code, 0, free.stderr);
  assert.match(free.stdout, /^unconfined\n/);
  assert.match(free.stdout, /read=ok/);
  assert.match(free.stdout, /write=ok/);

  const confined = k(['run', '--bundle', bundle(['sh', '-c', probe], profile), id()]);
  assert.equal(confined.code, 0, confined.stderr);
  assert.equal(confined.stdout.split('\n')[0], `${profile} (enforce)`);
  assert.doesNotMatch(confined.stdout, /read=ok|write=ok/);
  assert.match(confined.stderr, /can't open '\/keel-secret': Permission denied/);
  assert.match(confined.stderr, /can't create \/keel-ro\/f: Permission denied/);
});

test('exec --apparmor and process.json apparmorProfile confine the exec; a plain exec is not confined', { skip }, () => {
  const c = id();
  const r = k(['run', '-d', '--bundle', bundle(['sleep', '600']), c]);
  assert.equal(r.code, 0, r.stderr);

  const plain = k(['exec', c, 'sh', '-c', probe]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^unconfined\n[^]*read=ok[^]*write=ok/);

  const flag = k(['exec', '--apparmor', profile, c, 'sh', '-c', probe]);
  assert.equal(flag.code, 0, flag.stderr);
  assert.equal(flag.stdout.split('\n')[0], `${profile} (enforce)`);
  assert.doesNotMatch(flag.stdout, /read=ok|write=ok/);

  const processFile = path.join(tmp.dir, `process-${c}.json`);
  fs.writeFileSync(processFile, JSON.stringify({ args: ['sh', '-c', probe], cwd: '/', user: { uid: 0, gid: 0 }, apparmorProfile: profile }));
  const viaFile = k(['exec', '--process', processFile, c]);
  assert.equal(viaFile.code, 0, viaFile.stderr);
  assert.equal(viaFile.stdout.split('\n')[0], `${profile} (enforce)`);
  assert.doesNotMatch(viaFile.stdout, /read=ok|write=ok/);
});

test('a profile the kernel does not know fails the create with the step named and no container left', { skip }, () => {
  const c = id();
  const r = k(['run', '--bundle', bundle(['true'], 'keel-no-such-profile'), c]);
  assert.notEqual(r.code, 0);
  assert.match(errorMessage(r), /apparmor profile "keel-no-such-profile": ENOENT \(is the profile loaded\?/);
  assert.doesNotMatch(k(['list', '-q']).stdout, new RegExp(c));
});
