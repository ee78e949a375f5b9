// Unpacks an image's layers into committed snapshots named by chain ID (image-spec config.md
// "Layer ChainID"), verifying each layer's diff ID against the config; shared layers are unpacked once.
// Then prepares a writable snapshot for a container. Does not mount (see mount.ts).
import { createHash, randomBytes } from 'node:crypto';
import { errors, RuntimeError, wrap } from '../../errors/index';
import type { ContentStore } from '../content/index';
import type { ImageConfig, ImageManifest } from '../images/manifest';
import { applyLayer, type ApplyOptions } from './apply-layer';
import type { Mount, Snapshotter } from './index';

/** ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)). */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out.at(-1);
    out.push(prev === undefined ? d : `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}`);
  }
  return out;
}

export type UnpackDeps = { content: ContentStore; snapshotter: Snapshotter };

async function exists(sn: Snapshotter, name: string): Promise<boolean> {
  try {
    return (await sn.stat(name)).kind === 'committed';
  } catch (e) {
    if (e instanceof RuntimeError && e.kind === 'NotFound') return false;
    throw e;
  }
}

/** Unpacks every missing layer; returns the chain ID of the top layer (undefined for no layers). */
export async function unpackImage(deps: UnpackDeps, manifest: ImageManifest, config: ImageConfig, opts: ApplyOptions = {}): Promise<string | undefined> {
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) throw errors.invalid(`image config has ${diffIds.length} diff ids for ${manifest.layers.length} layers`);
  const chains = chainIds(diffIds);
  for (let i = 0; i < chains.length; i++) {
    const chain = chains[i]!;
    if (await exists(deps.snapshotter, chain)) continue;
    const key = `extract-${randomBytes(6).toString('hex')}-${chain}`;
    const parent = i === 0 ? undefined : chains[i - 1];
    await deps.snapshotter.prepare(key, parent, { 'dev.keel.dock.uncompressed': diffIds[i]! });
    try {
      const dir = await deps.snapshotter.upperDir(key);
      const layer = manifest.layers[i]!;
      const r = await applyLayer(dir, deps.content.read(layer.digest), { whiteouts: 'overlay', ...opts });
      if (r.diffId !== diffIds[i]) throw errors.invalid(`layer ${layer.digest}: diff id mismatch: config says ${diffIds[i]}, content is ${r.diffId}`);
      try {
        await deps.snapshotter.commit(chain, key);
      } catch (e) {
        // Someone unpacked the same chain meanwhile: theirs is as good as ours.
        if (!(e instanceof RuntimeError && e.kind === 'AlreadyExists')) throw e;
        await deps.snapshotter.remove(key);
      }
    } catch (e) {
      await deps.snapshotter.remove(key).catch(() => undefined);
      throw wrap(e, `unpack layer ${i + 1}/${chains.length}`);
    }
  }
  return chains.at(-1);
}

/** A writable snapshot for container `id` on top of the image's top layer; returns its mounts. */
export async function prepareContainerRootfs(sn: Snapshotter, id: string, topChain: string | undefined): Promise<Mount[]> {
  return sn.prepare(`container-${id}`, topChain, { 'dev.keel.dock.container': id });
}

/**
 * Removes committed snapshots no image needs any more, leaves first; snapshots under an active
 * container snapshot or view are kept (remove refuses parents anyway).
 */
export async function gcSnapshots(sn: Snapshotter, imageDiffIds: string[][]): Promise<string[]> {
  const keep = new Set(imageDiffIds.flatMap((d) => chainIds(d)));
  const removed: string[] = [];
  for (let changed = true; changed; ) {
    changed = false;
    const all = await sn.list();
    const parents = new Set(all.map((s) => s.parent).filter((p): p is string => p !== undefined));
    for (const s of all) {
      if (s.kind !== 'committed' || keep.has(s.name) || parents.has(s.name)) continue;
      await sn.remove(s.name);
      removed.push(s.name);
      changed = true;
    }
  }
  return removed;
}
