// `docker diff` for an overlay snapshot: the changes of its upper dir against the merged lower dirs,
// reported as dockerd 20.10's overlay2 driver reports them (its naive diff, pkg/archive
// ChangesDirs): A for a new path and everything under a new directory, D for a whited-out path or
// a child hidden by an opaque directory, C for a path whose type, mode, owner, device, size or mtime
// (not a directory's size or mtime) or security.capability differs, and C for a directory with
// changes inside. A file copied up but not changed is not a change; the runtime's mount stubs
// (INIT_PATHS, Docker's init layer) are not either. Read-only; walks the upper dir through pinned
// directory fds (tree-walk.ts), never following a symlink.
import * as fs from 'node:fs/promises';
import type { FsReader } from './layer-writer';
import { isInitStub, isWhiteout, LowerView, statDifferent } from './overlay-lower';
import { byteOrder, openDir, scanEntries, type TreeEntry } from './tree-walk';

export const ChangeKind = { Modify: 0, Add: 1, Delete: 2 } as const;
export type Change = { Path: string; Kind: 0 | 1 | 2 };

/** "C"/"A"/"D" as docker diff prints them. */
export function changeLetter(k: Change['Kind']): string {
  return k === 0 ? 'C' : k === 1 ? 'A' : 'D';
}

function gone(e: unknown): boolean {
  const c = (e as NodeJS.ErrnoException).code;
  return c === 'ENOENT' || c === 'ENOTDIR' || c === 'ELOOP';
}

class Differ {
  readonly out: Change[] = [];

  constructor(
    private readonly lower: LowerView,
    private readonly fsr: FsReader,
  ) {}

  private cap(p: string | undefined): string {
    if (!p) return '';
    try {
      return this.fsr.lgetxattr(p, 'security.capability')?.toString('hex') ?? '';
    } catch {
      return '';
    }
  }

  private static xattr(e: TreeEntry, name: string): Buffer | undefined {
    return e.xattrs?.find(([n]) => n === name)?.[1];
  }

  private static opaque(e: TreeEntry): boolean {
    const v = Differ.xattr(e, 'trusted.overlay.opaque');
    return !!v && v.length === 1 && v[0] === 0x79;
  }

  private entries(dir: string, rel: string): Promise<TreeEntry[]> {
    return scanEntries(this.fsr, dir, rel, 0);
  }

  /** Records every entry under the upper dir `dir` (rel) as added, stubs aside. */
  private async added(dir: string, rel: string, inStubDir: boolean): Promise<number> {
    let n = 0;
    for (const e of await this.entries(dir, rel)) {
      const { st } = e;
      if (isWhiteout(st)) continue;
      const stub = inStubDir && isInitStub(e.rel, st);
      if (!stub) {
        this.out.push({ Path: `/${e.rel}`, Kind: 1 });
        n++;
      }
      if (st.isDirectory()) n += await this.inDir(e.path, (sub) => this.added(sub, e.rel, stub));
    }
    return n;
  }

  /** Runs fn on the directory p held open (so a swap for a symlink cannot redirect it). */
  private async inDir(p: string, fn: (dir: string) => Promise<number>): Promise<number> {
    let fh: fs.FileHandle;
    try {
      fh = await openDir(p);
    } catch (e) {
      if (gone(e)) return 0;
      throw e;
    }
    try {
      return await fn(`/proc/self/fd/${fh.fd}`);
    } finally {
      await fh.close();
    }
  }

  /** Compares the upper dir `dir` (rel, "" = root) with the lower; returns how many changes it recorded. */
  async compare(dir: string, rel: string): Promise<number> {
    let n = 0;
    for (const e of await this.entries(dir, rel)) {
      const { st } = e;
      const crel = e.rel;
      const p = e.path;
      const low = await this.lower.lookup(crel);
      if (isWhiteout(st)) {
        if (low) {
          this.out.push({ Path: `/${crel}`, Kind: 2 });
          n++;
        }
        continue;
      }
      if (!low) {
        const stub = isInitStub(crel, st);
        const at = this.out.length;
        const inner = st.isDirectory() ? await this.inDir(p, (sub) => this.added(sub, crel, stub)) : 0;
        // A stub directory is in Docker's init layer: what is added inside it modifies it.
        if (!stub || inner > 0) {
          this.out.splice(at, 0, { Path: `/${crel}`, Kind: stub ? 0 : 1 });
          n++;
        }
        n += inner;
        continue;
      }
      const mark = this.out.length;
      const changed = statDifferent(low, st) || (Differ.xattr(e, 'security.capability')?.toString('hex') ?? '') !== this.cap(await this.lower.hostPath(crel));
      if (!st.isDirectory()) {
        if (changed) {
          this.out.push({ Path: `/${crel}`, Kind: 0 });
          n++;
        }
        continue;
      }
      let inner = 0;
      if (!low.isDirectory()) {
        inner = await this.inDir(p, (sub) => this.added(sub, crel, false));
      } else {
        const opaque = Differ.opaque(e);
        inner = await this.inDir(p, async (sub) => {
          let k = await this.compare(sub, crel);
          if (opaque) {
            const present = new Set(await fs.readdir(sub).catch(() => [] as string[]));
            for (const c of await this.lower.children(crel)) {
              if (present.has(c)) continue;
              this.out.push({ Path: `/${crel}/${c}`, Kind: 2 });
              k++;
            }
          }
          return k;
        });
      }
      // A directory is reported when it changed itself or anything inside it did (Docker's rule).
      if (changed || inner > 0) {
        this.out.splice(mark, 0, { Path: `/${crel}`, Kind: 0 });
        n++;
      }
      n += inner;
    }
    return n;
  }
}

/**
 * The changes of an overlay upper dir against its lower dirs (topmost first), sorted by path.
 * lowers empty: everything in upper is added.
 */
export async function overlayChanges(upper: string, lowers: string[], fsr: FsReader): Promise<Change[]> {
  const d = new Differ(new LowerView(lowers, fsr), fsr);
  const fh = await fs.open(upper, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    await d.compare(`/proc/self/fd/${fh.fd}`, '');
  } finally {
    await fh.close();
  }
  return d.out.sort((a, b) => byteOrder(a.Path, b.Path));
}
