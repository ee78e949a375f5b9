import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { IpBatch } from './ip-batch';

// A private user + network namespace: the host's network is never touched.
const argv = ['unshare', '-Urn', 'ip', '-force', '-batch', '-'];
const skip = spawnSync('unshare', ['-Urn', 'true']).status !== 0 ? 'no unprivileged user namespaces' : undefined;

test('ip batch: requests end at the sentinel; a failure names its line, the rest still runs', { skip }, async () => {
  const b = new IpBatch(argv);
  await b.run(['link set lo up', 'link add kb0 type bridge']);
  await assert.rejects(b.run(['link add kb0 type bridge']), /^RuntimeError: ip: RTNETLINK answers: File exists$/);
  await assert.rejects(b.run(['link del dev nosuch0', 'link add kb1 type bridge']), /Cannot find device "nosuch0"/);
  // kb1 was made although an earlier line of the same request failed (-force).
  await assert.rejects(b.run(['link add kb1 type bridge']), /File exists/);
  await b.run([]);
  b.close();
  await b.exited();
  assert.equal(b.alive, false);
  await assert.rejects(b.run(['link show']), /exited/);
});
