// Docker's json-file log driver, both halves, so that they agree: the writer turns output chunks
// into {"log","stream","time"} lines (a line per \n, partial lines flushed at 16 KiB or at the end),
// rotating at max-size over max-file files; the reader serves `logs` (--tail, --since, --until, -f
// across rotations). Nothing here knows containers.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { RuntimeError } from '../../errors/index';

export type LogStream = 'stdout' | 'stderr';
export type LogEntry = { stream: LogStream; time: string; /** nanoseconds since the epoch */ nano: bigint; log: Buffer };

/** RFC 3339 with nanoseconds, as Go's time.RFC3339Nano (trailing zeros kept to 9 digits). */
export function rfc3339Nano(nano: bigint): string {
  const ms = Number(nano / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2026-01-01T00:00:00.123Z
  const frac = (nano % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}

/** Parses RFC 3339 (any fraction length) to nanoseconds since the epoch. */
export function parseRfc3339Nano(s: string): bigint {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) return BigInt(Date.parse(s)) * 1_000_000n;
  const base = BigInt(Date.parse(`${m[1]}${m[3]}`)) * 1_000_000n;
  const frac = BigInt(((m[2] ?? '') + '000000000').slice(0, 9));
  return base + frac;
}

let lastNano = 0n;
/** Wall-clock nanoseconds, strictly increasing within this process. */
export function nowNano(): bigint {
  const ms = BigInt(Date.now()) * 1_000_000n;
  const sub = process.hrtime.bigint() % 1_000_000n;
  let n = ms + sub;
  if (n <= lastNano) n = lastNano + 1n;
  lastNano = n;
  return n;
}

/** Docker's size strings (10m, 1g, 500k, plain bytes). */
export function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)b?$/i.exec(v.trim());
  if (!m) throw new RuntimeError('InvalidArgument', `invalid size: '${v}'`);
  const mult: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
  return Math.floor(Number(m[1]) * mult[m[2]!.toLowerCase()]!);
}

export type JsonFileOptions = { maxSize?: number; maxFile?: number };

/** Checks --log-opt values of the json-file driver as dockerd does. */
export function jsonFileOptions(cfg: Record<string, string> | undefined): JsonFileOptions {
  const o: JsonFileOptions = {};
  for (const [k, v] of Object.entries(cfg ?? {})) {
    if (k === 'max-size') o.maxSize = parseSize(v);
    else if (k === 'max-file') {
      if (!/^\d+$/.test(v) || Number(v) < 1) throw new RuntimeError('InvalidArgument', `max-file cannot be less than 1`);
      o.maxFile = Number(v);
    } else if (!['labels', 'labels-regex', 'env', 'env-regex', 'tag', 'compress', 'mode', 'max-buffer-size'].includes(k)) {
      throw new RuntimeError('InvalidArgument', `unknown log opt '${k}' for json-file log driver`);
    }
  }
  if (o.maxFile !== undefined && o.maxFile > 1 && o.maxSize === undefined) throw new RuntimeError('InvalidArgument', `max-file cannot be set when max-size is not set`);
  return o;
}

const PARTIAL_MAX = 16 * 1024;

/** Appends log lines to path, rotating as configured. Writes are synchronous appends (ordered, small). */
export class JsonFileWriter {
  private fd: number;
  private size: number;
  private readonly partial: Record<LogStream, Buffer[]> = { stdout: [], stderr: [] };
  private readonly partialLen: Record<LogStream, number> = { stdout: 0, stderr: 0 };

  constructor(readonly path: string, private readonly opts: JsonFileOptions = {}) {
    this.fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o640);
    this.size = fs.fstatSync(this.fd).size;
  }

  /** A chunk of output: every complete line is written; the rest waits for its newline. */
  write(stream: LogStream, chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl + 1);
      if (this.partialLen[stream]) {
        this.partial[stream].push(piece);
        this.emit(stream, Buffer.concat(this.partial[stream]));
        this.partial[stream] = [];
        this.partialLen[stream] = 0;
      } else this.emit(stream, piece);
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.partial[stream].push(Buffer.from(rest));
      this.partialLen[stream] += rest.length;
      if (this.partialLen[stream] >= PARTIAL_MAX) this.flushPartial(stream);
    }
  }

  /** Writes what is left of unterminated lines (the stream ended). */
  flushPartial(stream?: LogStream): void {
    for (const s of stream ? [stream] : (['stdout', 'stderr'] as LogStream[])) {
      if (!this.partialLen[s]) continue;
      this.emit(s, Buffer.concat(this.partial[s]));
      this.partial[s] = [];
      this.partialLen[s] = 0;
    }
  }

  private emit(stream: LogStream, data: Buffer): void {
    const line = Buffer.from(`${JSON.stringify({ log: data.toString('utf8'), stream, time: rfc3339Nano(nowNano()) })}\n`);
    if (this.opts.maxSize !== undefined && this.size > 0 && this.size + line.length > this.opts.maxSize) this.rotate();
    fs.writeSync(this.fd, line);
    this.size += line.length;
  }

  private rotate(): void {
    fs.closeSync(this.fd);
    const keep = this.opts.maxFile ?? 1;
    if (keep > 1) {
      for (let i = keep - 1; i >= 1; i--) {
        const from = i === 1 ? this.path : `${this.path}.${i - 1}`;
        try {
          fs.renameSync(from, `${this.path}.${i}`);
        } catch {
          /* not there yet */
        }
      }
      this.fd = fs.openSync(this.path, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o640);
    } else {
      this.fd = fs.openSync(this.path, fs.constants.O_WRONLY | fs.constants.O_TRUNC | fs.constants.O_CREAT | fs.constants.O_APPEND, 0o640);
    }
    this.size = 0;
  }

  close(): void {
    this.flushPartial();
    try {
      fs.closeSync(this.fd);
    } catch {
      /* closed */
    }
  }
}

function decodeLine(line: string): LogEntry | undefined {
  if (!line) return undefined;
  try {
    const j = JSON.parse(line) as { log: string; stream: LogStream; time: string };
    return { stream: j.stream, time: j.time, nano: parseRfc3339Nano(j.time), log: Buffer.from(j.log, 'utf8') };
  } catch {
    return undefined;
  }
}

export type ReadOptions = {
  /** Last n lines only (undefined: all). */
  tail?: number;
  sinceNano?: bigint;
  untilNano?: bigint;
  follow?: boolean;
  /** Resolves when no more output will come (the container stopped and its output drained). */
  done?: Promise<void>;
  signal?: AbortSignal;
};

/** The files of a log, oldest first (rotated .N … .1, then the live one). */
async function logFiles(p: string): Promise<string[]> {
  const dir = p.slice(0, p.lastIndexOf('/'));
  const base = p.slice(p.lastIndexOf('/') + 1);
  let names: string[] = [];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return [];
  }
  const rotated = names
    .map((n) => (n.startsWith(`${base}.`) && /^\d+$/.test(n.slice(base.length + 1)) ? Number(n.slice(base.length + 1)) : -1))
    .filter((n) => n > 0)
    .sort((a, b) => b - a)
    .map((n) => `${p}.${n}`);
  return [...rotated, p];
}

/** Yields the entries of the log at path, then (with follow) new ones until done or abort. */
export async function* readJsonLog(p: string, o: ReadOptions = {}): AsyncGenerator<LogEntry> {
  const inRange = (e: LogEntry) => (o.sinceNano === undefined || e.nano >= o.sinceNano) && (o.untilNano === undefined || e.nano <= o.untilNano);
  // Past entries.
  let entries: LogEntry[] = [];
  let ino = 0;
  let pos = 0;
  for (const f of await logFiles(p)) {
    let buf: Buffer;
    try {
      buf = await fsp.readFile(f);
    } catch {
      continue;
    }
    let text = buf.toString('utf8');
    if (f === p) {
      const st = await fsp.stat(p).catch(() => undefined);
      ino = st?.ino ?? 0;
      // Only complete lines: a line being written is read again by the follower.
      const lastNl = buf.lastIndexOf(0x0a);
      pos = lastNl + 1;
      text = buf.subarray(0, pos).toString('utf8');
    }
    for (const l of text.split('\n')) {
      const e = decodeLine(l);
      if (e && inRange(e)) entries.push(e);
    }
  }
  if (o.tail !== undefined && o.tail >= 0) entries = o.tail === 0 ? [] : entries.slice(-o.tail);
  for (const e of entries) {
    if (o.signal?.aborted) return;
    yield e;
  }
  if (!o.follow) return;
  if (o.untilNano !== undefined && o.untilNano <= nowNano()) return;
  // Follow: read appended lines; a new inode at path means rotation (finish the old file first).
  let finished = false;
  void o.done?.then(() => (finished = true));
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(p, 'r');
    const st = await fh.stat();
    if (st.ino !== ino) pos = 0;
    let carry = '';
    let lastPass = false;
    const chunk = Buffer.alloc(64 * 1024);
    let watcher: fs.FSWatcher | undefined;
    let wake: (() => void) | undefined;
    try {
      watcher = fs.watch(p, () => wake?.());
    } catch {
      watcher = undefined;
    }
    try {
      for (;;) {
        if (o.signal?.aborted) return;
        const { bytesRead } = await fh.read(chunk, 0, chunk.length, pos);
        if (bytesRead > 0) {
          pos += bytesRead;
          carry += chunk.subarray(0, bytesRead).toString('utf8');
          const lines = carry.split('\n');
          carry = lines.pop() ?? '';
          for (const l of lines) {
            const e = decodeLine(l);
            if (!e) continue;
            if (o.untilNano !== undefined && e.nano > o.untilNano) return;
            if (inRange(e)) yield e;
          }
          continue;
        }
        const cur = await fsp.stat(p).catch(() => undefined);
        if (cur && cur.ino !== (await fh.stat()).ino) {
          await fh.close();
          fh = await fsp.open(p, 'r');
          pos = 0;
          carry = '';
          watcher?.close();
          try {
            watcher = fs.watch(p, () => wake?.());
          } catch {
            watcher = undefined;
          }
          continue;
        }
        // Output written just before `done` resolved may have landed after the read above: one
        // more pass once finished, then stop.
        if (finished) {
          if (lastPass) return;
          lastPass = true;
          continue;
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 200);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
          void o.done?.then(() => wake?.());
          o.signal?.addEventListener('abort', () => wake?.(), { once: true });
        });
        wake = undefined;
      }
    } finally {
      watcher?.close();
    }
  } finally {
    await fh?.close();
  }
}
