// Image records (name → manifest descriptor) kept in the OCI layout's index.json, one entry per name,
// annotated the way skopeo (org.opencontainers.image.ref.name) and containerd (io.containerd.image.name)
// read them. Updates are atomic (temp file + rename) under a lock file. Never touches blobs.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { errors } from '../../errors/index';
import type { Descriptor } from '../content/index';
import { withLock } from '../lock-file';
import { initLayout } from '../content/local/store';

export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
export const ANNOTATION_CONTAINERD_NAME = 'io.containerd.image.name';
/** The digest the registry served for this name (an index digest for multi-platform images). */
export const ANNOTATION_REPO_DIGEST = 'dev.keel.dock.repo-digest';
/** When the record was written (RFC 3339). */
export const ANNOTATION_CREATED = 'dev.keel.dock.created';

export type ImageRecord = {
  /** Canonical reference: "docker.io/library/busybox:latest" or "…/busybox@sha256:…". */
  name: string;
  /** The platform manifest this name points at. */
  target: Descriptor;
  /** Registry-side digest (RepoDigests), when the image came from or went to a registry. */
  repoDigest?: string;
  createdAt?: string;
};

/** Name → manifest records. */
export interface ImageStore {
  /** The record for an exact canonical name; NotFound otherwise. */
  get(name: string): Promise<ImageRecord>;
  /** Every record, in index.json order. */
  list(): Promise<ImageRecord[]>;
  /** Creates or replaces the record for record.name. */
  put(record: ImageRecord): Promise<void>;
  /** Removes the record for name; NotFound when absent. */
  delete(name: string): Promise<void>;
}

type Index = { schemaVersion: 2; mediaType?: string; manifests: Descriptor[]; annotations?: Record<string, string> };

/** ImageStore over <layoutDir>/index.json. */
export class LayoutImageStore implements ImageStore {
  private readonly indexPath: string;
  private readonly lockPath: string;

  constructor(private readonly layoutDir: string) {
    this.indexPath = path.join(layoutDir, 'index.json');
    this.lockPath = path.join(layoutDir, '.index.lock');
  }

  private async readIndex(): Promise<Index> {
    let raw: string;
    try {
      raw = await fs.readFile(this.indexPath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { schemaVersion: 2, manifests: [] };
      throw e;
    }
    const idx = JSON.parse(raw) as Index;
    if (!Array.isArray(idx.manifests)) throw errors.invalid(`${this.indexPath}: manifests missing`);
    return idx;
  }

  private async writeIndex(idx: Index): Promise<void> {
    const tmp = `${this.indexPath}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    await fs.writeFile(tmp, JSON.stringify(idx));
    await fs.rename(tmp, this.indexPath);
  }

  private static toRecord(d: Descriptor): ImageRecord | undefined {
    const a = d.annotations ?? {};
    const name = a[ANNOTATION_CONTAINERD_NAME] ?? a[ANNOTATION_REF_NAME];
    if (name === undefined) return undefined;
    const { annotations: _ignored, ...target } = d;
    const rec: ImageRecord = { name, target };
    const rest = Object.fromEntries(
      Object.entries(a).filter(([k]) => ![ANNOTATION_REF_NAME, ANNOTATION_CONTAINERD_NAME, ANNOTATION_REPO_DIGEST, ANNOTATION_CREATED].includes(k)),
    );
    if (Object.keys(rest).length > 0) rec.target.annotations = rest;
    if (a[ANNOTATION_REPO_DIGEST]) rec.repoDigest = a[ANNOTATION_REPO_DIGEST];
    if (a[ANNOTATION_CREATED]) rec.createdAt = a[ANNOTATION_CREATED];
    return rec;
  }

  private static toDescriptor(r: ImageRecord): Descriptor {
    const annotations: Record<string, string> = { ...(r.target.annotations ?? {}) };
    annotations[ANNOTATION_REF_NAME] = r.name;
    annotations[ANNOTATION_CONTAINERD_NAME] = r.name;
    if (r.repoDigest) annotations[ANNOTATION_REPO_DIGEST] = r.repoDigest;
    annotations[ANNOTATION_CREATED] = r.createdAt ?? new Date().toISOString();
    const d: Descriptor = { mediaType: r.target.mediaType, digest: r.target.digest, size: r.target.size };
    if (r.target.platform) d.platform = r.target.platform;
    d.annotations = annotations;
    return d;
  }

  async get(name: string): Promise<ImageRecord> {
    const found = (await this.list()).find((r) => r.name === name);
    if (!found) throw errors.notFound(`image ${name}: not found`);
    return found;
  }

  async list(): Promise<ImageRecord[]> {
    const idx = await this.readIndex();
    return idx.manifests.map((d) => LayoutImageStore.toRecord(d)).filter((r): r is ImageRecord => r !== undefined);
  }

  async put(record: ImageRecord): Promise<void> {
    await initLayout(this.layoutDir);
    await withLock(this.lockPath, async () => {
      const idx = await this.readIndex();
      const keep = idx.manifests.filter((d) => LayoutImageStore.toRecord(d)?.name !== record.name);
      keep.push(LayoutImageStore.toDescriptor(record));
      idx.manifests = keep;
      await this.writeIndex(idx);
    });
  }

  async delete(name: string): Promise<void> {
    await withLock(this.lockPath, async () => {
      const idx = await this.readIndex();
      const keep = idx.manifests.filter((d) => LayoutImageStore.toRecord(d)?.name !== name);
      if (keep.length === idx.manifests.length) throw errors.notFound(`image ${name}: not found`);
      idx.manifests = keep;
      await this.writeIndex(idx);
    });
  }
}
