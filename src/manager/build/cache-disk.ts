// BuildCache on disk, under <data-root>/build-cache: one JSON file per record (written atomically:
// temp file, fsync, rename), empty marker files indexing records by parent and by step, and source
// file lists stored once per sources checksum. Safe for concurrent writers in one process and across
// processes (no read-modify-write of shared files).
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { BuildCache, CacheRecord, FileRecord } from './cache';

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const KEY = /^[a-f0-9]{64}$/;

async function writeAtomic(file: string, data: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}`);
  const fh = await fs.open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    // A record torn by a crash before rename cannot exist (rename is atomic); anything else unreadable is skipped.
    if (e instanceof SyntaxError) return undefined;
    throw e;
  }
}

async function names(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir)).filter((n) => KEY.test(n));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

export class DiskBuildCache implements BuildCache {
  constructor(readonly dir: string) {}

  private recordPath(key: string): string {
    return path.join(this.dir, 'records', `${key}.json`);
  }
  private parentDir(parent: string): string {
    return path.join(this.dir, 'by-parent', hex(parent));
  }
  private stepDir(stage: string, step: string): string {
    return path.join(this.dir, 'by-step', hex(`${stage}\0${step}`));
  }

  async get(key: string): Promise<CacheRecord | undefined> {
    if (!KEY.test(key)) return undefined;
    return readJson<CacheRecord>(this.recordPath(key));
  }

  async put(record: CacheRecord, files?: readonly FileRecord[]): Promise<void> {
    if (!KEY.test(record.key)) throw new Error(`build cache: malformed key ${record.key}`);
    if (record.sources !== undefined && files) {
      const m = path.join(this.dir, 'manifests', `${hex(record.sources)}.json`);
      if (!(await fs.stat(m).catch(() => undefined))) await writeAtomic(m, JSON.stringify(files));
    }
    await writeAtomic(this.recordPath(record.key), JSON.stringify(record));
    for (const d of [this.parentDir(record.parent), this.stepDir(record.stage, record.step)]) {
      await fs.mkdir(d, { recursive: true });
      await fs.writeFile(path.join(d, record.key), '');
    }
  }

  private async recordsIn(dir: string, keep: (r: CacheRecord) => boolean): Promise<CacheRecord[]> {
    const out: CacheRecord[] = [];
    for (const k of await names(dir)) {
      const r = await this.get(k);
      if (r && keep(r)) out.push(r);
      else if (!r) await fs.rm(path.join(dir, k), { force: true });
    }
    return out;
  }

  children(parent: string): Promise<CacheRecord[]> {
    return this.recordsIn(this.parentDir(parent), (r) => r.parent === parent);
  }

  sameStep(stage: string, step: string): Promise<CacheRecord[]> {
    return this.recordsIn(this.stepDir(stage, step), (r) => r.stage === stage && r.step === step);
  }

  async manifest(sources: string): Promise<FileRecord[] | undefined> {
    return readJson<FileRecord[]>(path.join(this.dir, 'manifests', `${hex(sources)}.json`));
  }

  async delete(key: string): Promise<void> {
    if (!KEY.test(key)) return;
    const r = await this.get(key);
    await fs.rm(this.recordPath(key), { force: true });
    if (r) {
      await fs.rm(path.join(this.parentDir(r.parent), key), { force: true });
      await fs.rm(path.join(this.stepDir(r.stage, r.step), key), { force: true });
    }
  }

  async list(): Promise<CacheRecord[]> {
    const out: CacheRecord[] = [];
    let files: string[] = [];
    try {
      files = await fs.readdir(path.join(this.dir, 'records'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    for (const f of files) {
      if (!f.endsWith('.json') || !KEY.test(f.slice(0, -5))) continue;
      const r = await this.get(f.slice(0, -5));
      if (r) out.push(r);
    }
    return out;
  }
}
