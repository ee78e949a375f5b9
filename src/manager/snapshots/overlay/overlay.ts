// Overlayfs snapshotter: each snapshot is <root>/snapshots/<id>/{fs,work}; metadata (key → id, kind,
// parent) in <root>/metadata.json, rewritten atomically under a lock file. Active snapshots mount as
// overlay (lowerdir = parents' fs, nearest first) or a bind mount when there is no parent; views are
// read-only. Never mounts anything itself: it returns Mounts (see mount.ts).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { errors, RuntimeError } from '../../../errors/index';
import { withLock } from '../../lock-file';
import type { Mount, SnapshotInfo, SnapshotKind, Snapshotter } from '../index';

type Entry = { id: number; kind: SnapshotKind; parent?: string; createdAt: string; labels?: Record<string, string> };
type Metadata = { nextId: number; snapshots: Record<string, Entry> };

export class OverlaySnapshotter implements Snapshotter {
  private readonly metaPath: string;
  private readonly lockPath: string;

  constructor(private readonly root: string) {
    this.metaPath = path.join(root, 'metadata.json');
    this.lockPath = path.join(root, '.metadata.lock');
  }

  private async read(): Promise<Metadata> {
    try {
      return JSON.parse(await fs.readFile(this.metaPath, 'utf8')) as Metadata;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { nextId: 1, snapshots: {} };
      throw e;
    }
  }

  private async write(m: Metadata): Promise<void> {
    const tmp = `${this.metaPath}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    await fs.writeFile(tmp, JSON.stringify(m));
    await fs.rename(tmp, this.metaPath);
  }

  private async update<T>(fn: (m: Metadata) => Promise<T> | T): Promise<T> {
    await fs.mkdir(path.join(this.root, 'snapshots'), { recursive: true, mode: 0o700 });
    return withLock(this.lockPath, async () => {
      const m = await this.read();
      const out = await fn(m);
      await this.write(m);
      return out;
    });
  }

  private dir(id: number): string {
    return path.join(this.root, 'snapshots', String(id));
  }

  private static info(name: string, e: Entry): SnapshotInfo {
    const i: SnapshotInfo = { name, kind: e.kind, createdAt: e.createdAt };
    if (e.parent !== undefined) i.parent = e.parent;
    if (e.labels) i.labels = e.labels;
    return i;
  }

  private static get(m: Metadata, key: string): Entry {
    const e = m.snapshots[key];
    if (!e) throw errors.notFound(`snapshot ${key}: not found`);
    return e;
  }

  async stat(key: string): Promise<SnapshotInfo> {
    const m = await this.read();
    return OverlaySnapshotter.info(key, OverlaySnapshotter.get(m, key));
  }

  async list(): Promise<SnapshotInfo[]> {
    const m = await this.read();
    return Object.entries(m.snapshots).map(([k, e]) => OverlaySnapshotter.info(k, e));
  }

  /** fs dirs of parent and its ancestors, nearest first. */
  private lowers(m: Metadata, parent: string | undefined): string[] {
    const out: string[] = [];
    for (let p = parent; p !== undefined; p = m.snapshots[p]?.parent) {
      const e = OverlaySnapshotter.get(m, p);
      out.push(path.join(this.dir(e.id), 'fs'));
    }
    return out;
  }

  private mountsOf(m: Metadata, e: Entry): Mount[] {
    const d = this.dir(e.id);
    const lowers = this.lowers(m, e.parent);
    if (e.kind === 'view') {
      if (lowers.length === 0) return [{ type: 'bind', source: path.join(d, 'fs'), options: ['rbind', 'ro'] }];
      if (lowers.length === 1) return [{ type: 'bind', source: lowers[0]!, options: ['rbind', 'ro'] }];
      return [{ type: 'overlay', source: 'overlay', options: [`lowerdir=${lowers.join(':')}`] }];
    }
    if (lowers.length === 0) return [{ type: 'bind', source: path.join(d, 'fs'), options: ['rbind', 'rw'] }];
    // index=off: the same lower may back many mounts (docker's overlay2 does the same).
    return [{ type: 'overlay', source: 'overlay', options: ['index=off', `workdir=${path.join(d, 'work')}`, `upperdir=${path.join(d, 'fs')}`, `lowerdir=${lowers.join(':')}`] }];
  }

  private async create(kind: 'active' | 'view', key: string, parent: string | undefined, labels: Record<string, string> | undefined): Promise<Mount[]> {
    if (key === '') throw errors.invalid('empty snapshot key');
    return this.update(async (m) => {
      if (m.snapshots[key]) throw errors.exists(`snapshot ${key}: already exists`);
      if (parent !== undefined) {
        const p = m.snapshots[parent];
        if (!p) throw errors.notFound(`parent snapshot ${parent}: not found`);
        if (p.kind !== 'committed') throw errors.precondition(`parent snapshot ${parent}: not committed`);
      }
      const id = m.nextId++;
      await fs.rm(this.dir(id), { recursive: true, force: true });
      await fs.mkdir(path.join(this.dir(id), 'fs'), { recursive: true, mode: 0o755 });
      if (kind === 'active') await fs.mkdir(path.join(this.dir(id), 'work'), { mode: 0o700 });
      const e: Entry = { id, kind, createdAt: new Date().toISOString() };
      if (parent !== undefined) e.parent = parent;
      if (labels) e.labels = labels;
      m.snapshots[key] = e;
      return this.mountsOf(m, e);
    });
  }

  prepare(key: string, parent?: string, labels?: Record<string, string>): Promise<Mount[]> {
    return this.create('active', key, parent, labels);
  }

  view(key: string, parent?: string, labels?: Record<string, string>): Promise<Mount[]> {
    return this.create('view', key, parent, labels);
  }

  async mounts(key: string): Promise<Mount[]> {
    const m = await this.read();
    const e = OverlaySnapshotter.get(m, key);
    if (e.kind === 'committed') throw errors.precondition(`snapshot ${key}: committed snapshots have no mounts`);
    return this.mountsOf(m, e);
  }

  async commit(name: string, key: string): Promise<void> {
    await this.update(async (m) => {
      const e = OverlaySnapshotter.get(m, key);
      if (e.kind !== 'active') throw errors.precondition(`snapshot ${key}: not active`);
      if (m.snapshots[name]) throw errors.exists(`snapshot ${name}: already exists`);
      delete m.snapshots[key];
      e.kind = 'committed';
      m.snapshots[name] = e;
      await fs.rm(path.join(this.dir(e.id), 'work'), { recursive: true, force: true });
    });
  }

  async remove(key: string): Promise<void> {
    const id = await this.update((m) => {
      const e = OverlaySnapshotter.get(m, key);
      const child = Object.entries(m.snapshots).find(([, x]) => x.parent === key);
      if (child) throw new RuntimeError('FailedPrecondition', `snapshot ${key}: in use as parent of ${child[0]}`);
      delete m.snapshots[key];
      return e.id;
    });
    await fs.rm(this.dir(id), { recursive: true, force: true });
  }

  async upperDir(key: string): Promise<string> {
    const m = await this.read();
    const e = OverlaySnapshotter.get(m, key);
    if (e.kind !== 'active') throw errors.precondition(`snapshot ${key}: not active`);
    return path.join(this.dir(e.id), 'fs');
  }
}
