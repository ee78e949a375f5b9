// The client side of a build context, as the docker CLI makes it: a tar of the context directory with
// .dockerignore (or `<Dockerfile>.dockerignore`) applied, the Dockerfile and .dockerignore always
// kept, owners set to 0:0, hard links as links; and a Dockerfile from outside the context (or stdin)
// added as `.dockerfile.<20 hex>` with its name appended to the sent .dockerignore. Reads the
// directory; never follows a symlink.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { keepBuildFiles, loadIgnorePatterns, makeMatcher } from './dockerignore';
import { mapPool } from './pool';
import { padding, tarHeader, TAR_END } from './tar-writer';

export type ContextTar = {
  stream: AsyncIterable<Buffer>;
  /** The `dockerfile` query value to send. */
  dockerfile: string;
};

/** Every entry under root in the docker CLI's walk order (names sorted, parents first), lstat'ed. */
async function walk(root: string, rel: string, excluded: (p: string) => boolean, hasExceptions: boolean, out: [string, import('node:fs').Stats][]): Promise<void> {
  const names = (await fs.readdir(rel === '' ? root : path.join(root, rel))).sort();
  const rels = names.map((n) => (rel === '' ? n : `${rel}/${n}`));
  const stats = await mapPool(rels, 64, (r) => fs.lstat(path.join(root, r)));
  for (let i = 0; i < rels.length; i++) {
    const r = rels[i]!;
    const st = stats[i]!;
    const skip = excluded(r);
    if (!skip) out.push([r, st]);
    // An excluded directory is still searched when some "!" pattern may bring back what is inside.
    if (st.isDirectory() && (!skip || hasExceptions)) await walk(root, r, excluded, hasExceptions, out);
  }
}

/**
 * The context tar for contextDir. dockerfilePath is where the Dockerfile is (absolute, or relative
 * to the current directory); a path outside the context, or dockerfileContent (stdin), is sent under
 * a random `.dockerfile.<hex>` name as the docker CLI does.
 */
export async function makeContextTar(contextDir: string, opts: { dockerfilePath?: string; dockerfileContent?: Buffer } = {}): Promise<ContextTar> {
  const root = path.resolve(contextDir);
  const dfAbs = opts.dockerfilePath !== undefined ? path.resolve(opts.dockerfilePath) : path.join(root, 'Dockerfile');
  const relDf = path.relative(root, dfAbs);
  const outside = opts.dockerfileContent !== undefined || relDf.startsWith('..') || path.isAbsolute(relDf);
  const { patterns: raw } = await loadIgnorePatterns(root, outside ? undefined : relDf);
  const patterns = keepBuildFiles(raw, outside ? undefined : relDf.split(path.sep).join('/'));
  const excluded = makeMatcher(patterns);
  const hasExceptions = patterns.some((p) => p.startsWith('!'));
  const extraName = outside ? `.dockerfile.${randomBytes(10).toString('hex')}` : undefined;
  const extraData = outside ? (opts.dockerfileContent ?? (await fs.readFile(dfAbs))) : undefined;
  const stream = (async function* (): AsyncGenerator<Buffer> {
    const links = new Map<string, string>();
    let sawIgnore = false;
    // Entries are produced in walk order; file data is read a few files ahead of the writer.
    const queue: Promise<Buffer[]>[] = [];
    const entry = async (rel: string, st: import('node:fs').Stats): Promise<Buffer[]> => {
      const base = { name: rel, mode: st.mode & 0o7777, uid: 0, gid: 0, size: 0, mtime: Math.floor(st.mtimeMs / 1000) };
      if (st.isDirectory()) return [tarHeader({ ...base, name: `${rel}/`, type: 'directory' })];
      if (st.isSymbolicLink()) return [tarHeader({ ...base, type: 'symlink', linkname: await fs.readlink(path.join(root, rel)) })];
      if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        if (st.nlink > 1 && links.has(key)) return [tarHeader({ ...base, type: 'link', linkname: links.get(key)! })];
        if (st.nlink > 1) links.set(key, rel);
        let data = await fs.readFile(path.join(root, rel));
        if (rel === '.dockerignore' && extraName) {
          sawIgnore = true;
          data = Buffer.concat([data, Buffer.from(`\n${extraName}\n`)]);
        }
        return [tarHeader({ ...base, type: 'file', size: data.length }), data, padding(data.length)];
      }
      if (st.isFIFO()) return [tarHeader({ ...base, type: 'fifo' })];
      if (st.isCharacterDevice() || st.isBlockDevice()) {
        return [tarHeader({ ...base, type: st.isCharacterDevice() ? 'char' : 'block', devmajor: (st.rdev >> 8) & 0xfff, devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00) })];
      }
      // Sockets are left out, as the docker CLI does.
      return [];
    };
    const chunks: Buffer[] = [];
    let pending = 0;
    const flush = async function* (all: boolean): AsyncGenerator<Buffer> {
      while (queue.length > (all ? 0 : 64)) {
        for (const b of await queue.shift()!) {
          chunks.push(b);
          pending += b.length;
        }
        if (pending >= 1 << 18) {
          yield Buffer.concat(chunks.splice(0));
          pending = 0;
        }
      }
    };
    const items: [string, import('node:fs').Stats][] = [];
    await walk(root, '', excluded, hasExceptions, items);
    for (const [rel, st] of items) {
      const p = entry(rel, st);
      p.catch(() => undefined);
      queue.push(p);
      yield* flush(false);
    }
    yield* flush(true);
    if (extraName && extraData) {
      const now = Math.floor(Date.now() / 1000);
      chunks.push(tarHeader({ name: extraName, type: 'file', mode: 0o600, uid: 0, gid: 0, size: extraData.length, mtime: now }), extraData, padding(extraData.length));
      if (!sawIgnore) {
        const ig = Buffer.from(`.dockerignore\n${extraName}\n`);
        chunks.push(tarHeader({ name: '.dockerignore', type: 'file', mode: 0o600, uid: 0, gid: 0, size: ig.length, mtime: now }), ig, padding(ig.length));
      }
    }
    chunks.push(TAR_END);
    yield Buffer.concat(chunks);
  })();
  return { stream, dockerfile: extraName ?? relDf.split(path.sep).join('/') };
}
