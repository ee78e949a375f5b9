// Checks a tar stream on its way into the content store (docker import, a layer from outside), so
// that an archive no unpack would accept is refused at once with one line instead of when a
// container is made from it: absolute or ".." entry names and hard link targets, and entries that go
// through a symlink the archive itself made. Passes the bytes through unchanged.
import { PassThrough } from 'node:stream';
import { errors } from '../../errors/index';
import { readTar, type TarHeader } from './tar-reader';

function parts(what: string, name: string): string[] {
  if (name.startsWith('/')) throw errors.invalid(`${what} ${JSON.stringify(name)}: absolute path`);
  const p = name.split('/').filter((x) => x !== '' && x !== '.');
  if (p.includes('..')) throw errors.invalid(`${what} ${JSON.stringify(name)}: path escapes the archive root`);
  return p;
}

class Checker {
  private readonly symlinks = new Set<string>();

  check(h: TarHeader): void {
    const p = parts('archive entry', h.name);
    for (let i = 1; i < p.length; i++) {
      const prefix = p.slice(0, i).join('/');
      if (this.symlinks.has(prefix)) throw errors.invalid(`archive entry ${JSON.stringify(h.name)}: goes through the symbolic link ${JSON.stringify(prefix)} of the same archive`);
    }
    const rel = p.join('/');
    if (h.type === 'symlink') this.symlinks.add(rel);
    else this.symlinks.delete(rel);
    if (h.type === 'link') parts(`archive entry ${JSON.stringify(h.name)}: hard link target`, h.linkname);
  }
}

/**
 * Yields src unchanged while checking it as a tar; throws (before the last chunk is passed on) when
 * an entry is hostile or the tar is malformed. src must be uncompressed.
 */
export async function* checkedTar(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const tap = new PassThrough();
  const checker = new Checker();
  let failure: unknown;
  const checking = (async () => {
    for await (const { header } of readTar(tap)) checker.check(header);
  })().catch((e: unknown) => {
    failure = e;
    tap.resume();
  });
  for await (const c of src) {
    if (failure !== undefined) throw failure;
    if (!tap.write(c)) await Promise.race([new Promise((r) => tap.once('drain', r)), checking]);
    if (failure !== undefined) throw failure;
    yield c;
  }
  tap.end();
  await checking;
  if (failure !== undefined) throw failure;
}
