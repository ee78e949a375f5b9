// The client side of a build context, as the docker CLI makes it: a tar of the context directory with
// .dockerignore (or `<Dockerfile>.dockerignore`) applied, the Dockerfile and .dockerignore always
// kept, owners set to 0:0, hard links as links; and a Dockerfile from outside the context (or stdin)
// added as `.dockerfile.<20 hex>` with its name appended to the sent .dockerignore. Reads the
// directory; never follows a symlink.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { keepBuildFiles, loadIgnorePatterns, makeMatcher } from './dockerignore';

export type ContextTar = {
  stream: AsyncIterable<Buffer>;
  /** The `dockerfile` query value to send. */
  dockerfile: string;
};

type Pack = import('tar-stream').Pack;
type Headers = Parameters<Pack['entry']>[0];

function addEntry(pack: Pack, h: Headers, data?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (data !== undefined) pack.entry(h, data, (e) => (e ? reject(e) : resolve()));
    else pack.entry(h, (e) => (e ? reject(e) : resolve()));
  });
}

async function walk(root: string, rel: string, excluded: (p: string) => boolean, hasExceptions: boolean, visit: (rel: string, st: import('node:fs').Stats) => Promise<void>): Promise<void> {
  const names = (await fs.readdir(rel === '' ? root : path.join(root, rel))).sort();
  for (const n of names) {
    const r = rel === '' ? n : `${rel}/${n}`;
    const st = await fs.lstat(path.join(root, r));
    const out = excluded(r);
    if (!out) await visit(r, st);
    // An excluded directory is still searched when some "!" pattern may bring back what is inside.
    if (st.isDirectory() && (!out || hasExceptions)) await walk(root, r, excluded, hasExceptions, visit);
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
  const { pack: makePack } = await import('tar-stream');
  const pack = makePack();
  const links = new Map<string, string>();
  let sawIgnore = false;
  const produce = async () => {
    await walk(root, '', excluded, hasExceptions, async (rel, st) => {
      const base: Headers = { name: rel, mode: st.mode & 0o7777, uid: 0, gid: 0, uname: '', gname: '', mtime: st.mtime };
      if (st.isDirectory()) return addEntry(pack, { ...base, name: `${rel}/`, type: 'directory' });
      if (st.isSymbolicLink()) return addEntry(pack, { ...base, type: 'symlink', linkname: await fs.readlink(path.join(root, rel)) });
      if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        if (st.nlink > 1 && links.has(key)) return addEntry(pack, { ...base, type: 'link', linkname: links.get(key)! });
        if (st.nlink > 1) links.set(key, rel);
        let data = await fs.readFile(path.join(root, rel));
        if (rel === '.dockerignore' && extraName) {
          sawIgnore = true;
          data = Buffer.concat([data, Buffer.from(`\n${extraName}\n`)]);
          return addEntry(pack, { ...base, mode: st.mode & 0o7777, size: data.length, type: 'file' }, data);
        }
        return addEntry(pack, { ...base, size: data.length, type: 'file' }, data);
      }
      if (st.isFIFO()) return addEntry(pack, { ...base, type: 'fifo' });
      if (st.isCharacterDevice() || st.isBlockDevice()) {
        return addEntry(pack, { ...base, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: (st.rdev >> 8) & 0xfff, devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00) });
      }
      // Sockets are left out, as the docker CLI does.
    });
    if (extraName && extraData) {
      const now = new Date();
      await addEntry(pack, { name: extraName, mode: 0o600, uid: 0, gid: 0, uname: '', gname: '', mtime: now, type: 'file', size: extraData.length }, extraData);
      if (!sawIgnore) {
        const ig = Buffer.from(`.dockerignore\n${extraName}\n`);
        await addEntry(pack, { name: '.dockerignore', mode: 0o600, uid: 0, gid: 0, uname: '', gname: '', mtime: now, type: 'file', size: ig.length }, ig);
      }
    }
    pack.finalize();
  };
  const done = produce().catch((e: unknown) => pack.destroy(e as Error));
  const stream = (async function* () {
    for await (const c of pack) yield c as Buffer;
    await done;
  })();
  return { stream, dockerfile: extraName ?? relDf.split(path.sep).join('/') };
}
