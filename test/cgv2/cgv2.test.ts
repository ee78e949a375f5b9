// Host side of the cgroup v2 tests: boots the VM once (../shared/vm/cgv2-run) and runs
// test/cgv2/run.sh there; fails if any guest test fails or none ran. Skips without the VM tooling.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';

const repo = path.resolve(__dirname, '../..');
const vm = path.resolve(repo, '../shared/vm/cgv2-run');
const skip = !existsSync(vm) ? `no VM tooling at ${vm}` : process.getuid?.() !== 0 ? 'needs root' : false;

test('cgroup v2 contract suite inside the cgv2 VM', { skip, timeout: 960_000 }, () => {
  // The guest runs its own `node --test`; NODE_TEST_CONTEXT (set by this runner) would make it
  // refuse to run any file ("run() is being called recursively").
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(vm, ['--timeout', '900', '--', 'test/cgv2/run.sh'], { cwd: repo, encoding: 'utf8', maxBuffer: 64 << 20, env });
  const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`;
  assert.notEqual(r.status, 124, `the VM timed out:\n${out.slice(-4000)}`);
  assert.notEqual(r.status, 125, `the VM failed to boot:\n${out.slice(-4000)}`);
  const pass = Number(/^# pass (\d+)/m.exec(r.stdout ?? '')?.[1] ?? 0);
  const fail = Number(/^# fail (\d+)/m.exec(r.stdout ?? '')?.[1] ?? -1);
  const skipped = Number(/^# skipped (\d+)/m.exec(r.stdout ?? '')?.[1] ?? 0);
  assert.equal(r.status, 0, `guest tests failed (exit ${r.status}):\n${out.slice(-8000)}`);
  assert.equal(fail, 0, out.slice(-8000));
  assert.equal(skipped, 0, `guest tests skipped:\n${out.slice(-4000)}`);
  assert.ok(pass > 0, `no guest test passed:\n${out.slice(-4000)}`);
});
