// Makes an image from a writable snapshot: its changes become one uncompressed layer blob (the layer
// tar of layer-writer.ts, so its diff ID is its digest), on top of the base image's layers, with a
// new config (the caller's, plus rootfs and a history entry) and an OCI manifest, stored under a
// name or as an untagged id record. What `docker commit` and each RUN step of a build do. Knows no
// containers, pausing or events: the caller freezes what must not change meanwhile.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { RuntimeError } from '../../errors/index';
import type { ContentStore, Descriptor } from '../content/index';
import type { ImageStore } from '../images/image-store';
import { hostPlatform, MediaType, type ImageConfig, type ImageManifest } from '../images/manifest';
import type { Snapshotter } from './index';
import { EMPTY_LAYER_DIFF_ID, tarUpperDir, type FsReader } from './layer-writer';
import { INIT_PATHS, isInitStub, lowerDirsOf, LowerView } from './overlay-lower';
import { chainIds } from './unpack';
import { putName } from '../images/retag';

export type CommitDeps = { content: ContentStore; images: ImageStore; snapshotter: Snapshotter; fsr: FsReader };

export type CommitOptions = {
  /** The active snapshot holding the changes (a container's writable layer). */
  key: string;
  /** The image the snapshot was prepared from (its top layer is the snapshot's parent); absent for scratch. */
  base?: { config: ImageConfig; manifest: ImageManifest };
  /** The new image's container config (image-spec "config"; Docker's Config fields are kept as given). */
  config: NonNullable<ImageConfig['config']> & Record<string, unknown>;
  /** The history entry's created_by (Docker: the container's Cmd joined by spaces). */
  createdBy: string;
  author?: string;
  comment?: string;
  /** Further top-level config fields (Docker's container, container_config, docker_version). */
  extra?: Record<string, unknown>;
  /** Canonical reference to name the image (docker.io/library/x:tag); absent: an untagged id record. */
  name?: string;
  /**
   * Hand the snapshot over as the new layer's committed snapshot (named by chain ID), so running the
   * image needs no unpacking. Only when nothing mounts key any more and the caller is done with it
   * (a finished build step); key no longer exists afterwards.
   */
  consumeSnapshot?: boolean;
  /** Creation time (default now). */
  created?: Date;
};

export type CommitResult = {
  /** sha256:… of the new config: the image ID. */
  id: string;
  /** Diff ID of the new layer; EMPTY_LAYER_DIFF_ID when nothing changed (then no layer is added). */
  diffId: string;
  emptyLayer: boolean;
  /** Size in bytes of the layer tar. */
  size: number;
  manifest: Descriptor;
  config: ImageConfig;
};

const WRITE_CHUNK = 1 << 20;

/** Docker's layer media types in an OCI manifest become their OCI spellings. */
function ociLayer(d: Descriptor): Descriptor {
  const map: Record<string, string> = {
    [MediaType.dockerLayerGzip]: MediaType.ociLayerGzip,
    [MediaType.dockerForeignLayerGzip]: MediaType.ociLayerNondistGzip,
  };
  return { ...d, mediaType: map[d.mediaType] ?? d.mediaType };
}

/** Writes the layer of snapshot key into the content store; returns its digest (= diff ID) and size. */
async function writeLayer(deps: CommitDeps, upper: string, lowers: string[]): Promise<{ digest: string; size: number }> {
  const w = await deps.content.writer(`commit-${randomBytes(8).toString('hex')}`);
  const h = createHash('sha256');
  let size = 0;
  // Entries come as many small buffers: hand the store whole megabytes.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const b = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    await w.write(b);
  };
  try {
    for await (const c of tarUpperDir(upper, lowers, deps.fsr)) {
      h.update(c);
      size += c.length;
      pending.push(c);
      pendingBytes += c.length;
      if (pendingBytes >= WRITE_CHUNK) await flush();
    }
    await flush();
    const digest = `sha256:${h.digest('hex')}`;
    if (digest === EMPTY_LAYER_DIFF_ID) {
      await w.abort();
      return { digest, size };
    }
    const info = await w.commit({ digest, size });
    return { digest: info.digest, size: info.size };
  } catch (e) {
    await w.abort().catch(() => undefined);
    throw e;
  }
}

/**
 * Commits the changes of snapshot `key` as a new image on top of `base`; returns the image ID.
 * The layer is uncompressed (`application/vnd.oci.image.layer.v1.tar`, compressed on push by
 * registries' clients as they choose), the manifest OCI.
 */
export async function commitSnapshot(deps: CommitDeps, o: CommitOptions): Promise<CommitResult> {
  const upper = await deps.snapshotter.upperDir(o.key);
  const lowers = lowerDirsOf(await deps.snapshotter.mounts(o.key));
  const baseDiffIds = o.base?.config.rootfs.diff_ids ?? [];
  if (lowers.length !== 0 && lowers.length !== baseDiffIds.length) {
    throw new RuntimeError('FailedPrecondition', `snapshot ${o.key} has ${lowers.length} lower layers, its image ${baseDiffIds.length}`);
  }
  const layer = await writeLayer(deps, upper, lowers);
  const emptyLayer = layer.digest === EMPTY_LAYER_DIFF_ID;
  const created = (o.created ?? new Date()).toISOString();
  const platform = o.base ? { architecture: o.base.config.architecture, os: o.base.config.os, variant: o.base.config.variant } : hostPlatform();
  const history = { created, ...(o.author ? { author: o.author } : {}), created_by: o.createdBy, ...(o.comment ? { comment: o.comment } : {}), ...(emptyLayer ? { empty_layer: true } : {}) };
  const config: ImageConfig = {
    architecture: platform.architecture,
    ...(o.author ? { author: o.author } : {}),
    ...(o.comment ? { comment: o.comment } : {}),
    config: o.config,
    ...o.extra,
    created,
    history: [...(o.base?.config.history ?? []), history],
    os: platform.os,
    rootfs: { type: 'layers', diff_ids: emptyLayer ? [...baseDiffIds] : [...baseDiffIds, layer.digest] },
    ...(platform.variant ? { variant: platform.variant } : {}),
  };
  const configBlob = await deps.content.put(Buffer.from(JSON.stringify(config)));
  const layers = (o.base?.manifest.layers ?? []).map(ociLayer);
  if (!emptyLayer) layers.push({ mediaType: MediaType.ociLayer, digest: layer.digest, size: layer.size });
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: configBlob.digest, size: configBlob.size },
    layers,
  };
  const mblob = await deps.content.put(Buffer.from(JSON.stringify(manifest)));
  const target: Descriptor = { mediaType: MediaType.ociManifest, digest: mblob.digest, size: mblob.size };
  await putName(deps, { name: o.name ?? configBlob.digest, target, createdAt: created });
  if (o.consumeSnapshot && !emptyLayer) {
    await removeInitStubs(upper, new LowerView(lowers, deps.fsr));
    await adoptSnapshot(deps.snapshotter, o.key, chainIds(config.rootfs.diff_ids).at(-1)!);
  }
  return { id: configBlob.digest, diffId: layer.digest, emptyLayer, size: layer.size, manifest: target, config };
}

/** Removes the runtime's mount stubs from a finished snapshot, so it holds what its layer holds. */
async function removeInitStubs(upper: string, lower: LowerView): Promise<void> {
  for (const rel of [...INIT_PATHS].sort((a, b) => b.length - a.length)) {
    const p = path.join(upper, rel);
    // The parent must be a real directory: a container may have left a symlink there.
    const parent = path.dirname(rel);
    if (parent !== '.' && !(await fs.lstat(path.join(upper, parent)).catch(() => undefined))?.isDirectory()) continue;
    const st = await fs.lstat(p).catch(() => undefined);
    if (!st || !isInitStub(rel, st) || (await lower.lookup(rel))) continue;
    if (st.isDirectory()) await fs.rmdir(p).catch(() => undefined);
    else await fs.unlink(p);
  }
}

/** Turns active snapshot key into the committed snapshot of chain (someone else's equal one wins). */
async function adoptSnapshot(sn: Snapshotter, key: string, chain: string): Promise<void> {
  try {
    await sn.commit(chain, key);
  } catch (e) {
    if (!(e instanceof RuntimeError && e.kind === 'AlreadyExists')) throw e;
    await sn.remove(key);
  }
}
