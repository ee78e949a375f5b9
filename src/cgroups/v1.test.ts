// Runs the CgroupManager contract on this host's real cgroup v1 hierarchies, as root, under a
// unique parent cgroup that is removed afterwards. Skips on a v2-only host or without root.
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import { statfsSync } from 'node:fs';
import { createCgroupManager, V1Manager } from './index';
import { runCgroupManagerSuite } from './testsuite';

const parent = `/keel-test-${process.pid}-${randomBytes(3).toString('hex')}`;
const isV2 = Number(statfsSync('/sys/fs/cgroup').type) === 0x63677270;
const skip = process.getuid?.() !== 0 ? 'needs root' : isV2 ? 'host has no cgroup v1 hierarchies' : false;

runCgroupManagerSuite(
  'v1',
  async () => {
    const manager = await createCgroupManager({ id: 'unused', cgroupsPath: `${parent}/c-${randomBytes(3).toString('hex')}` });
    if (!(manager instanceof V1Manager)) throw new Error('expected the v1 driver on this host');
    return { manager, cleanup: async () => undefined };
  },
  { skip },
);

after(async () => {
  if (skip) return;
  // The parent exists in every hierarchy; remove it through a manager for the parent itself.
  const m = await createCgroupManager({ id: 'unused', cgroupsPath: parent });
  await m.destroy();
});
