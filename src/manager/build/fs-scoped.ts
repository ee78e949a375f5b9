// Path resolution confined to a root directory: every symlink (absolute or relative, in any
// component) is resolved as if root were "/", and ".." never climbs above it (the semantics of
// moby's FollowSymlinkInScope, which dockerd uses for contexts and container rootfs paths).
// Used for build contexts, COPY --from sources and COPY/ADD destinations; never leaves root.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { errors } from '../../errors/index';

const MAX_LINKS = 255;

export function isErrno(e: unknown, ...codes: string[]): boolean {
  return codes.includes((e as NodeJS.ErrnoException | null)?.code ?? '');
}

export async function lstatOrUndefined(p: string): Promise<import('node:fs').Stats | undefined> {
  try {
    return await fs.lstat(p);
  } catch (e) {
    if (isErrno(e, 'ENOENT', 'ENOTDIR')) return undefined;
    throw e;
  }
}

/** Splits a slash path into clean components ("." and empty parts dropped; ".." kept). */
function components(p: string): string[] {
  return p.split('/').filter((x) => x !== '' && x !== '.');
}

/**
 * Resolves rel (relative or absolute, interpreted inside root) to a clean relative path inside root
 * ("" is root itself). Symlinks are followed inside root; with followLast false the final component
 * is kept as it is. Missing components are fine: resolution stops following there.
 */
export async function resolveInRoot(root: string, rel: string, followLast = true): Promise<string> {
  const todo = components(rel);
  const done: string[] = [];
  let links = 0;
  while (todo.length > 0) {
    const part = todo.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const cur = [...done, part];
    if (todo.length === 0 && !followLast) {
      done.push(part);
      break;
    }
    const st = await lstatOrUndefined(path.join(root, ...cur));
    if (!st || !st.isSymbolicLink()) {
      done.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw errors.invalid(`too many links in ${rel}`);
    const target = await fs.readlink(path.join(root, ...cur));
    if (target.startsWith('/')) done.length = 0;
    todo.unshift(...components(target));
  }
  return done.join('/');
}

/** The absolute host path of a relative path inside root. */
export function inRoot(root: string, rel: string): string {
  return rel === '' ? root : path.join(root, rel);
}

/**
 * Creates the directory rel inside root and any missing parents (resolved inside root), with mode;
 * newly created directories are given owner when set (MkdirAllAndChownNew). Returns the resolved path.
 */
export async function mkdirAllInRoot(root: string, rel: string, mode = 0o755, owner?: { uid: number; gid: number }): Promise<string> {
  const parts = components(rel);
  let cur = '';
  for (let i = 0; i < parts.length; i++) {
    cur = await resolveInRoot(root, cur === '' ? parts[i]! : `${cur}/${parts[i]}`);
    const abs = inRoot(root, cur);
    const st = await lstatOrUndefined(abs);
    if (!st) {
      await fs.mkdir(abs, mode);
      await fs.chmod(abs, mode);
      if (owner) await fs.lchown(abs, owner.uid, owner.gid);
    } else if (!st.isDirectory()) throw errors.invalid(`mkdir ${cur}: not a directory`);
  }
  return cur;
}

/** Removes whatever is at abs unless it is a directory (so a new entry can take its place). */
export async function removeNonDir(abs: string): Promise<boolean> {
  const st = await lstatOrUndefined(abs);
  if (!st) return false;
  if (st.isDirectory()) return true;
  await fs.unlink(abs);
  return false;
}
