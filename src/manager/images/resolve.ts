// Finds local images the way the docker CLI names them: by reference ("busybox" = docker.io/library/
// busybox:latest), by repo digest ("busybox@sha256:…"), or by image ID (config digest, full or a
// prefix). Loads manifest and config. Read-only; errors use docker's "No such image: …" wording.
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
    const images = await listImages(deps);
    const matches = images.filter((i) => i.id.slice(7).startsWith(hex));
    const ids = new Set(matches.map((m) => m.id));
    if (ids.size > 1) throw errors.invalid(`ambiguous image id prefix ${input}`);
    if (matches[0]) return { image: matches[0] };
  }
  throw noSuchImage(input);
}
