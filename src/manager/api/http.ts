// The Engine API's HTTP layer on node:http: a route table of [method, pattern, handler], the
// optional /vX.Y prefix, Docker-shaped errors (one mapping from error kind to status), JSON and
// JSON-message stream replies with headers flushed at once, and hijacked connections (101 Upgrade,
// or a raw 200 for clients that do not ask to upgrade). Knows no endpoint.
import type * as http from 'node:http';
import type * as net from 'node:net';
import { RuntimeError, kindOf, messageOf, type ErrorKind } from '../../errors/index';

/** The newest API version dock speaks; the oldest it accepts. */
export const API_VERSION = '1.45';
export const MIN_API_VERSION = '1.24';

/** An error with an explicit HTTP status (304 Not Modified and the few that no kind expresses). */
export class HttpError extends RuntimeError {
  constructor(readonly status: number, message: string, kind: ErrorKind = 'Internal') {
    super(kind, message);
    this.name = 'HttpError';
  }
}

/** The one mapping from error kinds to Docker's status codes (moby's httpstatus.FromError). */
export function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  switch (kindOf(err)) {
    case 'NotFound':
      return 404;
    case 'AlreadyExists':
    case 'FailedPrecondition':
      return 409;
    case 'InvalidArgument':
      return 400;
    case 'PermissionDenied':
      return 403;
    case 'Unavailable':
      return 503;
    case 'NotImplemented':
      return 501;
    default:
      return 500;
  }
}

/** What a handler gets for one request. */
export type Ctx = {
  req: http.IncomingMessage;
  /** Absent for hijacked (upgraded) requests. */
  res?: http.ServerResponse;
  method: string;
  /** Path without the version prefix and query. */
  path: string;
  /** API version of the request (from its /vX.Y prefix, else the newest). */
  version: string;
  query: URLSearchParams;
  /** Pattern groups, URL-decoded. */
  params: string[];
  /** For upgrade requests: the socket and the bytes that came with the headers. */
  upgrade?: { socket: net.Socket; head: Buffer };
};

export type Handler = (ctx: Ctx) => Promise<void>;

type Route = { method: string; re: RegExp; handler: Handler };

export class Router {
  private readonly routes: Route[] = [];

  /** Adds a route; pattern is a full-path regex (groups become params). First match wins. */
  add(method: string, pattern: RegExp, handler: Handler): void {
    this.routes.push({ method, re: pattern, handler });
  }

  match(method: string, p: string): { route: Route; params: string[] } | undefined {
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.re.exec(p);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) continue;
      return { route: r, params: m.slice(1).map((x) => (x === undefined ? '' : decodeURIComponent(x))) };
    }
    if (pathMatched) throw new HttpError(405, `method ${method} not allowed`);
    return undefined;
  }
}

/** Splits /v1.41/containers/json?x=1 into version, path and query. */
export function parseUrl(url: string): { version: string; path: string; query: URLSearchParams } {
  const q = url.indexOf('?');
  let p = q >= 0 ? url.slice(0, q) : url;
  const query = new URLSearchParams(q >= 0 ? url.slice(q + 1) : '');
  let version = API_VERSION;
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(p);
  if (m) {
    version = m[1]!;
    p = m[2]!;
  }
  return { version, path: p, query };
}

/** Docker's query booleans: 1/true/True/yes; absent → dflt. */
export function qbool(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  return !['0', 'false', 'no', 'off'].includes(v.toLowerCase());
}

/** An integer query parameter; a malformed value is a 400 naming it. */
export function qint(q: URLSearchParams, name: string, dflt?: number): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || !/^-?\d+(\.\d+)?$/.test(v.trim())) throw new RuntimeError('InvalidArgument', `invalid value for ${name}: ${JSON.stringify(v)}`);
  return Math.trunc(n);
}

/** Docker's `filters` parameter: map form {"k":{"v":true}} or list form {"k":["v"]}. */
export function qfilters(q: URLSearchParams): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const raw = q.get('filters');
  if (!raw) return out;
  let j: unknown;
  try {
    j = JSON.parse(raw);
  } catch {
    throw new RuntimeError('InvalidArgument', `invalid filter: ${raw}`);
  }
  if (!j || typeof j !== 'object' || Array.isArray(j)) throw new RuntimeError('InvalidArgument', `invalid filter: ${raw}`);
  for (const [k, v] of Object.entries(j as Record<string, unknown>)) {
    if (Array.isArray(v)) out.set(k, v.map(String));
    else if (v && typeof v === 'object') out.set(k, Object.entries(v as Record<string, unknown>).filter(([, b]) => b === true || b === 'true').map(([x]) => x));
    else throw new RuntimeError('InvalidArgument', `invalid filter '${k}'`);
  }
  return out;
}

/** Reads a whole request body (up to limit bytes). */
export function readBody(req: http.IncomingMessage, limit = 64 << 20): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > limit) {
        req.destroy();
        reject(new RuntimeError('InvalidArgument', `request body larger than ${limit} bytes`));
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The JSON body of a request; an empty body gives dflt; malformed JSON is a 400. */
export async function readJson<T>(ctx: Ctx, dflt: T): Promise<T> {
  const body = await readBody(ctx.req);
  if (body.length === 0 || body.toString().trim() === '') return dflt;
  try {
    return JSON.parse(body.toString()) as T;
  } catch (e) {
    throw new RuntimeError('InvalidArgument', `invalid JSON: ${messageOf(e)}`);
  }
}

function res(ctx: Ctx): http.ServerResponse {
  if (!ctx.res) throw new Error('no response object for a hijacked request');
  return ctx.res;
}

export function sendJson(ctx: Ctx, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value) + '\n');
  const r = res(ctx);
  r.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  r.end(ctx.method === 'HEAD' ? undefined : body);
}

export function sendEmpty(ctx: Ctx, status: number): void {
  const r = res(ctx);
  r.writeHead(status);
  r.end();
}

export function sendText(ctx: Ctx, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = Buffer.from(text);
  const r = res(ctx);
  r.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length, ...headers });
  r.end(ctx.method === 'HEAD' ? undefined : body);
}

/** Starts a streamed 200 reply and flushes its headers at once (docker run waits for them). */
export function startStream(ctx: Ctx, contentType = 'application/json', headers: Record<string, string> = {}): http.ServerResponse {
  const r = res(ctx);
  r.writeHead(200, { 'Content-Type': contentType, ...headers });
  r.flushHeaders();
  return r;
}

/** A JSON-message stream writer (pull, push, build, load, import): one object per line. */
export class JsonMessageStream {
  private closed = false;
  constructor(private readonly out: http.ServerResponse | net.Socket) {
    out.on('close', () => (this.closed = true));
  }
  get gone(): boolean {
    return this.closed;
  }
  write(obj: unknown): void {
    if (!this.closed) this.out.write(JSON.stringify(obj) + '\r\n');
  }
  /** An error in the stream (HTTP status stays 200): the CLI exits with code, or 1. */
  error(err: unknown, code?: number): void {
    const message = messageOf(err);
    this.write({ errorDetail: code === undefined ? { message } : { code, message }, error: message });
  }
  end(): void {
    if (!this.closed) this.out.end();
  }
}

/** Docker's error body, or nothing for HEAD and 304. */
export function sendError(ctx: Ctx, err: unknown): void {
  const status = statusOf(err);
  const message = messageOf(err);
  if (ctx.upgrade) {
    const body = JSON.stringify({ message }) + '\n';
    ctx.upgrade.socket.end(`HTTP/1.1 ${status} ${reason(status)}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    return;
  }
  const r = ctx.res!;
  if (r.headersSent) {
    r.destroy();
    return;
  }
  if (status === 304 || ctx.method === 'HEAD') return sendEmpty(ctx, status);
  sendJson(ctx, status, { message });
}

function reason(status: number): string {
  return ({ 400: 'Bad Request', 404: 'Not Found', 409: 'Conflict', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable' } as Record<number, string>)[status] ?? 'Error';
}

/**
 * Takes over the connection of a hijack endpoint (attach, exec start): answers 101 UPGRADED when the
 * client asked for an upgrade, else a bare 200 after which the socket is raw too (old clients).
 * Returns the socket and any bytes that arrived after the request headers.
 */
export function hijack(ctx: Ctx, contentType: string): { socket: net.Socket; head: Buffer } {
  if (ctx.upgrade) {
    const { socket, head } = ctx.upgrade;
    socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
    return { socket, head };
  }
  const socket = ctx.req.socket;
  // The HTTP parser must let go of the socket: from here on it is a raw byte pipe.
  socket.removeAllListeners('data');
  socket.removeAllListeners('timeout');
  socket.setTimeout(0);
  socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\n\r\n`);
  ctx.req.removeAllListeners('data');
  return { socket, head: Buffer.alloc(0) };
}

/** Docker's multiplexed stream header: [stream, 0, 0, 0, len32be]. */
export function muxFrame(stream: number, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(data.length, 4);
  return Buffer.concat([h, data]);
}
