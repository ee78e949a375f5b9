// Runs the Snapshotter contract suite against the overlayfs snapshotter.
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runSnapshotterSuite } from '../testsuite';
import { OverlaySnapshotter } from './overlay';

runSnapshotterSuite('overlay', async () => {
  const work = await fs.mkdtemp(path.join(tmpdir(), 'dock-snap-'));
  return { sn: new OverlaySnapshotter(path.join(work, 'root')), work, cleanup: () => fs.rm(work, { recursive: true, force: true }) };
});
