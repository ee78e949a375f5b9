// File helpers for the engine, which must never block its event loop: atomic replace (temp file,
// fsync, rename) and a small async mutex keyed by name. Generic: no container knowledge here.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

let seq = 0;

/** Writes every chunk of body to fh from offset 0, looping over short writes. */
export async function writeAll(fh: fs.FileHandle, body: AsyncIterable<Buffer>): Promise<void> {
  let pos = 0;
  for await (const c of body) {
    for (let off = 0; off < c.length; ) {
      const { bytesWritten } = await fh.write(c, off, c.length - off, pos);
      off += bytesWritten;
      pos += bytesWritten;
    }
  }
}

/** Writes data to file atomically (readers see the old or the whole new content), fsynced. */
export async function writeFileAtomicAsync(file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${++seq}.tmp`);
  const fh = await fs.open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/** Serializes async sections per key (one container's lifecycle operations, for instance). */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
