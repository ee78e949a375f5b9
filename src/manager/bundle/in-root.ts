// Reads a file inside a container rootfs with every symlink resolved against that rootfs, never the
// host (the securejoin rule): an image's /etc -> /host/etc cannot make us read host files.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

const MAX_LINKS = 40;

/** Resolves p (absolute inside the container) to a host path under root; missing tails are kept as-is. */
export async function resolveInRoot(root: string, p: string): Promise<string> {
  let pending = p.split('/').filter((x) => x !== '' && x !== '.');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const candidate = path.join(root, ...done, part);
    let st;
    try {
      st = await fs.lstat(candidate);
    } catch {
      done.push(part, ...pending.filter((x) => x !== '..'));
      break;
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw Object.assign(new Error(`resolve ${p}: too many symlinks`), { code: 'ELOOP' });
      const target = await fs.readlink(candidate);
      if (target.startsWith('/')) done.length = 0;
      pending = [...target.split('/').filter((x) => x !== '' && x !== '.'), ...pending];
      continue;
    }
    done.push(part);
  }
  return path.join(root, ...done);
}

/** Contents of a file inside root, or undefined when it does not exist. */
export async function readFileInRoot(root: string, p: string): Promise<string | undefined> {
  try {
    return await fs.readFile(await resolveInRoot(root, p), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
}
