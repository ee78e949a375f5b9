// Conformance: checkpoint and restore through CRIU, for keel and runc. Debian's CRIU 3.17 cannot
// initialise on every kernel (kerndat's vdso probe fails on 6.x here, for runc as for keel): where
// `criu check` fails, the scenarios assert the same failure class for both runtimes (CRIU's error,
// the container untouched, nothing left behind); where it works, a full checkpoint → restore.
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Conformance, cgroupDirs, type Bundle, type Runtime } from './lib/runtime';

const h = new Conformance('checkpoint');
const BOUND = 60_000;
const criu = spawnSync('criu', ['check'], { encoding: 'utf8' });
const criuMissing = () => (criu.error ? 'criu is not installed (scripts/deps.sh test)' : undefined);
/** Whether CRIU can dump on this kernel at all. */
const criuWorks = !criu.error && criu.status === 0;

function started(rt: Runtime, edit?: Parameters<typeof h.bundle>[1]): Bundle {
  const b = h.bundle(rt, (c) => {
    c.process!.args = ['sleep', '600'];
    edit?.(c);
  });
  assert.equal(h.create(rt, b).code, 0);
  assert.equal(h.cli(rt, 'start', b.id).code, 0);
  return b;
}

h.scenario(
  criuWorks ? 'checkpoint a running container, then restore it from the images' : 'checkpoint where CRIU cannot dump: CRIU\'s error, the container keeps running',
  (rt) => {
    const b = started(rt);
    const img = path.join(h.scratch('img'), 'images');
    const r = h.bounded(rt, BOUND, 'checkpoint', '--image-path', img, b.id);
    assert.ok(fs.existsSync(path.join(img, 'descriptors.json')), 'the init\'s stdio are recorded for restore');
    if (!criuWorks) {
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /criu failed/);
      assert.ok(fs.existsSync(path.join(img, 'dump.log')), 'CRIU\'s log is where the error says');
      assert.equal(h.state(rt, b.id).status, 'running');
      assert.equal(h.cli(rt, 'delete', '--force', b.id).code, 0);
      return;
    }
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!h.list(rt).includes(b.id), 'a checkpointed container is gone');
    const rs = h.bounded(rt, BOUND, 'restore', '--detach', '--image-path', img, '--bundle', b.dir, b.id);
    assert.equal(rs.code, 0, rs.stderr);
    assert.equal(h.state(rt, b.id).status, 'running');
    assert.equal(h.cli(rt, 'delete', '--force', b.id).code, 0);
  },
  criuMissing,
);

h.scenario('restore from images CRIU cannot use: CRIU\'s error, no container, no cgroup left', (rt) => {
  const img = h.scratch('bad-img');
  fs.writeFileSync(path.join(img, 'descriptors.json'), JSON.stringify(['/dev/null', '/dev/null', '/dev/null']));
  const cg = `/keel-conf-restore-${process.pid}-${rt.name}`;
  const b = h.bundle(rt, (c) => (c.linux!.cgroupsPath = cg));
  const r = h.bounded(rt, BOUND, 'restore', '--detach', '--image-path', img, '--bundle', b.dir, b.id);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /criu failed/);
  assert.ok(!h.list(rt).includes(b.id));
  assert.deepEqual(cgroupDirs(cg), []);
}, criuMissing);

h.scenario('restore without descriptors.json, checkpoint of a created container: refused before CRIU runs', (rt) => {
  const b = h.bundle(rt, (c) => (c.process!.args = ['sleep', '600']));
  const empty = h.scratch('empty-img');
  const r = h.bounded(rt, BOUND, 'restore', '--detach', '--image-path', empty, '--bundle', b.dir, b.id);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /descriptors\.json: no such file or directory/);
  assert.ok(!h.list(rt).includes(b.id));
  assert.equal(h.create(rt, b).code, 0);
  const c = h.bounded(rt, BOUND, 'checkpoint', '--image-path', path.join(empty, 'x'), b.id);
  assert.equal(c.code, 1);
  assert.match(c.stderr, /cannot be checkpointed in created state/i);
  assert.equal(h.cli(rt, 'delete', '--force', b.id).code, 0);
}, criuMissing);

h.finish();
