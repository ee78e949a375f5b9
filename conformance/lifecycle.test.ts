// Conformance: the create → start → kill → delete lifecycle as seen through `state`, `list` and the
// error wording containerd and podman match on (runtime-interfaces.md, "Errors"), for keel and runc.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Conformance } from './lib/runtime';

const h = new Conformance('lifecycle');

h.scenario('create → created with a pid → start → running → kill → stopped → delete → does not exist', async (rt) => {
  const b = h.bundle(rt, (c) => (c.process!.args = ['sh', '-c', 'echo started; exec sleep 600']));
  const cr = h.create(rt, b);
  assert.equal(cr.code, 0, cr.stderr);
  const created = h.state(rt, b.id);
  assert.equal(created.status, 'created');
  assert.equal(created.id, b.id);
  assert.equal(fs.realpathSync(created.bundle), fs.realpathSync(b.dir));
  assert.ok(created.pid && created.pid > 0, `pid ${created.pid}`);
  assert.ok(fs.existsSync(`/proc/${created.pid}`), 'the created init process exists');
  assert.equal(h.output(b).stdout, '', 'the user process has not run yet');
  assert.deepEqual(h.list(rt), [b.id]);

  const st = h.cli(rt, 'start', b.id);
  assert.equal(st.code, 0, st.stderr);
  assert.equal(h.state(rt, b.id).status, 'running');
  assert.equal(h.state(rt, b.id).pid, created.pid, 'start execs in the same pid');
  for (let i = 0; i < 500 && !h.output(b).stdout.includes('started'); i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(h.output(b).stdout, 'started\n');

  const k = h.cli(rt, 'kill', b.id, 'KILL');
  assert.equal(k.code, 0, k.stderr);
  await h.waitForStatus(rt, b.id, 'stopped');

  const d = h.cli(rt, 'delete', b.id);
  assert.equal(d.code, 0, d.stderr);
  const gone = h.cli(rt, 'state', b.id);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /does not exist/);
  assert.deepEqual(h.list(rt), []);
});

h.scenario('the state document carries ociVersion, id, status, pid, bundle and annotations', (rt) => {
  const b = h.bundle(rt, (c) => {
    c.process!.args = ['sleep', '600'];
    c.annotations = { 'org.keel.conformance': 'yes' };
  });
  assert.equal(h.create(rt, b).code, 0);
  try {
    const s = JSON.parse(h.cli(rt, 'state', b.id).stdout);
    assert.equal(typeof s.ociVersion, 'string');
    assert.equal(s.id, b.id);
    assert.equal(s.status, 'created');
    assert.equal(typeof s.pid, 'number');
    assert.equal(path.resolve(s.bundle), path.resolve(b.dir));
    assert.equal(s.annotations?.['org.keel.conformance'], 'yes');
  } finally {
    assert.equal(h.cli(rt, 'delete', '--force', b.id).code, 0);
  }
});

h.scenario('start twice: the second start fails with runc wording', async (rt) => {
  const b = h.bundle(rt, (c) => (c.process!.args = ['sleep', '600']));
  assert.equal(h.create(rt, b).code, 0, h.output(b).stderr);
  try {
    assert.equal(h.cli(rt, 'start', b.id).code, 0);
    const again = h.cli(rt, 'start', b.id);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /cannot start an already running container/);
  } finally {
    assert.equal(h.cli(rt, 'delete', '--force', b.id).code, 0);
  }
});

h.scenario('start of a stopped container fails', async (rt) => {
  const b = h.bundle(rt, (c) => (c.process!.args = ['true']));
  assert.equal(h.create(rt, b).code, 0, h.output(b).stderr);
  assert.equal(h.cli(rt, 'start', b.id).code, 0);
  await h.waitForStatus(rt, b.id, 'stopped');
  const again = h.cli(rt, 'start', b.id);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /cannot start a container that has stopped/);
  assert.equal(h.cli(rt, 'delete', b.id).code, 0);
});

h.scenario('delete of a running container without --force fails; with --force it goes', (rt) => {
  const b = h.bundle(rt, (c) => (c.process!.args = ['sleep', '600']));
  assert.equal(h.create(rt, b).code, 0, h.output(b).stderr);
  assert.equal(h.cli(rt, 'start', b.id).code, 0);
  const pid = h.state(rt, b.id).pid!;
  const d = h.cli(rt, 'delete', b.id);
  assert.equal(d.code, 1);
  assert.match(d.stderr, new RegExp(`cannot delete container ${b.id} that is not stopped: running`));
  assert.equal(h.state(rt, b.id).status, 'running');
  const f = h.cli(rt, 'delete', '--force', b.id);
  assert.equal(f.code, 0, f.stderr);
  assert.match(h.cli(rt, 'state', b.id).stderr, /does not exist/);
  assert.ok(!isAlive(pid), `init ${pid} is gone after delete --force`);
});

h.scenario('delete of a created (never started) container works without --force', (rt) => {
  const b = h.bundle(rt, (c) => (c.process!.args = ['sleep', '600']));
  assert.equal(h.create(rt, b).code, 0, h.output(b).stderr);
  const pid = h.state(rt, b.id).pid!;
  const d = h.cli(rt, 'delete', b.id);
  assert.equal(d.code, 0, d.stderr);
  assert.match(h.cli(rt, 'state', b.id).stderr, /does not exist/);
  assert.ok(!isAlive(pid), `init ${pid} is gone after delete`);
});

h.scenario('kill of a stopped container fails with "container not running"', async (rt) => {
  const b = h.bundle(rt, (c) => (c.process!.args = ['true']));
  assert.equal(h.create(rt, b).code, 0);
  assert.equal(h.cli(rt, 'start', b.id).code, 0);
  await h.waitForStatus(rt, b.id, 'stopped');
  const k = h.cli(rt, 'kill', b.id, 'KILL');
  assert.equal(k.code, 1);
  assert.match(k.stderr, /container not running/);
  assert.equal(h.cli(rt, 'delete', b.id).code, 0);
});

h.scenario('unknown ids: state, start, kill and delete say "does not exist"', (rt) => {
  const id = `conf-${process.pid}-nosuch-${rt.name}`;
  for (const args of [['state', id], ['start', id], ['kill', id, 'KILL'], ['delete', id]]) {
    const r = h.cli(rt, ...args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, /does not exist/, args.join(' '));
  }
  assert.equal(h.cli(rt, 'delete', '--force', id).code, 0, 'delete --force of an unknown id succeeds');
});

h.scenario('create with an id already in use fails and keeps the first container', (rt) => {
  const b = h.bundle(rt, (c) => (c.process!.args = ['sleep', '600']));
  assert.equal(h.create(rt, b).code, 0);
  try {
    const again = h.create(rt, b);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already exists/);
    assert.equal(h.state(rt, b.id).status, 'created');
  } finally {
    assert.equal(h.cli(rt, 'delete', '--force', b.id).code, 0);
  }
});

function isAlive(pid: number): boolean {
  try {
    // A zombie is dead for our purposes: its state letter is Z.
    return !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

h.finish();
