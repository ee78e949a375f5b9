// Push: for each blob of a local image, HEAD it on the target repository, else mount it from another
// repository of the same registry that holds it, else upload it (monolithic PUT or chunked PATCHes);
// then PUT the manifest bytes unchanged (so its digest survives) under the tag.
import { PassThrough, Transform, type Readable } from 'node:stream';
import { errors } from '../../errors/index';
import type { Descriptor } from '../content/index';
import type { ImageStore } from './image-store';
import { mapLimit } from './pull';
import { noProgress, shortId, type ProgressSink } from './progress';
import { formatReference, parseReference, type Reference } from './reference';
import type { RegistryClient } from './registry/client';
import { listImages, resolveImage, type ImageDeps } from './resolve';

export type PushDeps = ImageDeps & { client: RegistryClient; images: ImageStore };

export type PushOptions = {
  /** Upload in PATCH chunks of this many bytes instead of one PUT. */
  chunkSize?: number;
  concurrency?: number;
  progress?: ProgressSink;
  /** Skip cross-repository mounts (for tests and registries that mishandle them). */
  noMount?: boolean;
};

export type PushResult = { ref: Reference; digest: string; size: number };

/** Counts bytes flowing through and reports them. */
function counter(onBytes: (n: number) => void): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      onBytes(n);
      cb(null, chunk);
    },
  });
}

async function* chunked(src: Readable, size: number): AsyncIterable<Buffer> {
  let parts: Buffer[] = [];
  let have = 0;
  for await (const c of src) {
    let buf = c as Buffer;
    while (have + buf.length >= size) {
      const take = size - have;
      parts.push(buf.subarray(0, take));
      yield Buffer.concat(parts);
      parts = [];
      have = 0;
      buf = buf.subarray(take);
    }
    if (buf.length > 0) {
      parts.push(buf);
      have += buf.length;
    }
  }
  if (have > 0) yield Buffer.concat(parts);
}

/** Repositories on host whose local images use digest (mount sources), target repo excluded. */
async function mountSources(deps: ImageDeps, host: string, repo: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const img of await listImages(deps)) {
    for (const r of img.records) {
      const ref = parseReference(r.name);
      if (ref.domain !== host || ref.path === repo || !r.repoDigest) continue;
      for (const d of [img.manifest.config, ...img.manifest.layers]) if (!out.has(d.digest)) out.set(d.digest, ref.path);
    }
  }
  return out;
}

async function pushBlob(deps: PushDeps, ref: Reference, d: Descriptor, mountFrom: string | undefined, opts: PushOptions, progress: ProgressSink): Promise<void> {
  const { domain: host, path: repo } = ref;
  const id = shortId(d.digest);
  if (await deps.client.hasBlob(host, repo, d.digest)) {
    progress({ id, status: 'Layer already exists' });
    return;
  }
  const start = await deps.client.startUpload(host, repo, mountFrom ? { digest: d.digest, from: mountFrom } : undefined);
  if (start.mounted) {
    progress({ id, status: 'Mounted', detail: `from ${mountFrom}` });
    return;
  }
  progress({ id, status: 'Pushing', current: 0, total: d.size });
  const report = (n: number) => progress({ id, status: 'Pushing', current: n, total: d.size });
  if (opts.chunkSize && d.size > opts.chunkSize) {
    const src = deps.content.read(d.digest).pipe(counter(report));
    await deps.client.putBlobChunked(host, repo, start.location, d.digest, chunked(src, opts.chunkSize));
  } else {
    const open = () => deps.content.read(d.digest).pipe(counter(report)).pipe(new PassThrough({ highWaterMark: 1 << 20 }));
    await deps.client.putBlob(host, repo, start.location, d.digest, d.size, open);
  }
  progress({ id, status: 'Pushed' });
}

/** Pushes the local image `name` to the registry and repository its name says. */
export async function pushImage(deps: PushDeps, name: string, opts: PushOptions = {}): Promise<PushResult> {
  const progress = opts.progress ?? noProgress;
  const ref = parseReference(name);
  if (ref.digest) throw errors.invalid('cannot push a digest reference');
  const { image, record } = await resolveImage(deps, name);
  if (!record) throw errors.notFound(`No such image: ${name}`);
  const sources = opts.noMount ? new Map<string, string>() : await mountSources(deps, ref.domain, ref.path);
  for (const l of image.manifest.layers) progress({ id: shortId(l.digest), status: 'Preparing' });
  // dockerd uploads the layers, then the config as it builds the manifest: a refused push names a
  // layer, whatever order the concurrent requests finish in.
  await mapLimit(image.manifest.layers, opts.concurrency ?? 5, (d) => pushBlob(deps, ref, d, sources.get(d.digest), opts, progress));
  await pushBlob(deps, ref, image.manifest.config, sources.get(image.manifest.config.digest), opts, noProgress);
  const data = await deps.content.readAll(record.target.digest);
  const digest = await deps.client.putManifest(ref.domain, ref.path, ref.tag ?? 'latest', data, record.target.mediaType);
  if (digest !== record.target.digest) throw errors.internal(`push ${formatReference(ref)}: registry reports digest ${digest}, expected ${record.target.digest}`);
  await deps.images.put({ ...record, repoDigest: digest });
  return { ref, digest, size: data.length };
}
