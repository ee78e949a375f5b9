// The read-only lower half of an overlay mount, seen without mounting it: what a path is in the
// merged lower dirs (topmost layer wins; a whiteout char 0/0 hides everything below it; an opaque
// dir hides the layers under it; a non-directory ends the lookup). Each component is checked to be
// a real directory in a layer before that layer is searched below it, so a symlink in an image layer
// can never steer a lookup onto host paths. Also Docker's stat comparison (pkg/archive statDifferent)
// and the init-layer paths the runtime creates for its mounts. Reads only.
import type { Stats } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { FsReader } from './layer-writer';

/** What the runtime adds to every rootfs for its mounts (Docker keeps these in the "-init" layer). */
export const INIT_PATHS: ReadonlySet<string> = new Set([
  'dev',
  'dev/pts',
  'dev/shm',
  'dev/console',
  'proc',
  'sys',
  'etc',
  'etc/hosts',
  'etc/hostname',
  'etc/resolv.conf',
  'etc/mtab',
  '.dockerenv',
]);

export function isWhiteout(st: StatLike): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** The stat fields Docker's change test reads (fs.Stats and tree-walk's EntryStat have them). */
export type StatLike = Pick<Stats, 'mode' | 'uid' | 'gid' | 'rdev' | 'size' | 'mtimeMs' | 'isDirectory' | 'isFile' | 'isSymbolicLink' | 'isCharacterDevice'>;

/** Docker's change test: type/mode, owner, device, and for non-directories size and mtime (whole seconds when either lacks nanoseconds). */
export function statDifferent(a: StatLike, b: StatLike): boolean {
  if (a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid || a.rdev !== b.rdev) return true;
  if (a.isDirectory()) return false;
  if (a.size !== b.size) return true;
  if (a.mtimeMs === b.mtimeMs) return false;
  const sa = Math.floor(a.mtimeMs / 1000);
  const sb = Math.floor(b.mtimeMs / 1000);
  return !(sa === sb && (a.mtimeMs % 1000 === 0 || b.mtimeMs % 1000 === 0));
}

/** Whether an upper entry that has no lower counterpart is only a mount stub the runtime made. */
export function isInitStub(rel: string, st: StatLike): boolean {
  if (!INIT_PATHS.has(rel)) return false;
  return (st.isFile() && st.size === 0) || st.isSymbolicLink() || st.isDirectory();
}

function missing(e: unknown): boolean {
  const c = (e as NodeJS.ErrnoException).code;
  return c === 'ENOENT' || c === 'ENOTDIR';
}

async function lstat(p: string): Promise<Stats | undefined> {
  try {
    return await fs.lstat(p);
  } catch (e) {
    if (missing(e)) return undefined;
    throw e;
  }
}

export class LowerView {
  /** rel dir → indexes of the layers whose copy of it takes part in the merge (null: not a directory). */
  private readonly dirs = new Map<string, Promise<number[] | null>>();

  /** lowers: the layer directories, topmost first (overlay's lowerdir order). */
  constructor(
    readonly lowers: string[],
    private readonly fsr: FsReader,
  ) {}

  private opaque(p: string): boolean {
    try {
      const v = this.fsr.lgetxattr(p, 'trusted.overlay.opaque');
      return v !== null && v.length === 1 && v[0] === 0x79;
    } catch {
      return false;
    }
  }

  private dirLayers(rel: string): Promise<number[] | null> {
    let p = this.dirs.get(rel);
    if (!p) {
      p = this.computeDirLayers(rel);
      this.dirs.set(rel, p);
    }
    return p;
  }

  private async computeDirLayers(rel: string): Promise<number[] | null> {
    if (rel === '') return this.lowers.map((_, i) => i);
    const parent = await this.dirLayers(path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel));
    if (!parent) return null;
    const out: number[] = [];
    for (const j of parent) {
      const p = path.join(this.lowers[j]!, rel);
      const st = await lstat(p);
      if (!st) continue;
      if (isWhiteout(st) || !st.isDirectory()) break;
      out.push(j);
      if (this.opaque(p)) break;
    }
    return out.length > 0 ? out : null;
  }

  /** The merged lower's entry at rel (lstat of the topmost copy), or undefined when it has none. */
  async lookup(rel: string): Promise<Stats | undefined> {
    if (this.lowers.length === 0) return undefined;
    const dir = path.posix.dirname(rel);
    const layers = await this.dirLayers(dir === '.' ? '' : dir);
    if (!layers) return undefined;
    for (const j of layers) {
      const st = await lstat(path.join(this.lowers[j]!, rel));
      if (!st) continue;
      return isWhiteout(st) ? undefined : st;
    }
    return undefined;
  }

  /** A host path of the topmost copy of rel (for reading its xattrs), or undefined. */
  async hostPath(rel: string): Promise<string | undefined> {
    const dir = path.posix.dirname(rel);
    const layers = await this.dirLayers(dir === '.' ? '' : dir);
    for (const j of layers ?? []) {
      const p = path.join(this.lowers[j]!, rel);
      const st = await lstat(p);
      if (st) return isWhiteout(st) ? undefined : p;
    }
    return undefined;
  }

  /** Names in the merged lower directory rel (empty when it is not a directory). */
  async children(rel: string): Promise<string[]> {
    const layers = await this.dirLayers(rel);
    if (!layers) return [];
    const seen = new Map<string, boolean>();
    for (const j of layers) {
      const dir = path.join(this.lowers[j]!, rel);
      for (const n of await fs.readdir(dir).catch(() => [] as string[])) {
        if (seen.has(n)) continue;
        const st = await lstat(path.join(dir, n));
        seen.set(n, !!st && !isWhiteout(st));
      }
    }
    return [...seen].filter(([, present]) => present).map(([n]) => n);
  }
}

/** The lowerdir list of an overlay snapshot's mount options (empty for a bind mount: no parent). */
export function lowerDirsOf(mounts: { type: string; options: string[] }[]): string[] {
  const o = mounts[0]?.type === 'overlay' ? mounts[0].options.find((x) => x.startsWith('lowerdir=')) : undefined;
  return o ? o.slice('lowerdir='.length).split(':') : [];
}
