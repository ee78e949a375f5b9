// Decompression by magic number for build contexts and ADD archives: gzip (zlib), bzip2, xz and
// zstd (their CLIs: Node 20's zlib has none of them), or plain. Also the "is this a tar" probe that
// decides whether ADD extracts a local file.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { errors } from '../../errors/index';

export type Compression = 'gzip' | 'bzip2' | 'xz' | 'zstd' | 'none';

/** The compression of a stream from its first bytes (archive.DetectCompression). */
export function detectCompression(head: Buffer): Compression {
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'gzip';
  if (head.length >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (head.length >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

const TOOLS: Record<'bzip2' | 'xz' | 'zstd', [string, string[]]> = { bzip2: ['bzip2', ['-dc']], xz: ['xz', ['-dc']], zstd: ['zstd', ['-dcq']] };

async function* throughTool(kind: 'bzip2' | 'xz' | 'zstd', src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const [cmd, args] = TOOLS[kind];
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => undefined);
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', (e) => reject(errors.internal(`${cmd}: ${e.message}`)));
    child.once('close', (code) => resolve(code ?? 1));
  });
  exited.catch(() => undefined);
  const feeding = (async () => {
    try {
      for await (const c of src) if (!child.stdin.write(c)) await new Promise((r) => child.stdin.once('drain', r));
    } finally {
      child.stdin.end();
    }
  })();
  feeding.catch(() => child.kill());
  try {
    yield* child.stdout as AsyncIterable<Buffer>;
    await feeding;
    const code = await exited;
    if (code !== 0) throw errors.invalid(`${cmd}: ${stderr.trim() || `exit status ${code}`}`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}

/** The decompressed bytes of src, whatever its compression. */
export async function* decompressAny(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const it = src[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  const pending: Buffer[] = [];
  while (head.length < 6) {
    const r = await it.next();
    if (r.done) break;
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    pending.push(b);
    head = Buffer.concat([head, b]);
  }
  const rest = (async function* () {
    yield* pending;
    for (let r = await it.next(); !r.done; r = await it.next()) yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
  })();
  const kind = detectCompression(head);
  if (kind === 'none') yield* rest;
  else if (kind === 'gzip') yield* Readable.from(rest).pipe(createGunzip()) as AsyncIterable<Buffer>;
  else yield* throughTool(kind, rest);
}

/** A valid tar header block: ustar magic or a v7 header whose checksum adds up. */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < 512) return false;
  if (block.every((b) => b === 0)) return false;
  const field = block.subarray(148, 156).toString('latin1').replace(/[\0 ]+$/, '').replace(/^[\0 ]+/, '');
  if (!/^[0-7]+$/.test(field)) return false;
  const want = Number.parseInt(field, 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  return sum === want;
}

/**
 * ADD's archive detection (isArchivePath): the file decompresses and its first tar header reads.
 * Decided by content, never by name.
 */
export async function isArchiveFile(file: string): Promise<boolean> {
  const fh = await fs.open(file, 'r');
  try {
    const gen = decompressAny(
      (async function* () {
        for await (const c of fh.createReadStream({ start: 0, end: (1 << 20) - 1, autoClose: false })) yield c as Buffer;
      })(),
    );
    let got = Buffer.alloc(0);
    try {
      for await (const c of gen) {
        got = Buffer.concat([got, c]);
        if (got.length >= 512) break;
      }
    } catch {
      return false;
    } finally {
      await gen.return(undefined).catch(() => undefined);
    }
    return isTarHeader(got.subarray(0, 512));
  } finally {
    await fh.close().catch(() => undefined);
  }
}
