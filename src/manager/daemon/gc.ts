// Store hygiene at daemon start: nothing is being written yet, so every partial ingest (an
// interrupted pull, load or import) is reclaimed, and blobs no image reaches (and no live lease
// holds) are deleted.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { messageOf } from '../../errors/index';
import type { Logger } from '../../log/index';
import type { ContentStore } from '../content/index';
import type { ImageStore } from '../images/image-store';
import { gc } from '../images/remove';
import type { Leases } from '../leases';

export async function collectGarbage(o: { content: ContentStore; images: ImageStore; leases: Leases; dataRoot: string; log: Logger }): Promise<void> {
  const ingest = path.join(o.dataRoot, 'ingest');
  let partial = 0;
  for (const n of await fs.readdir(ingest).catch(() => [] as string[])) {
    await fs.rm(path.join(ingest, n), { recursive: true, force: true });
    partial++;
  }
  try {
    const removed = await gc({ content: o.content, images: o.images, leases: o.leases });
    if (partial || removed.length) o.log.info({ partialIngests: partial, blobs: removed.length }, 'reclaimed leftovers of interrupted operations');
  } catch (e) {
    o.log.warn({ err: messageOf(e) }, 'content gc');
  }
}
