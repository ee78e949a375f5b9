// Isolation that the §7 fixes rely on: masked paths really masked and read-only paths really
// read-only (with CAP_SYS_ADMIN granted, so only the masks stand in the way), no capability beyond
// the bundle's (init and exec), and host pids, mounts and fds invisible from inside.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import type { Spec } from '../../spec/types/runtime';
import { cleanupTemplate, makeBundle } from '../helpers/bundle';
import { isRoot, keel, tempDir } from '../helpers/keel';
import { installAttacker } from './lib/attacker';

const skip = !isRoot && 'needs root';
const tmp = tempDir('keel-iso-');
const root = path.join(tmp.dir, 'root');
let n = 0;
const uid = () => `siso-${process.pid}-${++n}`;
const k = (args: string[]) => keel(['--root', root, ...args]);

after(() => {
  for (const id of k(['list', '-q']).stdout.split('\n').filter(Boolean)) k(['delete', '--force', id]);
  cleanupTemplate();
  tmp.cleanup();
});

const CAPS = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT',
  'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE',
  'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP', 'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ',
  'PERFMON', 'BPF', 'CHECKPOINT_RESTORE',
];

/** The /proc/<pid>/status hex mask of a list of CAP_* names. */
function mask(names: readonly string[]): bigint {
  return names.reduce((m, c) => m | (1n << BigInt(CAPS.indexOf(c.replace(/^CAP_/, '')))), 0n);
}

/** docker's default set plus CAP_SYS_ADMIN: enough that only masks and ro mounts stop writes. */
const strong = ['CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE', 'SYS_ADMIN'].map((c) => `CAP_${c}`);

function runIn(edit: (s: Spec) => void, script: string): { code: number; stdout: string; stderr: string } {
  const b = makeBundle(fs.mkdtempSync(path.join(tmp.dir, 'b-')), (s) => {
    s.process!.args = ['sh', '-c', script];
    edit(s);
  });
  installAttacker(path.join(b, 'rootfs'));
  return k(['run', '--bundle', b, uid()]);
}

test('masked paths are empty and read-only paths refuse writes, even with CAP_SYS_ADMIN', { skip }, () => {
  const spec = JSON.parse(fs.readFileSync(path.join(makeBundle(fs.mkdtempSync(path.join(tmp.dir, 'b-'))), 'config.json'), 'utf8')) as Spec;
  const masked = spec.linux!.maskedPaths!;
  const ro = spec.linux!.readonlyPaths!;
  const r2 = runIn(
    (s) => (s.process!.capabilities = { bounding: strong, effective: strong, permitted: strong }),
    [
      `for p in ${masked.join(' ')}; do if [ -d $p ]; then echo "$p dir $(ls -A $p | wc -l)"; elif [ -e $p ]; then echo "$p file $(head -c 64 $p | wc -c)"; else echo "$p absent"; fi; done`,
      'cat /proc/sys/kernel/core_pattern > /tmp/cp; (cat /tmp/cp > /proc/sys/kernel/core_pattern) 2>/dev/null; echo "core_pattern $?"',
      '(echo 0 > /proc/sys/vm/drop_caches) 2>/dev/null; echo "drop_caches $?"',
      `grep -E " (${ro.join('|')}) " /proc/self/mountinfo | while read a b c d mp opts rest; do echo "ro $mp \${opts%%,*}"; done`,
    ].join('\n'),
  );
  assert.equal(r2.code, 0, r2.stderr);
  const lines = r2.stdout.split('\n');
  let checked = 0;
  for (const p of masked) {
    const line = lines.find((l) => l.startsWith(`${p} `));
    assert.ok(line, `${p} reported`);
    if (line.endsWith(' absent')) continue;
    assert.match(line, / (dir|file) 0$/, `${p} is masked: ${line}`);
    checked++;
  }
  assert.ok(checked >= 3, 'several masked paths exist on this kernel (else nothing was checked)');
  assert.ok(lines.includes('core_pattern 1'), 'core_pattern not writable');
  assert.ok(lines.includes('drop_caches 1'), '/proc/sys not writable');
  for (const p of ro) {
    if (lines.some((l) => l.startsWith(`ro ${p} `))) assert.ok(lines.includes(`ro ${p} ro`), `${p} mounted ro: ${r2.stdout}`);
  }
  assert.ok(lines.includes('ro /proc/sys ro'), r2.stdout);
  if (fs.existsSync('/proc/sysrq-trigger')) assert.ok(lines.includes('ro /proc/sysrq-trigger ro'), r2.stdout);
});

/** Cap* lines of /proc/self/status, as bigints. */
function caps(stdout: string): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const m of stdout.matchAll(/^(Cap\w+):\s*([0-9a-f]+)$/gm)) out[m[1]!] = BigInt(`0x${m[2]}`);
  return out;
}

test('no capability beyond the bundle\'s: init as root, init as a user (ambient), exec', { skip }, () => {
  const b = makeBundle(fs.mkdtempSync(path.join(tmp.dir, 'b-')), (s) => (s.process!.args = ['sleep', '600']));
  const spec = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8')) as Spec;
  const set = spec.process!.capabilities!;
  const bnd = mask(set.bounding!);
  const id = uid();
  assert.equal(k(['create', '--bundle', b, id]).code, 0);
  assert.equal(k(['start', id]).code, 0);
  for (const r of [k(['exec', id, 'grep', 'Cap', '/proc/1/status']), k(['exec', id, 'grep', 'Cap', '/proc/self/status'])]) {
    assert.equal(r.code, 0, r.stderr);
    const c = caps(r.stdout);
    assert.equal(c.CapBnd, bnd, 'bounding set is the bundle\'s');
    for (const f of ['CapEff', 'CapPrm', 'CapInh', 'CapAmb']) assert.equal((c[f]! & ~bnd), 0n, `${f} within the bounding set`);
    assert.equal(c.CapEff, mask(set.effective!));
  }
  const narrow = ['CAP_KILL', 'CAP_CHOWN'];
  const u = runIn(
    (s) => {
      s.process!.user = { uid: 1000, gid: 1000 };
      s.process!.capabilities = { bounding: narrow, effective: ['CAP_KILL'], permitted: narrow, inheritable: ['CAP_KILL'], ambient: ['CAP_KILL'] };
    },
    'grep Cap /proc/self/status',
  );
  assert.equal(u.code, 0, u.stderr);
  const c = caps(u.stdout);
  assert.deepEqual([c.CapBnd, c.CapEff, c.CapPrm, c.CapAmb], [mask(narrow), mask(['CAP_KILL']), mask(['CAP_KILL']), mask(['CAP_KILL'])], u.stdout);
});

test('host pids, mounts and fds are invisible from inside', { skip }, () => {
  const r = runIn(
    () => undefined,
    `ls /proc | grep -E '^[0-9]+$' | tr '\\n' ' '; echo; kill -0 ${process.pid} 2>/dev/null; echo "kill $?"; cat /proc/self/mountinfo; echo FDS; /attacker fds`,
  );
  assert.equal(r.code, 0, r.stderr);
  const [pids, kill, ...rest] = r.stdout.split('\n');
  assert.ok(pids!.trim().split(' ').every((p) => Number(p) < 10), `only the container's own pids: ${pids}`);
  assert.equal(kill, 'kill 1', 'the test process (a host pid) cannot be signalled');
  const fdsAt = rest.indexOf('FDS');
  const points = rest.slice(0, fdsAt).filter(Boolean).map((l) => l.split(' ')[4]!);
  // What matters is which mounts the container sees, not how many the host happens to have (a
  // v1 host shows the container a dozen cgroup hierarchies): every point must be its own.
  assert.ok(points.length > 5, `${points.length} container mounts`);
  for (const p of points) {
    assert.ok(!p.startsWith(tmp.dir) && !p.startsWith('/work') && !p.startsWith('/tmp'), `host path ${p} visible`);
    assert.ok(p === '/' || /^\/(proc|dev|sys|etc)(\/|$)/.test(p), `unexpected mount point ${p}`);
  }
  assert.deepEqual((JSON.parse(rest[fdsAt + 1]!) as [number, string][]).map(([fd]) => fd), [0, 1, 2]);
});
