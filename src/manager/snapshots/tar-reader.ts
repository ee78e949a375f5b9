// Streaming tar reader for layer extraction: ustar, GNU (long names, base-256 numbers) and pax
// (path, linkpath, size, ids, mtime, SCHILY.xattr.* as raw bytes). Our own because tar-stream decodes
// pax values as UTF-8, which corrupts binary xattrs (security.capability). Parses only; never writes files.
import { errors } from '../../errors/index';

export type TarType = 'file' | 'link' | 'symlink' | 'char' | 'block' | 'directory' | 'fifo';

export type TarHeader = {
  name: string;
  type: TarType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from pax SCHILY.xattr.<name> (or LIBARCHIVE.xattr.<name>) records. */
  xattrs: Map<string, Buffer>;
};

export type TarEntry = { header: TarHeader; body: AsyncIterable<Buffer> };

/** Pulls exact byte counts out of an async chunk source without copying more than needed. */
class ByteReader {
  private chunks: Buffer[] = [];
  private length = 0;
  private ended = false;
  private readonly it: AsyncIterator<Buffer>;

  constructor(src: AsyncIterable<Buffer>) {
    this.it = src[Symbol.asyncIterator]();
  }

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    if (b.length > 0) {
      this.chunks.push(b);
      this.length += b.length;
    }
    return true;
  }

  /** Exactly n bytes, or undefined at a clean end of input; throws on a truncated input. */
  async exact(n: number): Promise<Buffer | undefined> {
    while (this.length < n) {
      if (!(await this.pull())) {
        if (this.length === 0) return undefined;
        throw errors.invalid('tar: unexpected end of archive');
      }
    }
    const out = this.take(n);
    return out;
  }

  private take(n: number): Buffer {
    if (this.chunks[0]!.length >= n) {
      const first = this.chunks[0]!;
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.length -= n;
      return out;
    }
    const all = Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.length -= n;
    return out;
  }

  /** n bytes as a sequence of chunks (no concatenation). */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.length === 0 && !(await this.pull())) throw errors.invalid('tar: unexpected end of archive in file data');
      if (this.length === 0) continue;
      const first = this.chunks[0]!;
      const take = Math.min(left, first.length);
      yield this.take(take);
      left -= take;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.stream(n)) void _;
  }

  /** Drains the rest of the source (so a decompressor's trailer and errors are seen). */
  async drain(): Promise<void> {
    while (await this.pull()) this.chunks = [];
    this.length = 0;
  }
}

function str(b: Buffer, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const z = s.indexOf(0);
  return (z === -1 ? s : s.subarray(0, z)).toString('utf8');
}

function num(b: Buffer, off: number, len: number): number {
  const f = b.subarray(off, off + len);
  if (f[0]! & 0x80) {
    // GNU base-256: big-endian two's complement with the top bit as marker.
    let v = f[0]! & 0x7f;
    for (let i = 1; i < f.length; i++) v = v * 256 + f[i]!;
    if (!Number.isSafeInteger(v)) throw errors.invalid('tar: numeric field out of range');
    return v;
  }
  // Octal digits between NUL/space padding, read byte by byte: this runs ~8 times per header.
  let i = 0;
  let end = f.length;
  while (end > 0 && (f[end - 1] === 0 || f[end - 1] === 0x20)) end--;
  while (i < end && (f[i] === 0 || f[i] === 0x20)) i++;
  let v = 0;
  for (let k = i; k < end; k++) {
    const c = f[k]!;
    if (c < 0x30 || c > 0x37) throw errors.invalid(`tar: malformed octal field ${JSON.stringify(f.subarray(i, end).toString('latin1'))}`);
    v = v * 8 + (c - 0x30);
  }
  return v;
}

/** A zero block (the end-of-archive marker). */
function isZeroBlock(b: Buffer): boolean {
  if (b[0] !== 0) return false;
  for (let i = 0; i < b.length; i += 4) if (b.readUInt32LE(i) !== 0) return false;
  return true;
}

function checksumOk(b: Buffer): boolean {
  const want = num(b, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const c = i >= 148 && i < 156 ? 32 : b[i]!;
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return want === unsigned || want === signed;
}

/** Parses "len key=value\n" pax records; values stay raw bytes. */
export function parsePax(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < buf.length) {
    const sp = buf.indexOf(0x20, off);
    if (sp === -1) break;
    const len = Number.parseInt(buf.subarray(off, sp).toString('latin1'), 10);
    if (!Number.isInteger(len) || len <= 0 || off + len > buf.length) throw errors.invalid('tar: malformed pax record');
    const rec = buf.subarray(sp + 1, off + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq === -1) throw errors.invalid('tar: malformed pax record');
    out.set(rec.subarray(0, eq).toString('utf8'), rec.subarray(eq + 1));
    off += len;
  }
  return out;
}

const typeOf: Record<string, TarType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '3': 'char', '4': 'block', '5': 'directory', '6': 'fifo' };

/**
 * Yields each entry of a tar stream. The consumer must finish (or abandon) an entry's body before
 * asking for the next; unread body bytes are skipped.
 */
export async function* readTar(src: AsyncIterable<Buffer>): AsyncGenerator<TarEntry> {
  const r = new ByteReader(src);
  let global = new Map<string, Buffer>();
  let pax: Map<string, Buffer> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await r.exact(512);
    if (!block) return;
    if (isZeroBlock(block)) {
      await r.drain();
      return;
    }
    if (!checksumOk(block)) throw errors.invalid('tar: invalid header checksum');
    const flag = String.fromCharCode(block[156]!);
    const size = num(block, 124, 12);
    const padded = Math.ceil(size / 512) * 512;
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > 1 << 24) throw errors.invalid('tar: oversized extended header');
      const data = (await r.exact(padded)) ?? Buffer.alloc(0);
      const body = data.subarray(0, size);
      if (flag === 'x') pax = parsePax(body);
      else if (flag === 'g') global = new Map([...global, ...parsePax(body)]);
      else if (flag === 'L') longName = str(body, 0, body.length);
      else longLink = str(body, 0, body.length);
      continue;
    }
    const magic = block.subarray(257, 263).toString('latin1');
    let name = str(block, 0, 100);
    if (magic === 'ustar\0') {
      const prefix = str(block, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    let type = typeOf[flag];
    if (type === undefined) throw errors.notImplemented(`tar: unsupported entry type ${JSON.stringify(flag)} for ${name}`);
    const rec = pax === undefined ? global : global.size === 0 ? pax : new Map([...global, ...pax]);
    const h: TarHeader = {
      name: longName ?? name,
      type,
      mode: num(block, 100, 8) & 0o7777,
      uid: num(block, 108, 8),
      gid: num(block, 116, 8),
      size,
      mtime: num(block, 136, 12),
      linkname: longLink ?? str(block, 157, 100),
      devmajor: num(block, 329, 8),
      devminor: num(block, 337, 8),
      xattrs: new Map(),
    };
    for (const [k, v] of rec) {
      const s = () => v.toString('utf8');
      if (k === 'path') h.name = s();
      else if (k === 'linkpath') h.linkname = s();
      else if (k === 'size') h.size = Number.parseInt(s(), 10);
      else if (k === 'uid') h.uid = Number.parseInt(s(), 10);
      else if (k === 'gid') h.gid = Number.parseInt(s(), 10);
      else if (k === 'mtime') h.mtime = Math.floor(Number.parseFloat(s()));
      else if (k.startsWith('SCHILY.xattr.')) h.xattrs.set(k.slice('SCHILY.xattr.'.length), v);
      else if (k.startsWith('LIBARCHIVE.xattr.')) h.xattrs.set(decodeURIComponent(k.slice('LIBARCHIVE.xattr.'.length)), Buffer.from(s(), 'base64'));
    }
    pax = undefined;
    longName = undefined;
    longLink = undefined;
    if (type === 'file' && h.name.endsWith('/')) type = h.type = 'directory';
    const dataSize = type === 'file' ? h.size : 0;
    const bodyPadded = type === 'file' ? Math.ceil(h.size / 512) * 512 : padded;
    let consumed = 0;
    const body = (async function* () {
      for await (const c of r.stream(dataSize)) {
        consumed += c.length;
        yield c;
      }
    })();
    yield { header: h, body };
    // Skip whatever the consumer left unread, then the padding.
    if (consumed < dataSize) await r.skip(dataSize - consumed);
    await r.skip(bodyPadded - dataSize);
  }
}
