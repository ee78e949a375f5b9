// save/load of image tarballs. save writes what docker 25+ `docker save` writes: an OCI layout
// (oci-layout, index.json, blobs/sha256) plus docker's manifest.json, so the file is a docker-archive
// and an oci-archive at once, with blobs unchanged (digests survive). load reads that, the legacy
// docker save format (<id>/layer.tar, <id>.json, manifest.json, repositories) and skopeo's oci-archive,
// optionally gzip/zstd-compressed. Never unpacks layers.
import { createHash, randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errors } from '../../errors/index';
import type { ContentStore, Descriptor } from '../content/index';
import { decompress } from '../snapshots/apply-layer';
import { readTar } from '../snapshots/tar-reader';
import { ANNOTATION_CONTAINERD_NAME, ANNOTATION_REF_NAME, type ImageStore } from './image-store';
import { verifyDiffIds } from './verify';
import { MediaType, parseConfig, parseManifestOrIndex, type ImageManifest } from './manifest';
import { familiarString, formatReference, parseReference } from './reference';
import { resolveImage, type ImageDeps } from './resolve';
import type { Leases } from '../leases';
import { putName } from './retag';

type DockerManifestEntry = { Config: string; RepoTags: string[] | null; Layers: string[] };

/** Writes the images named by `inputs` as one tar to `out`. */
export async function saveImages(deps: ImageDeps, inputs: string[], out: Writable): Promise<void> {
  // tar-stream only when saving, so other verbs do not load it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { pack } = require('tar-stream') as typeof import('tar-stream');
  const p = pack();
  const done = pipeline(p, out);
  const written = new Set<string>();
  const index: Descriptor[] = [];
  const manifestJson: DockerManifestEntry[] = [];
  const addBlob = async (digest: string, size: number) => {
    if (written.has(digest)) return;
    written.add(digest);
    const entry = p.entry({ name: `blobs/sha256/${digest.slice(7)}`, size, mode: 0o444, mtime: new Date(0) });
    await pipeline(deps.content.read(digest), entry);
  };
  const addFile = (name: string, data: string) =>
    new Promise<void>((resolve, reject) => p.entry({ name, mode: 0o444, mtime: new Date(0) }, data, (e) => (e ? reject(e) : resolve())));
  // Directory entries first: skopeo's oci-archive reader does not create missing parents.
  for (const dir of ['blobs', 'blobs/sha256']) {
    await new Promise<void>((resolve, reject) => p.entry({ name: dir, type: 'directory', mode: 0o755, mtime: new Date(0) }, (e) => (e ? reject(e) : resolve())));
  }
  for (const input of inputs) {
    const { image, record } = await resolveImage(deps, input);
    const m = image.manifest;
    for (const d of [m.config, ...m.layers]) await addBlob(d.digest, d.size);
    const mInfo = await deps.content.info(image.manifestDigest);
    await addBlob(image.manifestDigest, mInfo.size);
    const records = record ? [record] : image.records;
    const tags = records.filter((r) => !r.name.includes('@')).map((r) => familiarString(parseReference(r.name)));
    const mediaType = records[0]?.target.mediaType ?? MediaType.ociManifest;
    for (const r of records.length > 0 ? records : [undefined]) {
      const d: Descriptor = { mediaType, digest: image.manifestDigest, size: mInfo.size };
      if (r && !r.name.includes('@')) d.annotations = { [ANNOTATION_CONTAINERD_NAME]: r.name, [ANNOTATION_REF_NAME]: parseReference(r.name).tag ?? 'latest' };
      index.push(d);
    }
    manifestJson.push({ Config: `blobs/sha256/${m.config.digest.slice(7)}`, RepoTags: tags.length > 0 ? tags : null, Layers: m.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`) });
  }
  await addFile('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await addFile('index.json', JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: index }));
  await addFile('manifest.json', JSON.stringify(manifestJson));
  p.finalize();
  await done;
}

type Stored = { digest: string; size: number };

function clean(name: string): string {
  return name.split('/').filter((x) => x !== '' && x !== '.').join('/');
}

function layerMediaType(head: Buffer | undefined): string {
  if (head && head[0] === 0x1f && head[1] === 0x8b) return MediaType.ociLayerGzip;
  if (head && head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return MediaType.ociLayerZstd;
  return MediaType.ociLayer;
}

export type LoadResult = { loaded: string[]; untaggedIds: string[] };

/** Reads an image tarball from `src` into the stores and names the images it carries. */
export async function loadImages(deps: ImageDeps & { images: ImageStore; content: ContentStore; leases?: Leases }, src: Readable): Promise<LoadResult> {
  const lease = await deps.leases?.create();
  try {
    return await loadLeased(deps, src, (d) => lease?.add(d) ?? Promise.resolve());
  } finally {
    await lease?.release();
  }
}

async function loadLeased(deps: ImageDeps & { images: ImageStore; content: ContentStore }, src: Readable, hold: (digest: string) => Promise<void>): Promise<LoadResult> {
  const files = new Map<string, Stored>();
  const heads = new Map<string, Buffer>();
  const links = new Map<string, string>();
  const small = new Map<string, Buffer>();
  for await (const { header, body } of readTar(decompress(src))) {
    const name = clean(header.name);
    if (header.type === 'symlink' || header.type === 'link') {
      const target = header.type === 'symlink' ? clean(`${name.split('/').slice(0, -1).join('/')}/${header.linkname}`.split('/').reduce<string[]>((a, c) => (c === '..' ? a.slice(0, -1) : [...a, c]), []).join('/')) : clean(header.linkname);
      links.set(name, target);
      continue;
    }
    if (header.type !== 'file') continue;
    const w = await deps.content.writer(`load-${randomBytes(8).toString('hex')}`);
    try {
      const hash = createHash('sha256');
      let head: Buffer | undefined;
      const keep = name.endsWith('.json') || name === 'repositories' || name === 'oci-layout' || header.size < 1 << 20;
      const parts: Buffer[] = [];
      for await (const c of body) {
        head ??= c.subarray(0, 8);
        hash.update(c);
        if (keep) parts.push(c);
        await w.write(c);
      }
      const expected = /^blobs\/sha256\/[a-f0-9]{64}$/.test(name) ? `sha256:${name.slice(13)}` : undefined;
      if (expected) await hold(expected);
      const info = await w.commit(expected ? { digest: expected } : undefined);
      await hold(info.digest);
      files.set(name, { digest: info.digest, size: info.size });
      if (head) heads.set(name, head);
      if (keep) small.set(name, Buffer.concat(parts));
    } catch (e) {
      await w.abort();
      throw e;
    }
  }
  const lookup = (p: string): Stored => {
    let n = clean(p);
    for (let i = 0; i < 10 && links.has(n); i++) n = links.get(n)!;
    const f = files.get(n);
    if (!f) throw errors.invalid(`archive: ${p} is missing`);
    return f;
  };
  const read = async (p: string) => small.get(clean(p)) ?? (await deps.content.readAll(lookup(p).digest));
  const result: LoadResult = { loaded: [], untaggedIds: [] };
  // Every image named or reported must have layers matching its config's diff_ids.
  const verified = new Set<string>();
  const verifyTarget = async (target: Descriptor) => {
    if (verified.has(target.digest)) return;
    const m = parseManifestOrIndex(await deps.content.readAll(target.digest), target.mediaType);
    if (!m.manifest) throw errors.invalid(`archive: ${target.digest} is not an image manifest`);
    await verifyDiffIds(deps.content, m.manifest, parseConfig(await deps.content.readAll(m.manifest.config.digest)));
    verified.add(target.digest);
  };
  const untagged = async (configDigest: string, target: Descriptor) => {
    await verifyTarget(target);
    await deps.images.put({ name: configDigest, target, createdAt: new Date().toISOString() });
    result.untaggedIds.push(configDigest);
  };
  const name = async (tag: string, target: Descriptor) => {
    await verifyTarget(target);
    const ref = parseReference(tag);
    await putName(deps, { name: formatReference(ref), target, createdAt: new Date().toISOString() });
    result.loaded.push(familiarString(ref));
  };

  // OCI manifests in the archive's index.json, by config digest, so manifest.json entries reuse them.
  const ociByConfig = new Map<string, { desc: Descriptor; manifest: ImageManifest }>();
  const ociNamed: { desc: Descriptor; name: string }[] = [];
  if (files.has('index.json')) {
    const visit = async (d: Descriptor): Promise<void> => {
      const data = await deps.content.readAll(lookup(`blobs/sha256/${d.digest.slice(7)}`).digest);
      const p = parseManifestOrIndex(data, d.mediaType);
      if (p.index) {
        for (const m of p.index.manifests) if (files.has(`blobs/sha256/${m.digest.slice(7)}`)) await visit({ ...m, annotations: { ...(d.annotations ?? {}), ...(m.annotations ?? {}) } });
        return;
      }
      const desc: Descriptor = { mediaType: p.mediaType, digest: d.digest, size: d.size, ...(d.platform ? { platform: d.platform } : {}) };
      ociByConfig.set(p.manifest!.config.digest, { desc, manifest: p.manifest! });
      const a = d.annotations ?? {};
      const n = a[ANNOTATION_CONTAINERD_NAME] ?? a[ANNOTATION_REF_NAME];
      if (n) ociNamed.push({ desc, name: n });
    };
    const idx = parseManifestOrIndex(await read('index.json'), MediaType.ociIndex);
    if (!idx.index) throw errors.invalid('archive: index.json is not an image index');
    for (const d of idx.index.manifests) await visit(d);
  }

  if (files.has('manifest.json')) {
    const entries = JSON.parse((await read('manifest.json')).toString()) as DockerManifestEntry[];
    for (const e of entries) {
      const config = lookup(e.Config);
      let target = ociByConfig.get(config.digest)?.desc;
      if (!target) {
        const manifest = {
          schemaVersion: 2,
          mediaType: MediaType.ociManifest,
          config: { mediaType: MediaType.ociConfig, digest: config.digest, size: config.size },
          layers: e.Layers.map((l) => ({ mediaType: layerMediaType(heads.get(clean(l))), ...lookup(l) })),
        };
        const data = Buffer.from(JSON.stringify(manifest));
        await hold(`sha256:${createHash('sha256').update(data).digest('hex')}`);
        const info = await deps.content.put(data);
        target = { mediaType: MediaType.ociManifest, digest: info.digest, size: info.size };
      }
      if (!e.RepoTags || e.RepoTags.length === 0) await untagged(config.digest, target);
      for (const t of e.RepoTags ?? []) await name(t, target);
    }
  } else {
    for (const { desc, name: n } of ociNamed) {
      let ref;
      try {
        ref = parseReference(n);
      } catch {
        ref = undefined;
      }
      if (ref) await name(n, desc);
      else await untagged([...ociByConfig.entries()].find(([, v]) => v.desc.digest === desc.digest)![0], desc);
    }
    if (ociNamed.length === 0) for (const [k, v] of ociByConfig) await untagged(k, v.desc);
  }
  if (result.loaded.length === 0 && result.untaggedIds.length === 0) throw errors.invalid('archive: no images found (neither manifest.json nor index.json)');
  return result;
}
