// A minimal tar writer for build contexts: ustar headers, a pax record when a name, link target or
// size does not fit, as Go's archive/tar writes them. Produces buffers; does no I/O.

export type TarWriteHeader = {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'char' | 'block' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
};

const FLAG: Record<TarWriteHeader['type'], string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', directory: '5', fifo: '6' };

function octal(buf: Buffer, off: number, len: number, v: number): void {
  buf.write(`${v.toString(8).padStart(len - 1, '0')}\0`, off, len, 'latin1');
}

function block(name: string, flag: string, h: { mode: number; uid: number; gid: number; size: number; mtime: number; linkname: string; devmajor: number; devminor: number }): Buffer {
  const b = Buffer.alloc(512);
  b.write(name, 0, 100, 'utf8');
  octal(b, 100, 8, h.mode & 0o7777);
  octal(b, 108, 8, h.uid);
  octal(b, 116, 8, h.gid);
  octal(b, 124, 12, h.size);
  octal(b, 136, 12, Math.max(0, Math.floor(h.mtime)));
  b.fill(0x20, 148, 156);
  b.write(flag, 156, 1, 'latin1');
  b.write(h.linkname, 157, 100, 'utf8');
  b.write('ustar\x0000', 257, 8, 'latin1');
  octal(b, 329, 8, h.devmajor);
  octal(b, 337, 8, h.devminor);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i]!;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body);
  for (;;) {
    const total = len + String(len).length;
    if (String(total).length === String(len).length) return `${total}${body}`;
    len = total;
  }
}

/** The header block(s) of one entry; the data (padded with padding()) follows for files. */
export function tarHeader(h: TarWriteHeader): Buffer {
  const linkname = h.linkname ?? '';
  const pax: string[] = [];
  if (Buffer.byteLength(h.name) > 100) pax.push(paxRecord('path', h.name));
  if (Buffer.byteLength(linkname) > 100) pax.push(paxRecord('linkpath', linkname));
  if (h.size > 0o77777777777) pax.push(paxRecord('size', String(h.size)));
  const fields = { mode: h.mode, uid: h.uid, gid: h.gid, size: h.size > 0o77777777777 ? 0 : h.size, mtime: h.mtime, linkname: Buffer.byteLength(linkname) > 100 ? '' : linkname, devmajor: h.devmajor ?? 0, devminor: h.devminor ?? 0 };
  const name = Buffer.byteLength(h.name) > 100 ? Buffer.from(h.name).subarray(0, 100).toString('utf8').replace(/\uFFFD+$/, '') : h.name;
  const main = block(name, FLAG[h.type], fields);
  if (pax.length === 0) return main;
  const data = Buffer.from(pax.join(''));
  const paxHeader = block(`PaxHeaders.0/${name}`.slice(0, 100), 'x', { mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: h.mtime, linkname: '', devmajor: 0, devminor: 0 });
  return Buffer.concat([paxHeader, data, padding(data.length), main]);
}

/** Zero bytes that round size up to a 512-byte block. */
export function padding(size: number): Buffer {
  const r = size % 512;
  return r === 0 ? Buffer.alloc(0) : Buffer.alloc(512 - r);
}

/** The end-of-archive marker. */
export const TAR_END = Buffer.alloc(1024);
