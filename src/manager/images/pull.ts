// Pull: resolve a reference to a platform manifest, fetch config and layers concurrently into the
// content store (verified by digest and size, resumed from partial ingestions, skipped when already
// present), then write the image record. Does not unpack layers; see snapshots/unpack.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import { errors, RuntimeError, wrap } from '../../errors/index';
import type { ContentStore, Descriptor, Platform } from '../content/index';
import type { ImageRecord, ImageStore } from './image-store';
import { hostPlatform, parseConfig, parseManifestOrIndex, selectPlatform, type ImageConfig, type ImageManifest } from './manifest';
import { noProgress, shortId, type ProgressSink } from './progress';
import { formatReference, type Reference } from './reference';
import type { RegistryClient } from './registry/client';
import type { Leases } from '../leases';
import { verifyDiffIds } from './verify';
import { putName } from './retag';

export type PullDeps = { client: RegistryClient; content: ContentStore; images: ImageStore; leases?: Leases };

export type PullOptions = {
  platform?: Platform;
  /** Parallel blob downloads (dockerd's max-concurrent-downloads defaults to 3). */
  concurrency?: number;
  progress?: ProgressSink;
};

export type PullResult = {
  record: ImageRecord;
  manifest: ImageManifest;
  config: ImageConfig;
  /** True when every blob was already present and the record did not change. */
  upToDate: boolean;
};

/** Runs fn over items with at most n in flight; the first failure rejects once all have settled. */
export async function mapLimit<T, R>(items: T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < items.length && failure === undefined) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  if (failure !== undefined) throw failure;
  return out;
}

const MAX_ATTEMPTS = 3;
const WRITE_BATCH = 1 << 20;

/**
 * Downloads one blob into the store unless it is there. Resumes a partial ingestion with a Range
 * request; a broken connection is retried from where it stopped. Returns false when it already existed.
 */
export async function fetchBlob(deps: PullDeps, host: string, repo: string, desc: Descriptor, progress: ProgressSink): Promise<boolean> {
  const id = shortId(desc.digest);
  if (await deps.content.has(desc.digest)) return false;
  for (let attempt = 1; ; attempt++) {
    let w;
    try {
      w = await deps.content.writer(`pull-${desc.digest}`);
    } catch (e) {
      // Another pull is fetching the same blob: wait for it to land.
      if (e instanceof RuntimeError && e.kind === 'Unavailable') {
        await sleep(100);
        if (await deps.content.has(desc.digest)) return false;
        continue;
      }
      throw e;
    }
    let failedInStream = false;
    try {
      if (w.offset > desc.size) await w.reset();
      if (w.offset === desc.size && desc.size > 0) {
        // A partial blob that is already whole (a pull killed after the last byte): asking for
        // the rest would be a range past the end (HTTP 416). Commit it, or start over.
        try {
          await w.commit({ digest: desc.digest, size: desc.size });
          progress({ id, status: 'Download complete' });
          return true;
        } catch (e) {
          if (!(e instanceof RuntimeError && e.kind === 'InvalidArgument')) throw e;
          continue;
        }
      }
      const { body, resumed } = await deps.client.getBlob(host, repo, desc.digest, w.offset);
      if (w.offset > 0 && !resumed) await w.reset();
      failedInStream = true;
      progress({ id, status: 'Downloading', current: w.offset, total: desc.size });
      // Batch chunks into ~1 MiB writes and keep one write in flight while the socket keeps
      // receiving: awaiting each 64 KiB write stalls the connection through backpressure.
      let batch: Buffer[] = [];
      let batched = 0;
      let received = w.offset;
      let inflight: Promise<void> = Promise.resolve();
      const flush = async () => {
        await inflight;
        const data = batch.length === 1 ? batch[0]! : Buffer.concat(batch, batched);
        batch = [];
        batched = 0;
        inflight = w.write(data).then(() => progress({ id, status: 'Downloading', current: w.offset, total: desc.size }));
      };
      try {
        for await (const chunk of body) {
          const buf = chunk as Buffer;
          received += buf.length;
          if (received > desc.size) {
            body.destroy();
            throw errors.invalid(`size mismatch: ${desc.digest} is longer than ${desc.size} bytes`);
          }
          batch.push(buf);
          batched += buf.length;
          if (batched >= WRITE_BATCH) await flush();
        }
        if (batched > 0) await flush();
      } finally {
        await inflight;
      }
      failedInStream = false;
      progress({ id, status: 'Verifying Checksum' });
      await w.commit({ digest: desc.digest, size: desc.size });
      progress({ id, status: 'Download complete' });
      return true;
    } catch (e) {
      const transient = failedInStream && !(e instanceof RuntimeError && e.kind === 'InvalidArgument');
      if (transient && attempt < MAX_ATTEMPTS) {
        await w.close();
        continue;
      }
      await w.abort();
      throw wrap(e, `fetch ${desc.digest}`);
    }
  }
}

/** Fetches a manifest (by digest) into the store when it is missing; returns its bytes. */
async function storeManifest(deps: PullDeps, host: string, repo: string, desc: Descriptor): Promise<Buffer> {
  if (await deps.content.has(desc.digest)) return deps.content.readAll(desc.digest);
  const m = await deps.client.getManifest(host, repo, desc.digest);
  await deps.content.put(m.data, { digest: desc.digest, size: desc.size });
  return m.data;
}

/** Pulls ref (tag or digest) for one platform. */
export async function pullImage(deps: PullDeps, ref: Reference, opts: PullOptions = {}): Promise<PullResult> {
  const lease = await deps.leases?.create();
  try {
    return await pullLeased(deps, ref, opts, (...d) => lease?.add(...d) ?? Promise.resolve());
  } finally {
    await lease?.release();
  }
}

async function pullLeased(deps: PullDeps, ref: Reference, opts: PullOptions, hold: (...digests: string[]) => Promise<void>): Promise<PullResult> {
  const progress = opts.progress ?? noProgress;
  const want = opts.platform ?? hostPlatform();
  const { domain: host, path: repo } = ref;
  const top = await deps.client.getManifest(host, repo, ref.digest ?? ref.tag ?? 'latest');
  const parsed = parseManifestOrIndex(top.data, top.mediaType);
  await hold(top.digest);
  await deps.content.put(top.data, { digest: top.digest });
  let target: Descriptor = { mediaType: parsed.mediaType, digest: top.digest, size: top.data.length };
  let manifest = parsed.manifest;
  if (parsed.index) {
    target = selectPlatform(parsed.index, want);
    await hold(target.digest);
    const data = await storeManifest(deps, host, repo, target);
    const m = parseManifestOrIndex(data, target.mediaType);
    if (!m.manifest) throw errors.invalid(`${target.digest}: index entry is not an image manifest`);
    manifest = m.manifest;
    target = { mediaType: m.mediaType, digest: target.digest, size: target.size, ...(target.platform ? { platform: target.platform } : {}) };
  }
  if (!manifest) throw errors.internal('manifest missing after resolve');

  const blobs = [manifest.config, ...manifest.layers];
  await hold(...blobs.map((b) => b.digest));
  for (const l of manifest.layers) progress({ id: shortId(l.digest), status: 'Pulling fs layer' });
  const fetched = await mapLimit(blobs, opts.concurrency ?? 3, async (d, i) => {
    const isNew = await fetchBlob(deps, host, repo, d, i === 0 ? noProgress : progress);
    if (i > 0) progress({ id: shortId(d.digest), status: isNew ? 'Pull complete' : 'Already exists' });
    return isNew;
  });
  const config = parseConfig(await deps.content.readAll(manifest.config.digest));
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw errors.invalid(`image ${formatReference(ref)}: config has ${config.rootfs.diff_ids.length} diff ids for ${manifest.layers.length} layers`);
  }
  const fresh = new Set(manifest.layers.filter((_l, i) => fetched[i + 1]).map((l) => l.digest));
  if (fresh.size) await verifyDiffIds(deps.content, manifest, config, fresh);
  if (!target.platform) target.platform = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };

  const name = formatReference(ref);
  let previous: ImageRecord | undefined;
  try {
    previous = await deps.images.get(name);
  } catch (e) {
    if (!(e instanceof RuntimeError && e.kind === 'NotFound')) throw e;
  }
  const record: ImageRecord = { name, target, repoDigest: top.digest };
  const upToDate = !fetched.some((x) => x) && previous?.target.digest === target.digest;
  if (!upToDate || previous?.repoDigest !== top.digest) await putName(deps, record);
  return { record, manifest, config, upToDate };
}
