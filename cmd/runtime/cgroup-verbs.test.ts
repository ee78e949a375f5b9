import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBytes, parseDuration, resourcesFromFlags } from './cgroup-verbs';

test('memory values as runc takes them', () => {
  assert.equal(parseBytes('1024'), 1024);
  assert.equal(parseBytes('100m'), 100 * 1024 * 1024);
  assert.equal(parseBytes('1G'), 1024 ** 3);
  assert.equal(parseBytes('-1'), -1);
  assert.throws(() => parseBytes('lots'), /invalid value for memory: lots/);
});

test('update flags build only the given resources', () => {
  assert.deepEqual(resourcesFromFlags({ memory: '64m', pidsLimit: '10', cpuQuota: '50000', cpuPeriod: '100000', cpusetCpus: '0' }), {
    memory: { limit: 64 * 1024 * 1024 },
    cpu: { quota: 50000, period: 100000, cpus: '0' },
    pids: { limit: 10 },
  });
  assert.deepEqual(resourcesFromFlags({}), {});
  assert.throws(() => resourcesFromFlags({ cpuShare: 'x' }), /invalid value for cpu-share: x/);
});

test('durations', () => {
  assert.equal(parseDuration('5s'), 5000);
  assert.equal(parseDuration('250ms'), 250);
  assert.throws(() => parseDuration('5'), /invalid duration/);
});
