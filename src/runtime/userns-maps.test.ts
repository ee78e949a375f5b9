// Who writes a user namespace's maps: the unprivileged writer itself for a single self-mapping,
// newuidmap/newgidmap (through the ToolRunner seam) for anything else, with their errors named.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSelfMapping, mapText, writeIdMaps, type ToolRunner } from './userns-maps';

const user = { isRoot: false, euid: 1001, egid: 1002 };
const wide = (own: number, sub: number) => [
  { containerID: 0, hostID: own, size: 1 },
  { containerID: 1, hostID: sub, size: 65536 },
];

test('a single line of size 1 mapping the own id is a self-mapping; nothing else is', () => {
  assert.equal(isSelfMapping([{ containerID: 0, hostID: 1001, size: 1 }], 1001), true);
  assert.equal(isSelfMapping([{ containerID: 5, hostID: 1001, size: 1 }], 1001), true);
  assert.equal(isSelfMapping([{ containerID: 0, hostID: 1001, size: 2 }], 1001), false);
  assert.equal(isSelfMapping([{ containerID: 0, hostID: 100000, size: 1 }], 1001), false);
  assert.equal(isSelfMapping(wide(1001, 100000), 1001), false);
  assert.equal(mapText(wide(1001, 100000)), '0 1001 1\n1 100000 65536\n');
});

test('more than a self-mapping goes through newuidmap and newgidmap with the pid and every range', () => {
  const calls: string[][] = [];
  const run: ToolRunner = (tool, args) => {
    calls.push([tool, ...args]);
    return { status: 0, stderr: '' };
  };
  writeIdMaps(4242, wide(1001, 100000), wide(1002, 200000), user, run);
  assert.deepEqual(calls, [
    ['newuidmap', '4242', '0', '1001', '1', '1', '100000', '65536'],
    ['newgidmap', '4242', '0', '1002', '1', '1', '200000', '65536'],
  ]);
});

test('a missing helper and a refusal are errors that say what to do', () => {
  const missing: ToolRunner = () => ({ status: null, stderr: '', error: Object.assign(new Error('spawnSync newuidmap ENOENT'), { code: 'ENOENT' }) });
  assert.throws(
    () => writeIdMaps(1, wide(1001, 100000), wide(1002, 200000), user, missing),
    (e: Error & { kind?: string }) =>
      e.message === "linux.uidMappings maps more than the caller's own id, which needs newuidmap (Debian package uidmap): not found in $PATH" &&
      e.kind === 'FailedPrecondition',
  );
  const refused: ToolRunner = (tool) => ({ status: 1, stderr: `${tool}: gid range [1-65537) -> [300000-365536) not allowed\n` });
  const ok: ToolRunner = (tool, args) => (tool === 'newuidmap' ? { status: 0, stderr: '' } : refused(tool, args));
  assert.throws(
    () => writeIdMaps(7, wide(1001, 100000), wide(1002, 300000), user, ok),
    (e: Error & { kind?: string }) =>
      e.message === 'newgidmap 7 0 1002 1 1 300000 65536: newgidmap: gid range [1-65537) -> [300000-365536) not allowed (check /etc/subgid)' &&
      e.kind === 'PermissionDenied',
  );
});
