// The Engine API client every dock client uses (the dock CLI, dock compose): HTTP/1.1 over a unix
// socket or TLS TCP, version negotiation by HEAD /_ping (as the docker CLI does), JSON calls, JSON-
// message streams, raw/multiplexed streams and hijacked (101 Upgrade) connections. It knows the
// transport and the conventions, not the individual endpoints.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type * as https from 'node:https';
import type * as net from 'node:net';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { RuntimeError, type ErrorKind } from '../../errors/index';

// https (and tls, crypto) is loaded only for a tcp:// engine with TLS: a CLI call on the unix socket
// never pays for it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const httpsModule = (): typeof https => require('node:https') as typeof https;

/** The API version this client speaks at most (the server may lower it). */
export const CLIENT_API_VERSION = '1.45';

export type TlsFiles = { ca?: string; cert?: string; key?: string; verify?: boolean };

export type ClientOptions = {
  /** unix:///path, tcp://host:port, or a bare socket path. */
  host: string;
  /** For tcp:// hosts: client certificate, key and CA (DOCKER_CERT_PATH layout). */
  tls?: TlsFiles;
  /** Pin the API version instead of negotiating (DOCKER_API_VERSION). */
  apiVersion?: string;
  userAgent?: string;
};

export type QueryValue = string | number | boolean | undefined | null | string[] | Record<string, unknown>;
export type Query = Record<string, QueryValue>;

export type RequestOptions = {
  query?: Query;
  /** A JSON-able value, raw bytes or a stream (sent chunked). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Set when body is a Buffer/stream; JSON bodies get application/json. */
  contentType?: string;
  signal?: AbortSignal;
};

/** An error response of the engine, with Docker's status and message. */
export class ApiError extends RuntimeError {
  constructor(readonly status: number, message: string) {
    super(kindOfStatus(status), message);
    this.name = 'ApiError';
  }
}

function kindOfStatus(s: number): ErrorKind {
  if (s === 404) return 'NotFound';
  if (s === 409) return 'AlreadyExists';
  if (s === 400) return 'InvalidArgument';
  if (s === 401 || s === 403) return 'PermissionDenied';
  if (s === 501) return 'NotImplemented';
  if (s === 503) return 'Unavailable';
  return 'Internal';
}

/** Encodes Docker's query conventions: booleans as 1/0, objects as JSON, arrays repeated. */
export function encodeQuery(q: Query | undefined): string {
  if (!q) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null) continue;
    const add = (s: string) => parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(s)}`);
    if (Array.isArray(v)) v.forEach((x) => add(String(x)));
    else if (typeof v === 'boolean') add(v ? '1' : '0');
    else if (typeof v === 'object') add(JSON.stringify(v));
    else add(String(v));
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

export type Endpoint = { kind: 'unix'; socketPath: string } | { kind: 'tcp'; host: string; port: number; tls: boolean };

/** Parses -H/DOCKER_HOST values as the docker CLI accepts them. */
export function parseHost(h: string): Endpoint {
  if (h.startsWith('unix://')) return { kind: 'unix', socketPath: h.slice('unix://'.length) };
  if (h.startsWith('/')) return { kind: 'unix', socketPath: h };
  const m = /^(tcp|https?):\/\/\[?([^\]/]*?)\]?(?::(\d+))?\/?$/.exec(h);
  if (!m) throw new RuntimeError('InvalidArgument', `invalid host ${JSON.stringify(h)}: want unix:///path or tcp://host:port`);
  const tls = m[1] === 'https' || m[1] === 'tcp';
  return { kind: 'tcp', host: m[2] || '127.0.0.1', port: Number(m[3] ?? (tls ? 2376 : 2375)), tls };
}

/** What the engine told about itself in its /_ping headers. */
export type ServerInfo = { apiVersion?: string; osType: string; experimental: boolean; builderVersion?: string };

export class EngineClient {
  readonly endpoint: Endpoint;
  private version: string | undefined;
  private server: ServerInfo | undefined;
  private negotiating: Promise<string> | undefined;
  private readonly agent: http.Agent;
  private readonly tlsOpts: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean };

  constructor(private readonly opts: ClientOptions) {
    this.endpoint = parseHost(opts.host);
    this.version = opts.apiVersion;
    this.tlsOpts = {};
    if (this.endpoint.kind === 'tcp' && opts.tls) {
      const rd = (f?: string) => (f ? fs.readFileSync(f) : undefined);
      this.tlsOpts = { ca: rd(opts.tls.ca), cert: rd(opts.tls.cert), key: rd(opts.tls.key), rejectUnauthorized: opts.tls.verify !== false };
    }
    const useTls = this.endpoint.kind === 'tcp' && this.endpoint.tls && !!opts.tls;
    this.agent = useTls ? new (httpsModule().Agent)({ keepAlive: true, ...this.tlsOpts }) : new http.Agent({ keepAlive: true });
  }

  /** The negotiated API version (min of ours and the server's Api-Version header). */
  async apiVersion(): Promise<string> {
    if (this.version) return this.version;
    this.negotiating ??= this.ping().then((h) => {
      const server = h['api-version'];
      this.server = {
        ...(typeof server === 'string' ? { apiVersion: server } : {}),
        osType: typeof h['ostype'] === 'string' ? h['ostype'] : '',
        experimental: h['docker-experimental'] === 'true',
        ...(typeof h['builder-version'] === 'string' ? { builderVersion: h['builder-version'] } : {}),
      };
      const v = typeof server === 'string' && compareVersions(server, CLIENT_API_VERSION) < 0 ? server : CLIENT_API_VERSION;
      this.version = v;
      return v;
    });
    return this.negotiating;
  }

  /** The engine's /_ping facts (pings once if needed). */
  async serverInfo(): Promise<ServerInfo> {
    if (!this.server) {
      if (this.version) {
        const h = await this.ping();
        this.server = { osType: typeof h['ostype'] === 'string' ? h['ostype'] : '', experimental: h['docker-experimental'] === 'true' };
      } else await this.apiVersion();
    }
    return this.server!;
  }

  /** HEAD /_ping (falling back to GET); resolves with the reply headers. */
  async ping(): Promise<http.IncomingHttpHeaders> {
    let res = await this.raw('HEAD', '/_ping', {});
    res.resume();
    if (res.statusCode !== 200 && res.statusCode !== 500) {
      res = await this.raw('GET', '/_ping', {});
      res.resume();
    }
    return res.headers;
  }

  private baseOptions(method: string, p: string, headers: Record<string, string>): http.RequestOptions {
    const common: http.RequestOptions = { method, path: p, agent: this.agent, headers: { 'User-Agent': this.opts.userAgent ?? 'dock-client', ...headers } };
    // servername '' on the socket: http.Agent otherwise derives a TLS server name from the Host
    // header for every request, and its first net.isIP() compiles the IPv6 regexp (tens of ms of a
    // CLI call).
    if (this.endpoint.kind === 'unix') return { ...common, socketPath: this.endpoint.socketPath, servername: '', headers: { Host: 'api.moby.localhost', ...common.headers } } as http.RequestOptions;
    return { ...common, host: this.endpoint.host, port: this.endpoint.port, ...this.tlsOpts };
  }

  private transport(): typeof http | typeof https {
    return this.endpoint.kind === 'tcp' && this.endpoint.tls && this.opts.tls ? httpsModule() : http;
  }

  /** One request with an unversioned path; resolves with the response, whatever its status. */
  raw(method: string, p: string, o: RequestOptions): Promise<http.IncomingMessage> {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    let payload: Buffer | Readable | undefined;
    if (o.body !== undefined) {
      if (Buffer.isBuffer(o.body)) payload = o.body;
      else if (typeof (o.body as Readable).pipe === 'function') payload = o.body as Readable;
      else {
        // Go's client encodes with json.Encoder, which ends the body with a newline.
        payload = Buffer.from(JSON.stringify(o.body) + '\n');
        headers['Content-Type'] ??= 'application/json';
      }
      if (o.contentType) headers['Content-Type'] = o.contentType;
    }
    if (Buffer.isBuffer(payload)) headers['Content-Length'] = String(payload.length);
    else if (payload) headers['Transfer-Encoding'] = 'chunked';
    else if (method === 'POST' || method === 'PUT') headers['Content-Length'] = '0';
    return new Promise((resolve, reject) => {
      const req = this.transport().request({ ...this.baseOptions(method, p + encodeQuery(o.query), headers), signal: o.signal }, resolve);
      req.on('error', (e) => reject(this.connectError(e)));
      if (Buffer.isBuffer(payload)) req.end(payload);
      else if (payload) {
        payload.on('error', (e) => req.destroy(e));
        payload.pipe(req);
      } else req.end();
    });
  }

  private connectError(e: Error): Error {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') {
      const where = this.endpoint.kind === 'unix' ? `unix://${this.endpoint.socketPath}` : `tcp://${this.endpoint.host}:${this.endpoint.port}`;
      return new RuntimeError('Unavailable', `Cannot connect to the Docker daemon at ${where}. Is the docker daemon running?`, { cause: e });
    }
    return e;
  }

  /** A versioned request (/vX.Y prefix); non-2xx replies become ApiError. */
  async request(method: string, p: string, o: RequestOptions = {}): Promise<http.IncomingMessage> {
    const v = await this.apiVersion();
    const res = await this.raw(method, `/v${v}${p}`, o);
    if ((res.statusCode ?? 500) >= 400) throw await errorOf(res);
    return res;
  }

  /** A request whose reply is JSON (or empty: undefined). */
  async json<T = unknown>(method: string, p: string, o: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, p, o);
    const body = await readAll(res);
    if (body.length === 0) return undefined as T;
    return JSON.parse(body.toString()) as T;
  }

  /** A JSON-message stream (pull, push, build, load, events): yields each object as it arrives. */
  async *jsonStream<T = Record<string, unknown>>(method: string, p: string, o: RequestOptions = {}): AsyncGenerator<T> {
    const res = await this.request(method, p, o);
    yield* decodeJsonStream<T>(res);
  }

  /**
   * A hijacked connection (attach, exec start): sends Upgrade: tcp and resolves with the raw socket
   * after the 101 reply; any bytes that arrived with the reply are pushed back onto the socket.
   */
  async hijack(method: string, p: string, o: RequestOptions = {}): Promise<net.Socket> {
    const v = await this.apiVersion();
    const headers: Record<string, string> = { Connection: 'Upgrade', Upgrade: 'tcp', ...(o.headers ?? {}) };
    let payload: Buffer | undefined;
    if (o.body !== undefined) {
      payload = Buffer.from(JSON.stringify(o.body) + '\n');
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(payload.length);
    } else {
      headers['Content-Type'] = 'text/plain';
      headers['Content-Length'] = '0';
    }
    const opts = this.baseOptions(method, `/v${v}${p}${encodeQuery(o.query)}`, headers);
    delete opts.agent;
    return new Promise((resolve, reject) => {
      const req = this.transport().request({ ...opts, agent: false });
      req.on('upgrade', (_res, socket, head) => {
        if (head.length) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', (res) => {
        void errorOf(res).then(reject, reject);
      });
      req.on('error', (e) => reject(this.connectError(e)));
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Reads a whole response body. */
export function readAll(res: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

/** Turns an error reply into an ApiError with the engine's message ({"message"} or plain text). */
export async function errorOf(res: http.IncomingMessage): Promise<ApiError> {
  const body = (await readAll(res)).toString();
  let msg = body.trim();
  try {
    const j = JSON.parse(body) as { message?: string };
    if (typeof j.message === 'string') msg = j.message;
  } catch {
    /* plain text */
  }
  if (!msg) msg = `request returned ${res.statusCode} ${res.statusMessage ?? ''}`.trim();
  return new ApiError(res.statusCode ?? 500, msg);
}

/** Splits a JSON-message stream into objects, whatever the chunk boundaries. */
export async function* decodeJsonStream<T>(src: AsyncIterable<Buffer | string>): AsyncGenerator<T> {
  for await (const text of decodeJsonTexts(src)) yield JSON.parse(text) as T;
}

/** Splits a stream of JSON values into their texts (for callers that parse them themselves). */
export async function* decodeJsonTexts(src: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  let buf = '';
  for await (const chunk of src) {
    buf += chunk.toString();
    for (;;) {
      const end = jsonEnd(buf);
      if (end < 0) break;
      const text = buf.slice(0, end).trim();
      buf = buf.slice(end);
      if (text) yield text;
    }
  }
  if (buf.trim()) yield buf.trim();
}

/** Index just past the first complete top-level JSON value in s, or -1. */
function jsonEnd(s: string): number {
  let depth = 0;
  let inStr = false;
  let started = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === '{' || c === '[') {
      depth++;
      started = true;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0 && started) return i + 1;
    }
  }
  return -1;
}

/** Compares dotted versions numerically ("1.41" < "1.45"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/** Default client host: -H, else DOCKER_HOST, else dock's default socket. */
export function defaultHost(flag?: string): string {
  return flag || process.env.DOCKER_HOST || 'unix:///run/dock/dock.sock';
}

/** DOCKER_CERT_PATH-style TLS files under dir. */
export function tlsFilesIn(dir: string): TlsFiles {
  return { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') };
}

/** Docker's multiplexed stream: 8-byte headers ([stream,0,0,0,len32be]) then payloads. */
export class Demuxer {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (stream: number, data: Buffer) => void) {}
  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + len) break;
      this.onFrame(this.buf[0]!, this.buf.subarray(8, 8 + len));
      this.buf = this.buf.subarray(8 + len);
    }
  }
}
