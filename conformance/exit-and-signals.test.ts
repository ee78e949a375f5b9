// Conformance: exit statuses of `run` (the container's own, or 128+signal) and signal delivery
// through `kill` to the container's init, for keel and runc.
import assert from 'node:assert/strict';
import { Conformance } from './lib/runtime';

const h = new Conformance('exit');

h.scenario('exit 0', (rt) => {
  const r = h.run(rt, h.bundle(rt, (c) => (c.process!.args = ['true'])));
  assert.equal(r.code, 0, r.stderr);
});

h.scenario('exit 42', (rt) => {
  const r = h.run(rt, h.bundle(rt, (c) => (c.process!.args = ['sh', '-c', 'exit 42'])));
  assert.equal(r.code, 42, r.stderr);
});

h.scenario('exit 255', (rt) => {
  const r = h.run(rt, h.bundle(rt, (c) => (c.process!.args = ['sh', '-c', 'exit 255'])));
  assert.equal(r.code, 255, r.stderr);
});

h.scenario('a real SIGSEGV kills init: run exits 139', (rt) => {
  const r = h.run(rt, h.bundle(rt, (c) => (c.process!.args = ['/probe', 'segv'])));
  assert.equal(r.code, 128 + 11, r.stderr);
});

h.scenario('a missing executable fails the run with a non-zero status', (rt) => {
  const r = h.run(rt, h.bundle(rt, (c) => (c.process!.args = ['/no/such/binary'])));
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /no such file or directory/i);
  assert.deepEqual(h.list(rt), [], 'a failed run leaves no container behind');
});

h.scenario('kill KILL: run exits 137', async (rt) => {
  const b = h.bundle(rt, (c) => (c.process!.args = ['sh', '-c', 'echo ready; exec sleep 600']));
  const c = h.runAsync(rt, b);
  await c.waitForOutput(/ready/);
  await h.waitForStatus(rt, b.id, 'running');
  const k = h.cli(rt, 'kill', b.id, 'KILL');
  assert.equal(k.code, 0, k.stderr);
  const r = await c.exited;
  assert.equal(r.code, 137, r.stderr);
});

h.scenario('kill TERM reaches a trapping shell, which exits with its own status', async (rt) => {
  const script = 'trap "echo got-TERM; exit 7" TERM; echo ready; while :; do sleep 0.05; done';
  const b = h.bundle(rt, (c) => (c.process!.args = ['sh', '-c', script]));
  const c = h.runAsync(rt, b);
  await c.waitForOutput(/ready/);
  const k = h.cli(rt, 'kill', b.id, 'TERM');
  assert.equal(k.code, 0, k.stderr);
  const r = await c.exited;
  assert.equal(r.code, 7, r.stderr);
  assert.match(r.stdout, /got-TERM/);
});

h.scenario('kill by number and by name without SIG prefix (USR1 = 10)', async (rt) => {
  const script = 'trap "echo got-USR1" USR1; trap "echo got-HUP; exit 3" HUP; echo ready; while :; do sleep 0.05; done';
  const b = h.bundle(rt, (c) => (c.process!.args = ['sh', '-c', script]));
  const c = h.runAsync(rt, b);
  await c.waitForOutput(/ready/);
  assert.equal(h.cli(rt, 'kill', b.id, '10').code, 0);
  await c.waitForOutput(/got-USR1/);
  assert.equal(h.cli(rt, 'kill', b.id, 'SIGHUP').code, 0);
  const r = await c.exited;
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stdout, /got-USR1\n(.*\n)*got-HUP/);
});

h.scenario('TERM to an init without a TERM handler is dropped (pid namespace rule); KILL still works', async (rt) => {
  // Only USR2 is trapped. If TERM were delivered with its default action, init would be dead before the
  // second kill runs: that kill would fail and got-USR2 would never be printed.
  const script = 'trap "echo got-USR2" USR2; echo ready; while :; do sleep 0.05; done';
  const b = h.bundle(rt, (c) => (c.process!.args = ['sh', '-c', script]));
  const c = h.runAsync(rt, b);
  await c.waitForOutput(/ready/);
  assert.equal(h.cli(rt, 'kill', b.id, 'TERM').code, 0);
  const k = h.cli(rt, 'kill', b.id, 'USR2');
  assert.equal(k.code, 0, k.stderr);
  await c.waitForOutput(/got-USR2/);
  assert.equal(h.state(rt, b.id).status, 'running');
  assert.equal(h.cli(rt, 'kill', b.id, 'KILL').code, 0);
  assert.equal((await c.exited).code, 137);
});

h.finish();
