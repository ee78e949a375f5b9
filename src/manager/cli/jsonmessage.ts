// Renders an Engine JSON-message stream (pull, push, load, import, build) as docker's jsonmessage
// package does: on a terminal, one line per layer id redrawn in place with a progress bar; into a
// pipe, only lines without progress; an errorDetail ends the stream as a JSONError (its code is the
// exit status build uses; other commands exit 1).
import { decodeJsonStream } from '../api/client';
import { humanSize } from './units';

export type JSONProgress = { current?: number; total?: number; start?: number; hidecounts?: boolean; units?: string };

export type JSONMessage = {
  stream?: string;
  status?: string;
  progressDetail?: JSONProgress;
  progress?: string;
  id?: string;
  from?: string;
  time?: number;
  timeNano?: number;
  errorDetail?: { code?: number; message?: string };
  error?: string;
  aux?: unknown;
};

export class JSONError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
    this.name = 'JSONError';
  }
}

export type Sink = { write(s: string): unknown; isTerminal: boolean; columns?: number };

function formatDurationRounded(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s === 0) return '0s';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h ? `${h}h${m}m${sec}s` : m ? `${m}m${sec}s` : `${sec}s`;
}

/** JSONProgress.String(): "[=====>     ]  1.2MB/4.5MB 3s". */
export function progressString(p: JSONProgress, width: number, now = Date.now()): string {
  const cur = p.current ?? 0;
  const total = p.total ?? 0;
  if (cur <= 0 && total <= 0) return '';
  if (total <= 0) return p.units ? `${cur} ${p.units}` : humanSize(cur).padStart(8);
  let pct = Math.trunc(Math.trunc((cur / total) * 100) / 2);
  if (pct > 50) pct = 50;
  let bar = '';
  if (width > 110) bar = `[${'='.repeat(pct)}>${' '.repeat(Math.max(0, 50 - pct))}] `;
  let nums = '';
  if (!p.hidecounts) {
    if (!p.units) nums = cur > total ? humanSize(cur).padStart(8) : `${humanSize(cur).padStart(8)}/${humanSize(total)}`;
    else nums = cur > total ? `${cur} ${p.units}` : `${cur}/${total} ${p.units}`;
  }
  let left = '';
  if (width > 50 && cur > 0 && p.start && p.start > 0 && pct < 50) {
    const per = (now - p.start * 1000) / cur;
    left = ` ${formatDurationRounded((total - cur) * per)}`;
  }
  return bar + nums + left;
}

function rfc3339NanoFixed(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const frac = String(ns % 1_000_000_000n).padStart(9, '0');
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const l = new Date(ms + off * 60000);
  const p = (n: number) => String(n).padStart(2, '0');
  const z = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  return `${l.getUTCFullYear()}-${p(l.getUTCMonth() + 1)}-${p(l.getUTCDate())}T${p(l.getUTCHours())}:${p(l.getUTCMinutes())}:${p(l.getUTCSeconds())}.${frac}${z}`;
}

function display(jm: JSONMessage, out: Sink): void {
  if (jm.errorDetail) throw new JSONError(jm.errorDetail.message ?? '', jm.errorDetail.code ?? 0);
  const width = out.columns ?? 200;
  let endl = '';
  const prog = jm.progressDetail ? progressString(jm.progressDetail, width) : '';
  if (out.isTerminal && !jm.stream && jm.progressDetail) {
    out.write('\x1b[2K');
    endl = '\r';
    out.write(endl);
  } else if (jm.progressDetail && prog !== '') return;
  if (jm.timeNano) out.write(`${rfc3339NanoFixed(BigInt(jm.timeNano))} `);
  else if (jm.time) out.write(`${rfc3339NanoFixed(BigInt(jm.time) * 1_000_000_000n)} `);
  if (jm.id) out.write(`${jm.id}: `);
  if (jm.from) out.write(`(from ${jm.from}) `);
  if (jm.progressDetail && out.isTerminal) out.write(`${jm.status ?? ''} ${prog}${endl}`);
  else if (jm.progress) out.write(`${jm.status ?? ''} ${jm.progress}${endl}`);
  else if (jm.stream) out.write(`${jm.stream}${endl}`);
  else out.write(`${jm.status ?? ''}${endl}\n`);
}

/** DisplayJSONMessagesStream over an async source of messages. */
export async function displayJsonMessages(messages: AsyncIterable<JSONMessage>, out: Sink, onAux?: (jm: JSONMessage) => void): Promise<void> {
  let ids = new Map<string, number>();
  for await (const jm of messages) {
    let diff = 0;
    if (jm.aux !== undefined) {
      onAux?.(jm);
      continue;
    }
    if (jm.id && (jm.progressDetail || jm.progress)) {
      let line = ids.get(jm.id);
      if (line === undefined) {
        line = ids.size;
        ids.set(jm.id, line);
        if (out.isTerminal) out.write('\n');
      }
      diff = ids.size - line;
      if (out.isTerminal && diff > 0) out.write(`\x1b[${diff}A`);
    } else ids = new Map();
    try {
      display(jm, out);
    } finally {
      if (jm.id && out.isTerminal && diff > 0) out.write(`\x1b[${diff}B`);
    }
  }
}

/** Decodes a raw JSON-message body and displays it. */
export async function displayJsonStream(body: AsyncIterable<Buffer | string>, out: Sink, onAux?: (jm: JSONMessage) => void): Promise<void> {
  await displayJsonMessages(decodeJsonStream<JSONMessage>(body), out, onAux);
}

/** A Sink for one of the CLI's output streams. */
export function sinkOf(stream: { write(s: string): unknown; isTerminal: boolean; size(): [number, number] }): Sink {
  return { write: (s) => stream.write(s), isTerminal: stream.isTerminal, ...(stream.isTerminal ? { columns: stream.size()[1] } : {}) };
}
