// exec's pure parts: the process built from the command line, and the --cgroup sub-paths with
// runc's rules (controller prefixes, no escape from the container's cgroup).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { execCgroupPaths, parseSubCgroups } from './exec';

const v1 = { cpu: '/sys/fs/cgroup/cpu/c1', memory: '/sys/fs/cgroup/memory/c1', pids: '/sys/fs/cgroup/pids/c1' };

test('--cgroup: a bare path applies to every controller, prefixes to theirs', () => {
  assert.deepEqual(execCgroupPaths(v1, parseSubCgroups(['sub'])), { cpu: '/sys/fs/cgroup/cpu/c1/sub', memory: '/sys/fs/cgroup/memory/c1/sub', pids: '/sys/fs/cgroup/pids/c1/sub' });
  assert.deepEqual(execCgroupPaths(v1, parseSubCgroups(['cpu,memory:a/b', 'pids:p'])), {
    cpu: '/sys/fs/cgroup/cpu/c1/a/b',
    memory: '/sys/fs/cgroup/memory/c1/a/b',
    pids: '/sys/fs/cgroup/pids/c1/p',
  });
  assert.deepEqual(execCgroupPaths({ '': '/sys/fs/cgroup/c1' }, parseSubCgroups(['x'])), { '': '/sys/fs/cgroup/c1/x' });
});

test('--cgroup: runc\'s refusals', () => {
  assert.throws(() => execCgroupPaths(v1, parseSubCgroups(['..'])), /\.\. is not a sub cgroup path/);
  assert.throws(() => execCgroupPaths(v1, parseSubCgroups(['cpu:../c2'])), /is not a sub cgroup path/);
  assert.throws(() => execCgroupPaths(v1, parseSubCgroups(['net_cls:x'])), /unknown controller net_cls/);
  assert.throws(() => parseSubCgroups(['a', 'b']), /missing <controller>: prefix/);
  assert.throws(() => parseSubCgroups([':x']), /empty <controller> prefix/);
  assert.throws(() => parseSubCgroups(['cpu:x', 'cpu:y']), /controller cpu specified multiple times/);
  assert.throws(() => parseSubCgroups(['a:b:c']), /invalid --cgroup argument: a:b:c/);
});
