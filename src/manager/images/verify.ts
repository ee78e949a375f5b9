// Checks that each layer blob of an image decompresses to the tar its config names (rootfs.diff_ids),
// so a truncated or swapped layer is refused at pull/load time instead of at container start.
import { createHash } from 'node:crypto';
import { RuntimeError } from '../../errors/index';
import type { ContentStore } from '../content/index';
import { decompress } from '../snapshots/apply-layer';
import type { ImageConfig, ImageManifest } from './manifest';

/** The sha256 of a layer's uncompressed content ("sha256:…"). */
export async function diffIdOf(content: ContentStore, digest: string): Promise<string> {
  const h = createHash('sha256');
  try {
    for await (const c of decompress(content.read(digest) as AsyncIterable<Buffer>)) h.update(c);
  } catch (e) {
    throw new RuntimeError('InvalidArgument', `layer ${digest}: ${(e as Error).message}`);
  }
  return `sha256:${h.digest('hex')}`;
}

/** Refuses an image whose layers do not match its config's diff_ids (only `which` layers, if given). */
export async function verifyDiffIds(content: ContentStore, manifest: ImageManifest, config: ImageConfig, which?: Set<string>): Promise<void> {
  const ids = config.rootfs?.diff_ids ?? [];
  if (ids.length !== manifest.layers.length) throw new RuntimeError('InvalidArgument', `image config has ${ids.length} diff ids for ${manifest.layers.length} layers`);
  for (const [i, l] of manifest.layers.entries()) {
    if (which && !which.has(l.digest)) continue;
    const got = await diffIdOf(content, l.digest);
    if (got !== ids[i]) throw new RuntimeError('InvalidArgument', `layer ${l.digest} does not match the image config: its content is ${got}, the config says ${ids[i]} (truncated or corrupt layer)`);
  }
}
