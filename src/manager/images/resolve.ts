// Finds local images the way the docker CLI names them: by reference ("busybox" = docker.io/library/
// busybox:latest), by repo digest ("busybox@sha256:…"), or by image ID (config digest, full or a
// prefix). Loads manifest and config of the one image found; an ID is matched through a memo of
// manifest digest → config digest (content-addressed, so it never goes stale). Read-only; errors use
// docker's "No such image: …" wording.
import { errors, RuntimeError } from '../../errors/index';
import type { ContentStore } from '../content/index';
import type { ImageRecord, ImageStore } from './image-store';
import { parseConfig, parseManifestOrIndex, type ImageConfig, type ImageManifest } from './manifest';
import { formatReference, parseNormalized, repositoryName } from './reference';

export type LocalImage = {
  /** "sha256:<config digest hex>", docker's image ID. */
  id: string;
  /** Every record pointing at this manifest. */
  records: ImageRecord[];
  manifest: ImageManifest;
  manifestDigest: string;
  config: ImageConfig;
};

export type ImageDeps = { content: ContentStore; images: ImageStore };

export async function loadImage(deps: ImageDeps, record: ImageRecord, all?: ImageRecord[]): Promise<LocalImage> {
  const data = await deps.content.readAll(record.target.digest);
  const parsed = parseManifestOrIndex(data, record.target.mediaType);
  if (!parsed.manifest) throw errors.invalid(`image ${record.name}: target is not an image manifest`);
  const config = parseConfig(await deps.content.readAll(parsed.manifest.config.digest));
  const records = (all ?? (await deps.images.list())).filter((r) => r.target.digest === record.target.digest);
  return { id: parsed.manifest.config.digest, records, manifest: parsed.manifest, manifestDigest: record.target.digest, config };
}

/**
 * manifest digest → config digest. A manifest's bytes are fixed by its digest, so an entry is true
 * for any store and forever; only whether the blob still exists can change, and loadImage reads it.
 */
const configOfManifest = new Map<string, string>();
const MEMO_MAX = 65536;

async function configDigestOf(deps: ImageDeps, record: ImageRecord): Promise<string | undefined> {
  const m = record.target.digest;
  const hit = configOfManifest.get(m);
  if (hit !== undefined) return hit;
  let data: Buffer;
  try {
    data = await deps.content.readAll(m);
  } catch (e) {
    if (e instanceof RuntimeError && e.kind === 'NotFound') return undefined;
    throw e;
  }
  let id: string | undefined;
  try {
    id = parseManifestOrIndex(data, record.target.mediaType).manifest?.config.digest;
  } catch {
    return undefined;
  }
  if (id === undefined) return undefined;
  if (configOfManifest.size >= MEMO_MAX) configOfManifest.clear();
  configOfManifest.set(m, id);
  return id;
}

/**
 * The local images whose ID starts with hex (full or a prefix), one record each, without loading
 * the configs of the others. A step image's own id record ("sha256:<hex>") is found directly.
 */
async function recordsById(deps: ImageDeps, all: ImageRecord[], hex: string): Promise<Map<string, ImageRecord>> {
  const out = new Map<string, ImageRecord>();
  if (hex.length === 64) {
    const own = all.find((r) => r.name === `sha256:${hex}`);
    if (own && (await configDigestOf(deps, own)) === own.name) return out.set(own.name, own);
  }
  const seen = new Set<string>();
  for (const r of all) {
    if (seen.has(r.target.digest)) continue;
    seen.add(r.target.digest);
    const id = await configDigestOf(deps, r);
    if (id !== undefined && id.slice(7).startsWith(hex) && !out.has(id)) out.set(id, r);
  }
  return out;
}

/** True when an image with this full ID ("sha256:…") exists locally (its manifest and config readable). */
export async function hasImage(deps: ImageDeps, id: string): Promise<boolean> {
  const hex = id.replace(/^sha256:/, '');
  if (!/^[a-f0-9]{64}$/.test(hex)) return false;
  const all = await deps.images.list();
  const r = (await recordsById(deps, all, hex)).get(`sha256:${hex}`);
  if (!r) return false;
  try {
    await deps.content.info(`sha256:${hex}`);
    return true;
  } catch (e) {
    if (e instanceof RuntimeError && e.kind === 'NotFound') return false;
    throw e;
  }
}

/** Every local image, one entry per distinct manifest, in record order. */
export async function listImages(deps: ImageDeps): Promise<LocalImage[]> {
  const all = await deps.images.list();
  const seen = new Set<string>();
  const out: LocalImage[] = [];
  for (const r of all) {
    if (seen.has(r.target.digest)) continue;
    seen.add(r.target.digest);
    try {
      out.push(await loadImage(deps, r, all));
    } catch (e) {
      if (!(e instanceof RuntimeError && e.kind === 'NotFound')) throw e;
    }
  }
  return out;
}

function noSuchImage(input: string): RuntimeError {
  let shown = input;
  try {
    const r = parseNormalized(input);
    if (r.tag === undefined && r.digest === undefined) shown = `${input}:latest`;
  } catch {
    // shown as typed
  }
  return errors.notFound(`No such image: ${shown}`);
}

/**
 * Resolves what a user typed to a local image. A reference wins over an ID prefix, as in docker
 * (daemon/images/image.go GetImage).
 */
export async function resolveImage(deps: ImageDeps, input: string): Promise<{ image: LocalImage; record?: ImageRecord }> {
  const all = await deps.images.list();
  let parsed;
  try {
    parsed = parseNormalized(input);
  } catch {
    parsed = undefined;
  }
  if (parsed) {
    if (parsed.tag === undefined && parsed.digest === undefined) parsed.tag = 'latest';
    const name = formatReference(parsed);
    const exact = all.find((r) => r.name === name);
    if (exact) return { image: await loadImage(deps, exact, all), record: exact };
    if (parsed.digest && parsed.tag === undefined) {
      const repo = repositoryName(parsed);
      const byRepoDigest = all.find(
        (r) => (r.repoDigest === parsed.digest || r.target.digest === parsed.digest) && r.name.startsWith(repo) && /^[:@]/.test(r.name.slice(repo.length)),
      );
      if (byRepoDigest) return { image: await loadImage(deps, byRepoDigest, all) };
    }
  }
  const hex = input.replace(/^sha256:/, '');
  if (/^[a-f0-9]{1,64}$/.test(hex)) {
    const matches = await recordsById(deps, all, hex);
    if (matches.size > 1) throw errors.invalid(`ambiguous image id prefix ${input}`);
    for (const r of matches.values()) {
      try {
        return { image: await loadImage(deps, r, all) };
      } catch (e) {
        if (!(e instanceof RuntimeError && e.kind === 'NotFound')) throw e;
      }
    }
  }
  throw noSuchImage(input);
}
