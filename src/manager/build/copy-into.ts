// Stages COPY/ADD sources into a container root filesystem (a mounted snapshot) as dockerd's classic
// builder does: directory contents merged, a file written as or into the destination, local archives
// extracted by ADD, --chown resolved from the rootfs's own /etc/passwd and /etc/group, --chmod, source
// modes and mtimes kept. Every destination path is resolved inside the rootfs (symlinks in the image
// can never lead out of it); sources are read from their ContextSource root only.
import { constants as fsc } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { errors } from '../../errors/index';
import { cliNodeOps, type NodeOps } from '../snapshots/node-ops';
import { readTar } from '../snapshots/tar-reader';
import type { CopyInfo } from './copy-sources';
import { cleanPath } from './dockerignore';
import { decompressAny, isArchiveFile } from './decompress';
import { inRoot, lstatOrUndefined, mkdirAllInRoot, resolveInRoot } from './fs-scoped';
import { Limiter } from './pool';

export type Identity = { uid: number; gid: number };

export type StageCopyRequest = {
  /** Host path of the container's root filesystem. */
  rootfs: string;
  /** Absolute destination inside the container (normalizeDest); a trailing "/" means "into". */
  dest: string;
  infos: readonly CopyInfo[];
  /** Owner of everything copied; undefined keeps the sources' owners (COPY --from without --chown). */
  identity?: Identity;
  /** --chmod: mode for every copied file and directory. */
  chmod?: number;
  /** ADD: extract local archives. */
  decompress: boolean;
  ops?: NodeOps;
};

const isRoot = () => process.getuid?.() === 0;

function readLines(text: string | undefined): string[][] {
  return (text ?? '')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

async function readInRoot(rootfs: string, p: string): Promise<string | undefined> {
  const rel = await resolveInRoot(rootfs, p);
  try {
    return await fs.readFile(inRoot(rootfs, rel), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/**
 * --chown=user[:group] against the rootfs's files (parseChownFlag): numbers are taken as they are,
 * names are looked up; "user" alone means the same string as the group. Errors use dockerd's words.
 */
export async function resolveChown(chown: string, rootfs: string): Promise<Identity> {
  const parts = chown.split(':');
  if (parts.length > 2) throw errors.invalid(`invalid chown string format: ${chown}`);
  const [userStr, grpStr] = parts.length === 1 ? [parts[0]!, parts[0]!] : [parts[0]!, parts[1]!];
  const num = (s: string) => (/^[+-]?\d+$/.test(s) ? Number.parseInt(s, 10) : undefined);
  const wrap = (msg: string) => errors.invalid(`unable to convert uid/gid chown string to host mapping: ${msg}`);
  let uid = num(userStr);
  if (uid === undefined) {
    const u = readLines(await readInRoot(rootfs, '/etc/passwd')).find((f) => f[0] === userStr && /^\d+$/.test(f[2] ?? ''));
    if (!u) throw wrap(`can't find uid for user ${userStr}: no such user: ${userStr}`);
    uid = Number(u[2]);
  }
  let gid = num(grpStr);
  if (gid === undefined) {
    const g = readLines(await readInRoot(rootfs, '/etc/group')).find((f) => f[0] === grpStr && /^\d+$/.test(f[2] ?? ''));
    if (!g) throw wrap(`can't find gid for group ${grpStr}: no such group: ${grpStr}`);
    gid = Number(g[2]);
  }
  return { uid, gid };
}

/** --chmod as an octal mode (BuildKit accepts 0-07777). */
export function parseChmod(chmod: string): number {
  if (!/^[0-7]{1,5}$/.test(chmod) || Number.parseInt(chmod, 8) > 0o7777) throw errors.invalid(`invalid chmod parameter ${chmod}`);
  return Number.parseInt(chmod, 8);
}

class Stager {
  private readonly ops: NodeOps;
  /** Hard-link groups seen in the current copy: "dev:ino" → where the first one was written. */
  private links = new Map<string, Promise<string>>();
  private readonly limit = new Limiter(32);

  constructor(private readonly r: StageCopyRequest) {
    this.ops = r.ops ?? cliNodeOps;
  }

  private async own(abs: string, uid: number, gid: number): Promise<void> {
    const id = this.r.identity ?? { uid, gid };
    if (isRoot()) await fs.lchown(abs, id.uid, id.gid);
  }

  /** Replaces whatever non-directory is at abs (a directory only when it is not wanted). */
  private async clear(abs: string, keepDir: boolean): Promise<import('node:fs').Stats | undefined> {
    const st = await lstatOrUndefined(abs);
    if (!st) return undefined;
    if (st.isDirectory() && keepDir) return st;
    await fs.rm(abs, { recursive: true, force: true });
    return undefined;
  }

  /**
   * Copies one source node (not following it) to destAbs; directories recurse, their entries in
   * parallel. fresh: destAbs's parent was created by this copy, so nothing is in the way.
   */
  private async copyNode(srcAbs: string, destAbs: string, st: import('node:fs').Stats, fresh: boolean): Promise<void> {
    const mode = this.r.chmod ?? st.mode & 0o7777;
    if (st.isDirectory()) {
      const existing = fresh ? undefined : await this.clear(destAbs, true);
      if (!existing) await fs.mkdir(destAbs, 0o700);
      await this.copyChildren(srcAbs, destAbs, !existing);
      if (!existing) await fs.chmod(destAbs, mode);
      await this.own(destAbs, st.uid, st.gid);
      await fs.utimes(destAbs, st.atime, st.mtime);
      return;
    }
    await this.limit.run(async () => {
      if (!fresh) await this.clear(destAbs, false);
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 && !st.isSymbolicLink() ? this.links.get(key) : undefined;
      if (first) {
        await fs.link(await first, destAbs);
        return;
      }
      let done: (p: string) => void = () => undefined;
      if (st.nlink > 1 && !st.isSymbolicLink()) this.links.set(key, new Promise<string>((r) => (done = r)));
      try {
        if (st.isSymbolicLink()) {
          await fs.symlink(await fs.readlink(srcAbs), destAbs);
          await this.own(destAbs, st.uid, st.gid);
          return;
        }
        if (st.isFile()) await fs.copyFile(srcAbs, destAbs, fsc.COPYFILE_EXCL);
        else if (st.isFIFO()) await this.ops.mknod(destAbs, 'p', 0, 0, mode);
        else if (st.isCharacterDevice() || st.isBlockDevice()) {
          await this.ops.mknod(destAbs, st.isCharacterDevice() ? 'c' : 'b', Math.floor(st.rdev / 256) & 0xfff, (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00), mode);
        } else return;
        await this.own(destAbs, st.uid, st.gid);
        await fs.chmod(destAbs, mode);
        await fs.utimes(destAbs, st.atime, st.mtime);
      } finally {
        done(destAbs);
      }
    });
  }

  private async copyChildren(srcDir: string, destDir: string, fresh: boolean): Promise<void> {
    const names = (await fs.readdir(srcDir)).sort();
    await Promise.all(
      names.map(async (name) => {
        const s = path.join(srcDir, name);
        const st = await this.limit.run(() => fs.lstat(s));
        await this.copyNode(s, path.join(destDir, name), st, fresh);
      }),
    );
  }

  /** Parent directories of a file destination: 0755, owned by the identity when one is given. */
  private async parents(rel: string): Promise<string> {
    const dir = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
    return mkdirAllInRoot(this.r.rootfs, dir, 0o755, this.r.identity && isRoot() ? this.r.identity : undefined);
  }

  async copyInfo(info: CopyInfo): Promise<void> {
    const root = this.r.rootfs;
    let destRel = await resolveInRoot(root, this.r.dest);
    const destSlash = this.r.dest.endsWith('/');
    if (info.kind === 'inline') {
      const dst = await lstatOrUndefined(inRoot(root, destRel));
      if (destSlash || dst?.isDirectory()) destRel = destRel === '' ? info.name : `${destRel}/${info.name}`;
      const dir = await this.parents(destRel);
      const abs = path.join(inRoot(root, dir), path.basename(destRel));
      await this.clear(abs, false);
      await fs.writeFile(abs, info.data, { flag: fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, mode: 0o600 });
      await fs.chmod(abs, this.r.chmod ?? 0o644);
      if (isRoot()) await fs.lchown(abs, this.r.identity?.uid ?? 0, this.r.identity?.gid ?? 0);
      return;
    }
    const srcRel = await info.source.resolve(info.path);
    const srcAbs = inRoot(await info.source.directory(), srcRel);
    const st = await lstatOrUndefined(srcAbs);
    if (!st) throw errors.notFound(`source path not found: ${info.path}`);
    this.links = new Map();
    if (st.isDirectory()) {
      const existed = (await lstatOrUndefined(inRoot(root, destRel)))?.isDirectory() ?? false;
      destRel = await mkdirAllInRoot(root, destRel, 0o755);
      await this.copyChildren(srcAbs, inRoot(root, destRel), false);
      // dockerd chowns the destination directory itself only when the copy created it.
      if (!existed && this.r.identity && isRoot()) await fs.lchown(inRoot(root, destRel), this.r.identity.uid, this.r.identity.gid);
      return;
    }
    if (this.r.decompress && !info.noDecompress && st.isFile() && (await isArchiveFile(srcAbs))) {
      destRel = await mkdirAllInRoot(root, destRel, 0o755);
      await extractInto(srcAbs, root, destRel, this.ops);
      return;
    }
    const dst = await lstatOrUndefined(inRoot(root, destRel));
    if (destSlash || dst?.isDirectory()) destRel = destRel === '' ? path.basename(info.path) : `${destRel}/${path.basename(info.path)}`;
    const dir = await this.parents(destRel);
    await this.copyNode(srcAbs, path.join(inRoot(root, dir), path.basename(destRel)), st, false);
  }
}

/** Copies every source of a COPY/ADD into the rootfs. */
export async function stageCopy(r: StageCopyRequest): Promise<void> {
  const s = new Stager(r);
  for (const info of r.infos) await s.copyInfo(info);
}

/**
 * Extracts an archive (any compression) into destRel inside root, like dockerd's untar for ADD:
 * ownership and modes from the headers, names that climb out refused, parents resolved inside root.
 */
export async function extractInto(file: string, root: string, destRel: string, ops: NodeOps = cliNodeOps): Promise<void> {
  const fh = await fs.open(file, 'r');
  const dirs: [string, number, number][] = [];
  try {
    const src = (async function* () {
      for await (const c of fh.createReadStream({ autoClose: false })) yield c as Buffer;
    })();
    for await (const { header: h, body } of readTar(decompressAny(src))) {
      const cleaned = cleanPath(h.name);
      if (cleaned.startsWith('/') || cleaned === '..' || cleaned.startsWith('../')) {
        throw errors.invalid(`archive entry ${JSON.stringify(h.name)} is outside of the destination`);
      }
      const name = cleaned === '.' ? '' : cleaned;
      if (name === '') continue;
      const rel = `${destRel === '' ? '' : `${destRel}/`}${name}`;
      const parent = await mkdirAllInRoot(root, rel.slice(0, rel.lastIndexOf('/') < 0 ? 0 : rel.lastIndexOf('/')), 0o755);
      const abs = path.join(inRoot(root, parent), path.basename(rel));
      const st = await lstatOrUndefined(abs);
      if (st && !(st.isDirectory() && h.type === 'directory')) await fs.rm(abs, { recursive: true, force: true });
      switch (h.type) {
        case 'directory':
          if (!st?.isDirectory()) await fs.mkdir(abs, 0o700);
          dirs.push([abs, h.mode, h.mtime]);
          break;
        case 'file': {
          const out = await fs.open(abs, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW, 0o600);
          try {
            for await (const c of body) await out.write(c);
          } finally {
            await out.close();
          }
          break;
        }
        case 'symlink':
          await fs.symlink(h.linkname, abs);
          break;
        case 'link': {
          const target = cleanPath(`/${h.linkname}`).slice(1);
          const t = inRoot(root, await resolveInRoot(root, `${destRel}/${target}`, false));
          const ts = await lstatOrUndefined(t);
          if (!ts || ts.isDirectory()) throw errors.invalid(`ADD: ${h.name}: invalid hardlink to ${h.linkname}`);
          await fs.link(t, abs);
          break;
        }
        case 'fifo':
          await ops.mknod(abs, 'p', 0, 0, h.mode);
          break;
        default:
          await ops.mknod(abs, h.type === 'char' ? 'c' : 'b', h.devmajor, h.devminor, h.mode);
      }
      if (h.type !== 'link') {
        if (isRoot()) await fs.lchown(abs, h.uid, h.gid);
        if (h.type !== 'symlink' && h.type !== 'directory') {
          await fs.chmod(abs, h.mode);
          await fs.utimes(abs, h.mtime, h.mtime);
        }
      }
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
  for (const [p, mode, mtime] of dirs.reverse()) {
    await fs.chmod(p, mode);
    await fs.utimes(p, mtime, mtime);
  }
}
