// Tagging, untagging and deleting local images with docker's rules (daemon/images/image_delete.go),
// and the garbage collector that deletes blobs no record reaches. Never deletes a blob some image uses.
import { errors, RuntimeError } from '../../errors/index';
import type { ContentStore } from '../content/index';
import type { ImageStore } from './image-store';
import type { Leases } from '../leases';
import { isIndexType, parseManifestOrIndex } from './manifest';
import { familiarString, formatReference, parseNormalized, parseReference } from './reference';
import { resolveImage, type ImageDeps } from './resolve';
import { isIdRecord } from './inspect';
import { putName } from './retag';

/** `docker tag SOURCE TARGET`: a new record for target pointing at source's manifest. */
export async function tagImage(deps: ImageDeps, source: string, target: string): Promise<string> {
  const { image } = await resolveImage(deps, source);
  const ref = parseReference(target);
  if (ref.digest) throw errors.invalid(`refusing to create a tag with a digest reference`);
  const rec = image.records[0];
  const name = formatReference(ref);
  // Already this image's name (a rebuild that hit the cache): nothing to write.
  if (image.records.some((r) => r.name === name) && !image.records.some((r) => isIdRecord(r.name))) return name;
  await putName(deps, {
    name,
    target: rec ? rec.target : { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: image.manifestDigest, size: (await deps.content.info(image.manifestDigest)).size },
    createdAt: new Date().toISOString(),
  });
  // A named image is no longer dangling.
  for (const r of image.records) if (isIdRecord(r.name)) await deps.images.delete(r.name).catch(() => undefined);
  return name;
}

export type RemoveResult = { untagged: string[]; deleted: string[] };

/**
 * `docker rmi`: by reference untags (and deletes when it was the last name); by ID deletes, which
 * needs force when several repositories name the image. Blobs go in gc().
 */
export async function removeImage(deps: ImageDeps, input: string, opts: { force?: boolean } = {}): Promise<RemoveResult> {
  const { image, record } = await resolveImage(deps, input);
  const out: RemoveResult = { untagged: [], deleted: [] };
  let parsed;
  try {
    parsed = parseNormalized(input);
  } catch {
    parsed = undefined;
  }
  const byDigest = parsed?.digest !== undefined && parsed.tag === undefined;
  let toRemove = record ? [record] : image.records;
  if (!record && byDigest) toRemove = image.records;
  if (!record && !byDigest && !opts.force) {
    const repos = new Set(image.records.map((r) => r.name.replace(/[:@].*$/, '')));
    if (repos.size > 1) {
      throw new RuntimeError(
        'FailedPrecondition',
        `conflict: unable to delete ${image.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`,
      );
    }
  }
  for (const r of toRemove) {
    await deps.images.delete(r.name);
    if (isIdRecord(r.name)) continue;
    out.untagged.push(familiarString(parseReference(r.name)));
    if (r.repoDigest && !r.name.includes('@')) {
      const ref = parseReference(r.name);
      delete ref.tag;
      ref.digest = r.repoDigest;
      const rd = familiarString(ref);
      if (!out.untagged.includes(rd)) out.untagged.push(rd);
    }
  }
  const left = (await deps.images.list()).filter((r) => r.target.digest === image.manifestDigest);
  if (left.length === 0) out.deleted.push(image.id);
  return out;
}

/** Digests every record reaches: manifests (and a stored top-level index), configs and layers. */
export async function reachableBlobs(deps: ImageDeps): Promise<Set<string>> {
  const keep = new Set<string>();
  const visit = async (digest: string, mediaType: string | undefined): Promise<void> => {
    if (keep.has(digest)) return;
    keep.add(digest);
    let data: Buffer;
    try {
      data = await deps.content.readAll(digest);
    } catch (e) {
      if (e instanceof RuntimeError && e.kind === 'NotFound') return;
      throw e;
    }
    const p = parseManifestOrIndex(data, mediaType);
    if (p.manifest) {
      keep.add(p.manifest.config.digest);
      for (const l of p.manifest.layers) keep.add(l.digest);
    }
    if (p.index) {
      for (const m of p.index.manifests) if (await deps.content.has(m.digest)) await visit(m.digest, m.mediaType);
    }
  };
  for (const r of await deps.images.list()) {
    await visit(r.target.digest, r.target.mediaType);
    if (r.repoDigest && r.repoDigest !== r.target.digest && (await deps.content.has(r.repoDigest))) {
      const data = await deps.content.readAll(r.repoDigest);
      keep.add(r.repoDigest);
      const p = parseManifestOrIndex(data);
      if (!isIndexType(p.mediaType)) await visit(r.repoDigest, p.mediaType);
    }
  }
  return keep;
}

/** Deletes every blob no image record reaches; returns the deleted digests. */
export async function gc(deps: { content: ContentStore; images: ImageStore; leases?: Leases }): Promise<string[]> {
  const keep = await reachableBlobs(deps);
  for (const d of (await deps.leases?.held()) ?? []) keep.add(d);
  const deleted: string[] = [];
  for await (const b of deps.content.list()) {
    if (keep.has(b.digest)) continue;
    try {
      await deps.content.delete(b.digest);
      deleted.push(b.digest);
    } catch (e) {
      if (!(e instanceof RuntimeError && e.kind === 'NotFound')) throw e;
    }
  }
  return deleted;
}
