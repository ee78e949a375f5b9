// ContentStore on an OCI image layout directory (image-spec image-layout.md: oci-layout, index.json,
// blobs/sha256/<hex>) that skopeo and umoci read and write. Partial ingestions live beside it in an
// ingest dir, one subdirectory per ref, so an interrupted download resumes. Never touches index.json
// beyond creating it empty: image records are images/image-store.ts's business.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, constants as fsc } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { errors, RuntimeError } from '../../../errors/index';
import type { BlobInfo, ContentStore, ContentWriter, Expected } from '../index';
import { isDigest } from '../../images/reference';

export type LocalStoreOptions = {
  /** The OCI layout directory. */
  layoutDir: string;
  /** Where partial ingestions live; must be on the same filesystem as layoutDir (commit renames). */
  ingestDir: string;
};

function checkDigest(digest: string): string {
  if (!isDigest(digest)) throw errors.invalid(`invalid digest: ${JSON.stringify(digest)}`);
  return digest.slice('sha256:'.length);
}

function isErrno(e: unknown, code: string): boolean {
  return (e as NodeJS.ErrnoException | null)?.code === code;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return isErrno(e, 'EPERM');
  }
}

/** Creates the layout files if missing; safe to call on an existing skopeo/umoci layout. */
export async function initLayout(layoutDir: string): Promise<void> {
  await fs.mkdir(path.join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  const layoutFile = path.join(layoutDir, 'oci-layout');
  try {
    await fs.writeFile(layoutFile, JSON.stringify({ imageLayoutVersion: '1.0.0' }), { flag: 'wx' });
  } catch (e) {
    if (!isErrno(e, 'EEXIST')) throw e;
  }
  try {
    await fs.writeFile(path.join(layoutDir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [] }), { flag: 'wx' });
  } catch (e) {
    if (!isErrno(e, 'EEXIST')) throw e;
  }
}

export class LocalContentStore implements ContentStore {
  private readonly blobDir: string;
  private readonly ingestDir: string;
  private ready: Promise<void> | undefined;

  constructor(private readonly opts: LocalStoreOptions) {
    this.blobDir = path.join(opts.layoutDir, 'blobs', 'sha256');
    this.ingestDir = opts.ingestDir;
  }

  /** Path of a committed blob (for callers that hand files to other tools, e.g. archive export). */
  blobPath(digest: string): string {
    return path.join(this.blobDir, checkDigest(digest));
  }

  private init(): Promise<void> {
    this.ready ??= (async () => {
      await initLayout(this.opts.layoutDir);
      await fs.mkdir(this.ingestDir, { recursive: true, mode: 0o700 });
    })();
    return this.ready;
  }

  async info(digest: string): Promise<BlobInfo> {
    const p = this.blobPath(digest);
    try {
      const st = await fs.stat(p);
      return { digest, size: st.size, createdAt: st.mtime };
    } catch (e) {
      if (isErrno(e, 'ENOENT')) throw errors.notFound(`content ${digest}: not found`);
      throw e;
    }
  }

  async has(digest: string): Promise<boolean> {
    try {
      await fs.access(this.blobPath(digest));
      return true;
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return false;
      throw e;
    }
  }

  read(digest: string, start = 0): Readable {
    const p = this.blobPath(digest);
    const s = createReadStream(p, { start, highWaterMark: 1 << 20 });
    return s;
  }

  async readAll(digest: string): Promise<Buffer> {
    try {
      return await fs.readFile(this.blobPath(digest));
    } catch (e) {
      if (isErrno(e, 'ENOENT')) throw errors.notFound(`content ${digest}: not found`);
      throw e;
    }
  }

  async writer(ref: string): Promise<ContentWriter> {
    if (ref === '') throw errors.invalid('empty ingest ref');
    await this.init();
    const dir = path.join(this.ingestDir, createHash('sha256').update(ref).digest('hex'));
    await fs.mkdir(dir, { recursive: true });
    await takeLock(path.join(dir, 'lock'), ref);
    try {
      await fs.writeFile(path.join(dir, 'ref'), ref);
      const w = new LocalWriter(dir, this.blobDir);
      await w.open();
      return w;
    } catch (e) {
      await fs.rm(path.join(dir, 'lock'), { force: true });
      throw e;
    }
  }

  async put(data: Uint8Array, expected?: Expected): Promise<BlobInfo> {
    await this.init();
    const hex = createHash('sha256').update(data).digest('hex');
    const digest = `sha256:${hex}`;
    if (expected?.digest !== undefined && expected.digest !== digest) {
      throw errors.invalid(`digest mismatch: expected ${expected.digest}, got ${digest}`);
    }
    if (expected?.size !== undefined && expected.size !== data.length) {
      throw errors.invalid(`size mismatch for ${digest}: expected ${expected.size}, got ${data.length}`);
    }
    const final = path.join(this.blobDir, hex);
    if (!(await this.has(digest))) {
      const tmp = path.join(this.ingestDir, `put-${process.pid}-${Math.random().toString(36).slice(2)}`);
      await fs.writeFile(tmp, data);
      await fs.rename(tmp, final);
    }
    return this.info(digest);
  }

  async delete(digest: string): Promise<void> {
    try {
      await fs.unlink(this.blobPath(digest));
    } catch (e) {
      if (isErrno(e, 'ENOENT')) throw errors.notFound(`content ${digest}: not found`);
      throw e;
    }
  }

  async *list(): AsyncIterable<BlobInfo> {
    let names: string[];
    try {
      names = await fs.readdir(this.blobDir);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return;
      throw e;
    }
    for (const n of names) {
      const digest = `sha256:${n}`;
      if (!isDigest(digest)) continue;
      try {
        yield await this.info(digest);
      } catch (e) {
        if (!(e instanceof RuntimeError && e.kind === 'NotFound')) throw e;
      }
    }
  }

  async listIngests(): Promise<{ ref: string; offset: number }[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.ingestDir);
    } catch (e) {
      if (isErrno(e, 'ENOENT')) return [];
      throw e;
    }
    const out: { ref: string; offset: number }[] = [];
    for (const n of names) {
      try {
        const ref = await fs.readFile(path.join(this.ingestDir, n, 'ref'), 'utf8');
        const st = await fs.stat(path.join(this.ingestDir, n, 'data'));
        out.push({ ref, offset: st.size });
      } catch {
        // not an ingestion (a put temp file) or one without data yet
      }
    }
    return out;
  }
}

/** An O_EXCL lock file holding our pid; a lock whose pid is gone is stale and taken over. */
async function takeLock(lockPath: string, ref: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await fs.writeFile(lockPath, String(process.pid), { flag: 'wx' });
      return;
    } catch (e) {
      if (!isErrno(e, 'EEXIST')) throw e;
    }
    const pid = Number.parseInt(await fs.readFile(lockPath, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(pid) && pid > 0 && processAlive(pid) && pid !== process.pid) {
      throw new RuntimeError('Unavailable', `ref ${ref} locked: ingestion in progress by pid ${pid}`);
    }
    if (pid === process.pid) throw new RuntimeError('Unavailable', `ref ${ref} locked: ingestion in progress`);
    await fs.rm(lockPath, { force: true });
  }
  throw new RuntimeError('Unavailable', `ref ${ref} locked`);
}

class LocalWriter implements ContentWriter {
  offset = 0;
  private fh: fs.FileHandle | undefined;
  private hash: Hash = createHash('sha256');
  private done = false;

  constructor(
    private readonly dir: string,
    private readonly blobDir: string,
  ) {}

  private get dataPath(): string {
    return path.join(this.dir, 'data');
  }

  /** Opens the data file and re-hashes what a previous writer left, so the digest covers it. */
  async open(): Promise<void> {
    this.fh = await fs.open(this.dataPath, fsc.O_RDWR | fsc.O_CREAT, 0o600);
    const st = await this.fh.stat();
    if (st.size > 0) {
      for await (const chunk of createReadStream(this.dataPath, { highWaterMark: 1 << 20 })) {
        this.hash.update(chunk as Buffer);
      }
    }
    this.offset = st.size;
  }

  private handle(): fs.FileHandle {
    if (!this.fh || this.done) throw errors.precondition('content writer is closed');
    return this.fh;
  }

  async write(chunk: Uint8Array): Promise<void> {
    const fh = this.handle();
    let written = 0;
    while (written < chunk.length) {
      const { bytesWritten } = await fh.write(chunk, written, chunk.length - written, this.offset + written);
      written += bytesWritten;
    }
    this.hash.update(chunk);
    this.offset += chunk.length;
  }

  async commit(expected?: Expected): Promise<BlobInfo> {
    const fh = this.handle();
    const digest = `sha256:${this.hash.digest('hex')}`;
    const size = this.offset;
    let mismatch: string | undefined;
    if (expected?.size !== undefined && expected.size !== size) {
      mismatch = `size mismatch: expected ${expected.size} bytes, got ${size}`;
    } else if (expected?.digest !== undefined && expected.digest !== digest) {
      mismatch = `digest mismatch: expected ${expected.digest}, got ${digest}`;
    }
    if (mismatch) {
      await this.finish(true);
      throw errors.invalid(mismatch);
    }
    await fh.datasync();
    const final = path.join(this.blobDir, digest.slice('sha256:'.length));
    await fs.rename(this.dataPath, final);
    await this.finish(true);
    const st = await fs.stat(final);
    return { digest, size, createdAt: st.mtime };
  }

  async abort(): Promise<void> {
    if (this.done) return;
    await this.finish(true);
  }

  async close(): Promise<void> {
    if (this.done) return;
    await this.finish(false);
  }

  async reset(): Promise<void> {
    const fh = this.handle();
    await fh.truncate(0);
    this.hash = createHash('sha256');
    this.offset = 0;
  }

  /** Closes the file and releases the lock; with remove, the whole ingestion dir goes too. */
  private async finish(remove: boolean): Promise<void> {
    this.done = true;
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
    if (remove) await fs.rm(this.dir, { recursive: true, force: true });
    else await fs.rm(path.join(this.dir, 'lock'), { force: true });
  }
}
