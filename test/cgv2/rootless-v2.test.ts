// Rootless keel on a delegated cgroup v2 subtree, inside ../shared/vm/cgv2-run (test/cgv2/run.sh;
// skipped elsewhere): root delegates /sys/fs/cgroup/keel-rl-* to a real unprivileged user as systemd
// does, bin/keel runs as that user from inside it, and limits, pause, update and delete are checked.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Spec } from '../../spec/types/runtime';
import { cleanupTemplate } from '../helpers/bundle';
import { errorMessage, isRoot, repoRoot, tempDir, which } from '../helpers/keel';
import { asUser, createTestUser, removeTestUser, settledProcessesOf, userBundle, type AsUserOptions, type TestUser } from '../security/lib/test-user';

const CG = '/sys/fs/cgroup';
const isV2 = (() => {
  try {
    return Number(fs.statfsSync(CG).type) === 0x63677270 && /\bpids\b/.test(fs.readFileSync(`${CG}/cgroup.controllers`, 'utf8')) && /\bmemory\b/.test(fs.readFileSync(`${CG}/cgroup.controllers`, 'utf8'));
  } catch {
    return false;
  }
})();
const missing = ['useradd', 'userdel', 'usermod', 'setpriv'].filter((c) => !which(c));
const skip = !isRoot
  ? 'needs root (to create the test user and delegate a cgroup)'
  : !isV2
    ? 'needs a cgroup v2 host with the pids and memory controllers (runs in the cgv2 VM)'
    : missing.length
      ? `${missing.join(', ')} not installed`
      : false;

const unique = `${process.pid}-${randomBytes(3).toString('hex')}`;
/** The delegated subtree, the launcher cgroup in it (where every keel command starts), and an undelegated one. */
const delegated = `${CG}/keel-rl-${unique}`;
const launcher = `${delegated}/launcher`;
const undelegated = `${CG}/keel-rl-nodeleg-${unique}`;
const tmp = tempDir('keel-rlv2-');
const prefix = path.join(tmp.dir, 'keel');
const keelBin = path.join(prefix, 'bin', 'keel');
const xdg = path.join(tmp.dir, 'xdg');
let user: TestUser | undefined;
let n = 0;
const uid = () => `rlv2-${process.pid}-${++n}`;

function u(): TestUser {
  if (!user) throw new Error('no test user');
  return user;
}

/** bin/keel as the user (no capability at all), started in the launcher cgroup unless told otherwise. */
const k = (args: string[], o: AsUserOptions = {}) =>
  asUser(u(), keelBin, args, { noBounding: true, cgroup: launcher, timeout: 300_000, ...o, env: { XDG_RUNTIME_DIR: xdg, ...o.env } });

/** rmdir a cgroup tree deepest first (cgroupfs has no recursive remove). */
function removeCgroup(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeCgroup(path.join(dir, e.name));
  try {
    fs.rmdirSync(dir);
  } catch {
    /* still populated: reported by the test */
  }
}

before(() => {
  if (skip) return;
  fs.chmodSync(tmp.dir, 0o755);
  for (const rel of ['bin/keel', 'dist/keel.js', 'dist/keel.js.cache', 'native/build/Release/keel.node']) {
    const src = path.join(repoRoot, rel);
    if (!fs.existsSync(src)) continue;
    fs.mkdirSync(path.dirname(path.join(prefix, rel)), { recursive: true, mode: 0o755 });
    fs.copyFileSync(src, path.join(prefix, rel));
    fs.chmodSync(path.join(prefix, rel), rel.startsWith('bin/') ? 0o755 : 0o644);
  }
  user = createTestUser(`keelrlv${process.pid}`);
  fs.mkdirSync(xdg, { mode: 0o700 });
  fs.chownSync(xdg, user.uid, user.gid);
  // Delegation as systemd does it (Delegate=yes): the controllers enabled above, the directory and
  // its cgroup.procs, cgroup.subtree_control and cgroup.threads given to the user.
  fs.writeFileSync(`${CG}/cgroup.subtree_control`, '+pids +memory');
  fs.mkdirSync(delegated);
  for (const f of ['', 'cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads']) fs.chownSync(path.join(delegated, f), user.uid, user.gid);
  // v2 moves a process only with write access to cgroup.procs of the common ancestor of where it
  // is and where it goes: keel must itself run inside the subtree (the delegated directory holds
  // no process, so its controllers can be enabled for its children).
  fs.mkdirSync(launcher);
});

after(() => {
  try {
    if (user) for (const id of k(['list', '-q']).stdout.split('\n').filter(Boolean)) k(['delete', '--force', id]);
  } finally {
    if (user) removeTestUser(user);
    removeCgroup(delegated);
    removeCgroup(undelegated);
    cleanupTemplate();
    tmp.cleanup();
  }
});

/** A bundle owned by the user: config.json from `keel spec --rootless` run as the user, then edited. */
function bundle(edit: (s: Spec) => void): string {
  return userBundle(tmp.dir, u(), (dir) => k(['spec', '--rootless', '--bundle', dir]), edit);
}

function stateOf(id: string): { status: string; pid: number } {
  const st = k(['state', id]);
  assert.equal(st.code, 0, st.stderr);
  return JSON.parse(st.stdout) as { status: string; pid: number };
}

/** Bounded wait for a condition the container reaches by itself. */
function waitFor(what: string, ok: () => boolean): void {
  const deadline = Date.now() + 120_000;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  }
}

const read = (f: string) => fs.readFileSync(f, 'utf8').trim();
const procsOf = (dir: string) => read(path.join(dir, 'cgroup.procs')).split('\n').filter(Boolean).map(Number);

test('delegated v2 subtree: born in it with pids and memory limits; pause, resume, update and delete as the user', { skip }, () => {
  const me = u();
  const id = uid();
  const c1 = `${delegated}/c1`;
  const b = bundle((s) => {
    s.root!.readonly = false;
    if (!s.linux!.namespaces!.some((ns) => ns.type === 'cgroup')) s.linux!.namespaces!.push({ type: 'cgroup' });
    s.linux!.cgroupsPath = `/${path.basename(delegated)}/c1`;
    s.linux!.resources = { pids: { limit: 8 }, memory: { limit: 64 * 1024 * 1024 } };
    // busybox sh gives up at the first fork the kernel refuses ("can't fork").
    s.process!.args = [
      'sh',
      '-c',
      [
        'exec >/tmp/out 2>&1',
        'echo "cgroup $(cat /proc/self/cgroup)"',
        'echo "pids.max $(cat /sys/fs/cgroup/pids.max)"',
        'echo "memory.max $(cat /sys/fs/cgroup/memory.max)"',
        'echo ready',
        'while [ ! -e /tmp/go ]; do sleep 0.2; done',
        'i=0; while [ $i -lt 12 ]; do sleep 1000 & i=$((i+1)); echo "forked $i"; done',
        'echo "all forked"',
      ].join('\n'),
    ];
  });
  const out = path.join(b, 'rootfs', 'tmp', 'out');
  try {
    const created = k(['create', '--bundle', b, id]);
    assert.equal(created.code, 0, created.stderr);
    const { pid } = stateOf(id);
    // From the host: born in <delegated>/c1 (CLONE_INTO_CGROUP), limits written there by the user.
    assert.equal(read(`/proc/${pid}/cgroup`), `0::/${path.basename(delegated)}/c1`);
    assert.deepEqual(procsOf(c1), [pid]);
    assert.equal(read(`${c1}/pids.max`), '8');
    assert.equal(read(`${c1}/memory.max`), String(64 * 1024 * 1024));
    assert.equal(fs.statSync(c1).uid, me.uid, 'the container cgroup is made by the user');
    assert.deepEqual(procsOf(delegated), [], 'no process in the delegated directory itself');

    assert.equal(k(['start', id]).code, 0);
    waitFor('the container to print ready', () => fs.existsSync(out) && /^ready$/m.test(fs.readFileSync(out, 'utf8')));

    const paused = k(['pause', id]);
    assert.equal(paused.code, 0, paused.stderr);
    assert.equal(read(`${c1}/cgroup.freeze`), '1');
    assert.match(read(`${c1}/cgroup.events`), /^frozen 1$/m);
    assert.equal(stateOf(id).status, 'paused');
    const resumed = k(['resume', id]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(read(`${c1}/cgroup.freeze`), '0');
    assert.equal(stateOf(id).status, 'running');

    const updated = k(['update', '--pids-limit', '6', id]);
    assert.equal(updated.code, 0, updated.stderr);
    assert.equal(read(`${c1}/pids.max`), '6');

    fs.writeFileSync(path.join(b, 'rootfs', 'tmp', 'go'), '');
    waitFor('the container to stop', () => stateOf(id).status === 'stopped');
    const text = fs.readFileSync(out, 'utf8');
    assert.match(text, /^cgroup 0::\/$/m, 'the cgroup namespace is rooted at the container cgroup');
    assert.match(text, /^pids.max 8$/m, '/sys/fs/cgroup inside is the container cgroup');
    assert.match(text, new RegExp(`^memory.max ${64 * 1024 * 1024}$`, 'm'));
    // The shell and 5 sleeps are the 6 tasks the updated limit allows: the 6th fork fails.
    assert.match(text, /^forked 5$/m, text);
    assert.doesNotMatch(text, /^forked 6$|^all forked$/m, text);
    assert.match(text, /can't fork/, text);
    assert.match(read(`${c1}/pids.events`), /^max [1-9]/m, 'the kernel counted the refused fork');

    const deleted = k(['delete', id]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.ok(!fs.existsSync(c1), 'the container cgroup is removed');
    assert.ok(fs.existsSync(delegated), 'the delegated directory is left to its owner');
    assert.deepEqual(settledProcessesOf(me), []);
  } finally {
    k(['delete', '--force', id]);
  }
});

test('outside the delegated subtree: no cgroup and no limit runs; a limit is refused in runc words and leaves nothing', { skip }, () => {
  const me = u();
  // keel started outside the subtree: its default cgroup (next to its own, at the root) is not writable.
  const plain = bundle((s) => (s.process!.args = ['true']));
  const ran = k(['--debug', 'run', '--bundle', plain, uid()], { cgroup: undefined });
  assert.equal(ran.code, 0, ran.stderr);
  assert.match(ran.stderr, /level=debug msg="rootless: cgroups not writable by this user are skipped" .*skipped=unified/);

  const limited = bundle((s) => {
    s.process!.args = ['true'];
    s.linux!.cgroupsPath = `/${path.basename(undelegated)}/c1`;
    s.linux!.resources = { pids: { limit: 8 } };
  });
  const id = uid();
  const refused = k(['run', '--bundle', limited, id]);
  assert.equal(refused.code, 1);
  assert.equal(errorMessage(refused), `rootless needs no limits + no cgrouppath when no permission is granted for cgroups: mkdir ${undelegated}: EACCES`);
  assert.ok(!fs.existsSync(undelegated), 'no cgroup made');
  assert.ok(!fs.existsSync(path.join(xdg, 'keel', id)), 'no state left');
  assert.deepEqual(settledProcessesOf(me), []);
});
