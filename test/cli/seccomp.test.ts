// seccomp through bin/keel and runc on the same bundles: the compiled filter is installed and
// behaves the same (errno rules, allow-lists with a default errno, kill, argument conditions).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import type { LinuxSeccomp } from '../../spec/types/runtime';
import { cleanupTemplate, makeBundle } from '../helpers/bundle';
import { isRoot, keelBin, run, tempDir, which } from '../helpers/keel';

const tmp = tempDir('keel-seccomp-');
after(() => {
  cleanupTemplate();
  tmp.cleanup();
});
const runc = which('runc');
const runtimes = [{ name: 'keel', bin: keelBin }, ...(runc ? [{ name: 'runc', bin: runc }] : [])];
let n = 0;

function runWith(bin: string, script: string, seccomp: LinuxSeccomp, nnp = true): { code: number; stdout: string } {
  const b = makeBundle(fs.mkdtempSync(path.join(tmp.dir, 'b-')), (s) => {
    s.process!.args = ['sh', '-c', script];
    s.process!.noNewPrivileges = nnp;
    s.linux!.seccomp = seccomp;
  });
  const r = run(bin, ['--root', path.join(tmp.dir, 'root'), 'run', '--bundle', b, `sc-${process.pid}-${++n}`]);
  return { code: r.code, stdout: r.stdout };
}

for (const rt of runtimes) {
  test(`${rt.name}: an errno rule fails the call with its errno, the rest works`, { skip: !isRoot && 'needs root' }, () => {
    const r = runWith(rt.bin, 'mkdir /tmp/x 2>/dev/null; echo mkdir=$?; grep Seccomp: /proc/self/status', {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
    });
    assert.equal(r.stdout, 'mkdir=1\nSeccomp:\t2\n');
  });

  test(`${rt.name}: without no_new_privs the filter is still installed (before the capabilities drop)`, { skip: !isRoot && 'needs root' }, () => {
    const r = runWith(rt.bin, 'mkdir /tmp/x 2>/dev/null; echo mkdir=$?', {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }],
    }, false);
    assert.equal(r.stdout, 'mkdir=1\n');
  });

  test(`${rt.name}: SCMP_ACT_KILL_PROCESS on a syscall ends the container with SIGSYS`, { skip: !isRoot && 'needs root' }, () => {
    const r = runWith(rt.bin, 'sh -c sync; echo status=$?', {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['sync'], action: 'SCMP_ACT_KILL_PROCESS' }],
    });
    assert.equal(r.stdout, 'status=159\n', 'a shell reports 128+SIGSYS(31) for the killed child');
  });

  test(`${rt.name}: an argument condition only matches the given value`, { skip: !isRoot && 'needs root' }, () => {
    const r = runWith(rt.bin, 'umask 077 2>/dev/null; echo a=$?; umask 022; echo b=$?', {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['umask'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0o77, op: 'SCMP_CMP_EQ' }] }],
    });
    // busybox's umask builtin reports no error status, so look at the effect instead
    const eff = runWith(rt.bin, 'umask 077; umask', {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['umask'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0o77, op: 'SCMP_CMP_EQ' }] }],
    });
    assert.equal(r.code, 0);
    assert.notEqual(eff.stdout.trim(), '0077', 'umask(077) was refused');
  });
}
