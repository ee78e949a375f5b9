// Tar header encoding for the archives dock writes (layers, `docker export`, `docker cp`): ustar
// headers, with a pax extended header when a field does not fit (long or non-ASCII names, big sizes
// or ids) or xattrs must travel (SCHILY.xattr.*, values as raw bytes). Deterministic: no user or
// group names, no atime/ctime, whole-second mtimes. Encodes bytes only; never reads files.
import type { TarType } from './tar-reader';

export type TarWriteHeader = {
  /** Entry name without a leading "/"; directories may end with "/" (added when missing). */
  name: string;
  type: TarType;
  /** Permission bits with setuid/setgid/sticky (07777). */
  mode: number;
  uid: number;
  gid: number;
  /** Data size; only regular files carry data. */
  size?: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Buffer>;
};

const BLOCK = 512;
/** The end-of-archive marker: two zero blocks. */
export const TAR_END = Buffer.alloc(2 * BLOCK);
const TYPE_FLAG: Record<TarType, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', directory: '5', fifo: '6' };
const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;

/** Zero bytes that pad size bytes of data to a whole block. */
export function tarPadding(size: number): Buffer {
  const r = size % BLOCK;
  return r === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - r);
}

function isAscii(s: string): boolean {
  return /^[\x01-\x7f]*$/.test(s);
}

function octal(buf: Buffer, off: number, len: number, v: number): void {
  buf.write(`${v.toString(8).padStart(len - 1, '0')}\0`, off, len, 'latin1');
}

/** Splits a long name into ustar prefix (≤155) and name (≤100) at a "/", if possible. */
function splitUstar(name: string): [string, string] | undefined {
  if (Buffer.byteLength(name) <= 100) return ['', name];
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (prefix.length <= 155 && rest.length <= 100 && rest.length > 0) return [prefix, rest];
  }
  return undefined;
}

/** One pax record "<len> <key>=<value>\n", where len counts the whole record. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function ustarBlock(h: { name: string; prefix: string; mode: number; uid: number; gid: number; size: number; mtime: number; flag: string; linkname: string; devmajor: number; devminor: number }): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(h.name, 0, 100, 'utf8');
  octal(b, 100, 8, h.mode);
  octal(b, 108, 8, h.uid);
  octal(b, 116, 8, h.gid);
  octal(b, 124, 12, h.size);
  octal(b, 136, 12, h.mtime);
  b.write(h.flag, 156, 1, 'latin1');
  b.write(h.linkname, 157, 100, 'utf8');
  b.write('ustar\0' + '00', 257, 8, 'latin1');
  octal(b, 329, 8, h.devmajor);
  octal(b, 337, 8, h.devminor);
  b.write(h.prefix, 345, 155, 'utf8');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}

/** The header block(s) of one entry: a pax header first when needed, then the ustar header. */
export function encodeTarHeader(h: TarWriteHeader): Buffer {
  let name = h.name.replace(/^\/+/, '');
  if (h.type === 'directory' && !name.endsWith('/')) name += '/';
  const size = h.type === 'file' ? (h.size ?? 0) : 0;
  const linkname = h.linkname ?? '';
  const pax: Buffer[] = [];
  const split = isAscii(name) ? splitUstar(name) : undefined;
  if (!split) pax.push(paxRecord('path', Buffer.from(name)));
  if (Buffer.byteLength(linkname) > 100 || !isAscii(linkname)) pax.push(paxRecord('linkpath', Buffer.from(linkname)));
  if (size > MAX_OCTAL_12) pax.push(paxRecord('size', Buffer.from(String(size))));
  if (h.uid > MAX_OCTAL_8) pax.push(paxRecord('uid', Buffer.from(String(h.uid))));
  if (h.gid > MAX_OCTAL_8) pax.push(paxRecord('gid', Buffer.from(String(h.gid))));
  const mtime = Math.max(0, Math.floor(h.mtime));
  if (mtime > MAX_OCTAL_12) pax.push(paxRecord('mtime', Buffer.from(String(mtime))));
  for (const [k, v] of [...(h.xattrs ?? new Map<string, Buffer>())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) pax.push(paxRecord(`SCHILY.xattr.${k}`, v));
  const [prefix, short] = split ?? ['', asciiFallback(name, 100)];
  const main = ustarBlock({
    name: short,
    prefix,
    mode: h.mode & 0o7777,
    uid: Math.min(h.uid, MAX_OCTAL_8),
    gid: Math.min(h.gid, MAX_OCTAL_8),
    size: Math.min(size, MAX_OCTAL_12),
    mtime: Math.min(mtime, MAX_OCTAL_12),
    flag: TYPE_FLAG[h.type],
    linkname: Buffer.byteLength(linkname) > 100 || !isAscii(linkname) ? asciiFallback(linkname, 100) : linkname,
    devmajor: Math.min(h.devmajor ?? 0, MAX_OCTAL_8),
    devminor: Math.min(h.devminor ?? 0, MAX_OCTAL_8),
  });
  if (pax.length === 0) return main;
  const data = Buffer.concat(pax);
  const base = name.replace(/\/$/, '').split('/').pop() ?? '';
  const paxHeader = ustarBlock({
    name: asciiFallback(`PaxHeaders.0/${base}`, 100),
    prefix: '',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: data.length,
    mtime: 0,
    flag: 'x',
    linkname: '',
    devmajor: 0,
    devminor: 0,
  });
  return Buffer.concat([paxHeader, data, tarPadding(data.length), main]);
}

/** A printable stand-in for a field the pax header carries in full (readers without pax see it). */
function asciiFallback(s: string, max: number): string {
  return s.replace(/[^\x20-\x7e]/g, '_').slice(-max);
}
