// Helpers the dock commands share: API path escaping, docker's parallelOperation and errors.Join,
// the y/N prompt, and the output helpers (print a line, render a --format list).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EngineClient } from '../../api/client';
import type { DockCli } from '../cli';
import { StatusError } from '../command';
import { errorText } from '../execute';
import { isTable, renderList } from '../format/formatter';
import type { GoStruct } from '../template/values';

/** Go's url.URL{Path}.EscapedPath(): keeps '/', ':' and sub-delims, escapes the rest. */
export function esc(s: string): string {
  return s.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/]/g, (c) =>
    [...Buffer.from(c)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

/** errors.Join of per-item failures: one line each, exit 1. */
export function joinErrors(errs: unknown[]): Error | undefined {
  if (errs.length === 0) return undefined;
  return new Error(errs.map(errorText).join('\n'));
}

/** docker's parallelOperation: up to 50 at once, results in argument order. */
export async function parallel<T>(items: string[], op: (item: string) => Promise<T>): Promise<({ ok: true; value: T } | { ok: false; error: unknown })[]> {
  const out: ({ ok: true; value: T } | { ok: false; error: unknown })[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = { ok: true, value: await op(items[i]!) };
      } catch (error) {
        out[i] = { ok: false, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(50, items.length) }, worker));
  return out;
}

/** Runs op per item (in parallel), printing each name that succeeded; failures joined (exit 1). */
export async function forEachPrinting(cli: DockCli, items: string[], op: (item: string) => Promise<unknown>, sequential = false): Promise<void> {
  const errs: unknown[] = [];
  if (sequential) {
    for (const it of items) {
      try {
        await op(it);
        cli.out.write(`${it}\n`);
      } catch (e) {
        errs.push(e);
      }
    }
  } else {
    const res = await parallel(items, op);
    res.forEach((r, i) => {
      if (r.ok) cli.out.write(`${items[i]}\n`);
      else errs.push(r.error);
    });
  }
  const err = joinErrors(errs);
  if (err) throw err;
}

/** prompt.Confirm: prints "msg [y/N] " and reads one line; true only for y/Y. */
export async function confirm(cli: DockCli, message: string): Promise<boolean> {
  cli.out.write(`${message} [y/N] `);
  const line = await readLine(cli.in.stream);
  return line.trim().toLowerCase() === 'y';
}

function readLine(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const onData = (d: Buffer | string) => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) done(buf.slice(0, i));
    };
    const done = (s: string) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.pause();
      resolve(s);
    };
    const onEnd = () => done(buf);
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.resume();
  });
}

/** A cancelled prompt: docker prints nothing and exits 0. */
export const CANCELLED = new StatusError('', 0);

export function writeList(cli: DockCli, format: string, header: Record<string, string>, items: GoStruct[]): void {
  const text = renderList(format, header, items);
  if (text) cli.out.write(text);
  void isTable;
}

export async function client(cli: DockCli): Promise<EngineClient> {
  return cli.client();
}

/** Reads stdin to the end (for --password-stdin and `-` arguments). */
export async function readStdin(cli: DockCli): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of cli.in.stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(chunks);
}

/** Go's strerror texts for the errno codes file commands meet. */
export function goErrno(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const texts: Record<string, string> = {
    ENOENT: 'no such file or directory',
    ENOTDIR: 'not a directory',
    EACCES: 'permission denied',
    EISDIR: 'is a directory',
    EEXIST: 'file exists',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on device',
  };
  return (code && texts[code]) ?? (e as Error).message;
}

/**
 * moby/sys/atomicwriter: validates the destination as docker does, writes a temp file beside it and
 * renames it into place on success (the temp file is removed on failure).
 */
export async function writeAtomically(file: string, chunks: AsyncIterable<unknown>, what: string): Promise<void> {
  validateDestination(file, what);
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.tmp-${path.basename(file)}${process.pid}${Date.now()}`);
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    for await (const c of chunks) fs.writeSync(fd, c as Buffer);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.closeSync(fd);
    } catch {
      /* closed */
    }
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** atomicwriter's validateDestination, with the caller's error prefix. */
export function validateDestination(file: string, what: string): void {
  const fail = (msg: string) => new Error(`${what}: ${msg}`);
  if (file === '') throw fail('file name is empty');
  const dir = path.dirname(file);
  if (dir !== '' && dir !== '.' && dir !== '..') {
    let st: fs.Stats;
    try {
      st = fs.statSync(dir);
    } catch (e) {
      throw fail(`invalid output path: stat ${dir}: ${goErrno(e)}`);
    }
    if (!st.isDirectory()) throw fail(`invalid output path: stat ${dir}: not a directory`);
  }
  try {
    const st = fs.lstatSync(file);
    if (st.isCharacterDevice() || st.isBlockDevice()) throw fail('cannot write to a character device file');
    if (st.isSymbolicLink()) throw fail('cannot write to a symbolic link directly');
    if (!st.isFile()) throw fail('unsupported file type');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}
