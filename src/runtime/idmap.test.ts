// The parent side of id-mapped mounts against the real kernel, as root: user namespace fds from a
// holder process, detached id-mapped trees, and that no holder process or fd outlives a call,
// whether it succeeds or fails.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Logger } from '../log/index';
import { realSys, type Sys } from '../native/index';
import { prepareIdmapTrees, usernsFdFor } from './idmap';
import type { InitPlan, PlanMount } from './plan/types';

const skip = process.getuid?.() !== 0 ? 'needs root' : false;
const log: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => log };
const MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];
let tmp = '';

before(() => {
  if (!skip) tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-idmap-'));
});
after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function children(): string[] {
  const out: string[] = [];
  for (const t of fs.readdirSync('/proc/self/task')) {
    for (const pid of fs.readFileSync(`/proc/self/task/${t}/children`, 'utf8').split(' ')) if (pid.trim()) out.push(pid.trim());
  }
  return out;
}

/** Open fds, without the one readdir itself used (closed again by the time we look). */
function fds(): string[] {
  return fs.readdirSync('/proc/self/fd').filter((f) => {
    try {
      fs.readlinkSync(`/proc/self/fd/${f}`);
      return true;
    } catch {
      return false;
    }
  });
}

/** Runs fn and checks that it leaves no child process and no fd beyond those it returns. */
function noLeaks<T>(fn: () => T, keep: (r: T) => number[] = () => []): T {
  const before = { kids: children(), fds: fds() };
  let r: T | undefined;
  try {
    r = fn();
    return r;
  } finally {
    const extra = fds().filter((f) => !before.fds.includes(f) && !(r !== undefined && keep(r).includes(Number(f))));
    assert.deepEqual(extra, [], 'fds left open');
    assert.deepEqual(children().filter((c) => !before.kids.includes(c)), [], 'holder processes left behind');
  }
}

function plan(mounts: Partial<PlanMount>[]): InitPlan {
  const full = mounts.map((m) => ({ kind: 'bind', source: tmp, destination: '/x', type: '', data: '', flags: 0x1000, propagation: 0, attrSet: 0, attrClr: 0, procfsLike: false, ...m }));
  return { mounts: full } as unknown as InitPlan;
}

test('usernsFdFor: an fd of a new user namespace; the holder is reaped at once', { skip }, () => {
  const fd = noLeaks(() => usernsFdFor(realSys, MAP, MAP), (f) => [f]);
  try {
    const ns = fs.readlinkSync(`/proc/self/fd/${fd}`);
    assert.match(ns, /^user:\[\d+\]$/);
    assert.notEqual(ns, fs.readlinkSync('/proc/self/ns/user'));
  } finally {
    fs.closeSync(fd);
  }
});

test('usernsFdFor: a mapping the kernel refuses fails with the holder reaped and nothing open', { skip }, () => {
  assert.throws(() => noLeaks(() => usernsFdFor(realSys, [{ containerID: 0, hostID: 100000, size: 0 }], MAP)), /EINVAL/);
});

test('prepareIdmapTrees: one tree fd per id-mapped mount, one holder per distinct mapping', { skip }, () => {
  let holders = 0;
  const sys: Sys = { ...realSys, spawnUsernsHolder: () => (holders++, realSys.spawnUsernsHolder()) };
  const idmap = { recursive: false, usernsPath: null, uidMappings: MAP, gidMappings: MAP };
  fs.writeFileSync(path.join(tmp, 'marker'), '');
  const p = plan([{ idmap }, {}, { idmap: { ...idmap, recursive: true }, destination: '/y' }]);
  const trees = noLeaks(
    () => prepareIdmapTrees(p, sys, log),
    (t) => t.plan.mounts.flatMap((m) => (m.treeFd !== undefined ? [m.treeFd] : [])),
  );
  try {
    const [a, b, c] = trees.plan.mounts;
    assert.equal(typeof a!.treeFd, 'number');
    assert.equal(b!.treeFd, undefined, 'plain binds are left to the child');
    assert.equal(typeof c!.treeFd, 'number');
    assert.equal(holders, 1, 'the same mapping reuses its user namespace');
    // Through the detached clone, host root's file shows as the mapped id: the mapping is on it.
    assert.equal(fs.statSync(`/proc/self/fd/${a!.treeFd}/marker`).uid, 100000);
    assert.equal(fs.statSync(path.join(tmp, 'marker')).uid, 0);
  } finally {
    trees.close();
    trees.close();
  }
});

test('prepareIdmapTrees: a failure names the mount and leaves no fd or holder behind', { skip }, () => {
  const idmap = { recursive: false, usernsPath: null, uidMappings: MAP, gidMappings: MAP };
  const missing = path.join(tmp, 'missing');
  // The first mount succeeds, the second fails: the first one's tree must be closed too.
  const p = plan([{ idmap }, { idmap, source: missing, destination: '/y' }]);
  assert.throws(
    () => noLeaks(() => prepareIdmapTrees(p, realSys, log)),
    (e: Error) => e.message.startsWith(`mount ${missing} on /y: open_tree ${missing}: ENOENT`),
  );
  const badNs = plan([{ idmap: { ...idmap, usernsPath: path.join(tmp, 'no-such-ns') } }]);
  assert.throws(
    () => noLeaks(() => prepareIdmapTrees(badNs, realSys, log)),
    (e: Error) => e.message.startsWith(`mount ${tmp} on /x: `) && e.message.includes('ENOENT'),
  );
});
