// Runs the BuildCache contract suite against the memory and the on-disk implementation.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryBuildCache } from './cache';
import { DiskBuildCache } from './cache-disk';
import { runBuildCacheSuite } from './cache-testsuite';

runBuildCacheSuite('memory', async () => ({ cache: new MemoryBuildCache(), cleanup: async () => undefined }));

runBuildCacheSuite('disk', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'build-cache-'));
  return { cache: new DiskBuildCache(path.join(dir, 'build-cache')), cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
});
