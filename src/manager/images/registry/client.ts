// HTTP client for the OCI distribution spec (v1.1) over undici: ping, manifests, blobs (with Range
// resume), uploads (monolithic, chunked, cross-repository mount), retrying once with credentials on
// 401. Owns no content store and no progress output: callers stream bodies where they want them.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { undici } from './undici';
import { RuntimeError, type ErrorKind } from '../../../errors/index';
import { MANIFEST_ACCEPT } from '../manifest';
import { Authorizer, type Credentials } from './auth';

export type RegistryOptions = {
  /** Hosts ("host:port") spoken to over plain http, like dockerd's --insecure-registry. */
  insecureRegistries?: string[];
  /** Looks up credentials for a host (config.json); undefined for anonymous. */
  credentials?: (host: string) => Promise<Credentials | undefined>;
  /** Parallel connections per origin. */
  connections?: number;
};

export type ManifestResponse = { data: Buffer; mediaType: string; digest: string };

/** Distribution's error body: {"errors":[{"code":"MANIFEST_UNKNOWN","message":"…"}]} */
function registryMessage(text: string): string | undefined {
  try {
    const b = JSON.parse(text) as { errors?: { code?: string; message?: string; detail?: unknown }[] };
    const e = b.errors?.[0];
    if (e) return `${(e.code ?? '').toLowerCase().replace(/_/g, ' ')}: ${e.message ?? ''}`.trim();
  } catch {
    // not JSON
  }
  return undefined;
}

function kindOfStatus(status: number): ErrorKind {
  if (status === 401 || status === 403) return 'PermissionDenied';
  if (status === 404) return 'NotFound';
  if (status === 400 || status === 416) return 'InvalidArgument';
  if (status === 429 || status >= 500) return 'Unavailable';
  return 'Internal';
}

/** True for hosts docker talks to over plain http without being told (loopback). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

export class RegistryClient {
  private agent: Dispatcher | undefined;
  private readonly auth: Authorizer;
  private readonly insecure: Set<string>;

  constructor(private readonly opts: RegistryOptions = {}) {
    this.insecure = new Set(opts.insecureRegistries ?? []);
    this.auth = new Authorizer(() => this.dispatcher, opts.credentials ?? (async () => undefined));
  }

  /** Connection pool per origin, with redirects followed (blob GETs often redirect to storage). */
  get dispatcher(): Dispatcher {
    const u = undici();
    this.agent ??= new u.Agent({ connections: this.opts.connections ?? 8, keepAliveTimeout: 10_000 }).compose(u.interceptors.redirect({ maxRedirections: 5 }));
    return this.agent;
  }

  async close(): Promise<void> {
    await this.agent?.close();
  }

  /** Base URL of a registry: docker.io is registry-1.docker.io; loopback and --insecure-registry use http. */
  baseUrl(host: string): string {
    if (host === 'docker.io') return 'https://registry-1.docker.io';
    return `${isLoopbackHost(host) || this.insecure.has(host) ? 'http' : 'https'}://${host}`;
  }

  /**
   * One request with auth: sends the known Authorization header, and on 401 answers the challenge
   * and retries once. Non-2xx statuses other than those in `ok` become RuntimeErrors.
   */
  async call(
    host: string,
    scope: string,
    method: Dispatcher.HttpMethod,
    pathOrUrl: string,
    opts: { headers?: Record<string, string>; body?: Dispatcher.DispatchOptions['body']; ok?: number[]; what: string; retryBody?: () => Dispatcher.DispatchOptions['body'] },
  ): Promise<Dispatcher.ResponseData> {
    const url = pathOrUrl.startsWith('http://') || pathOrUrl.startsWith('https://') ? pathOrUrl : `${this.baseUrl(host)}${pathOrUrl}`;
    const ok = opts.ok ?? [200];
    let body = opts.body;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { 'user-agent': 'dock', ...(opts.headers ?? {}) };
      const authz = await this.auth.header(host, scope);
      if (authz) headers.authorization = authz;
      let res: Dispatcher.ResponseData;
      try {
        res = await undici().request(url, { method, headers, body: body ?? null, dispatcher: this.dispatcher });
      } catch (e) {
        throw new RuntimeError('Unavailable', `${opts.what}: ${(e as Error).message}`, { cause: e });
      }
      if (res.statusCode === 401 && attempt === 0) {
        const wa = res.headers['www-authenticate'];
        await res.body.dump();
        if (this.auth.onChallenge(host, Array.isArray(wa) ? wa[0] : wa, scope, !!authz)) {
          if (opts.body !== undefined && opts.body !== null && typeof opts.body !== 'string' && !Buffer.isBuffer(opts.body)) {
            if (!opts.retryBody) throw new RuntimeError('PermissionDenied', `${opts.what}: unauthorized`);
            body = opts.retryBody();
          }
          continue;
        }
        throw new RuntimeError('PermissionDenied', `${opts.what}: unauthorized: authentication required`);
      }
      if (!ok.includes(res.statusCode)) {
        const text = method === 'HEAD' ? '' : await res.body.text().catch(() => '');
        if (method === 'HEAD') await res.body.dump();
        const msg = registryMessage(text) ?? (res.statusCode === 401 ? (authz ? 'unauthorized: authentication required' : 'no basic auth credentials') : `unexpected status ${res.statusCode}`);
        const err = new RuntimeError(kindOfStatus(res.statusCode), `${opts.what}: ${msg}`);
        (err as RuntimeError & { status?: number }).status = res.statusCode;
        throw err;
      }
      return res;
    }
  }

  /** GET /v2/: checks the registry speaks the v2 API and primes the auth challenge. */
  async ping(host: string): Promise<void> {
    const res = await this.call(host, '', 'GET', '/v2/', { ok: [200], what: `ping ${host}` });
    await res.body.dump();
  }

  /** Checks credentials the way `docker login` does: /v2/ must answer 200 with them. */
  async login(host: string): Promise<void> {
    await this.ping(host);
  }

  private static scope(repo: string, push: boolean): string {
    return `repository:${repo}:${push ? 'pull,push' : 'pull'}`;
  }

  /**
   * GET a manifest by tag or digest, always with the full Accept list. The body's digest is checked
   * against a digest reference and against Docker-Content-Digest.
   */
  async getManifest(host: string, repo: string, reference: string): Promise<ManifestResponse> {
    const what = `get manifest ${host}/${repo}:${reference}`;
    const res = await this.call(host, RegistryClient.scope(repo, false), 'GET', `/v2/${repo}/manifests/${reference}`, {
      headers: { accept: MANIFEST_ACCEPT.join(', ') },
      what,
    });
    const data = Buffer.from(await res.body.arrayBuffer());
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw new RuntimeError('InvalidArgument', `${what}: digest mismatch: got ${digest}`);
    }
    const header = res.headers['docker-content-digest'];
    const hd = Array.isArray(header) ? header[0] : header;
    if (hd && hd.startsWith('sha256:') && hd !== digest) throw new RuntimeError('InvalidArgument', `${what}: digest mismatch: registry says ${hd}, body is ${digest}`);
    const ct = res.headers['content-type'];
    return { data, mediaType: (Array.isArray(ct) ? ct[0] : ct) ?? '', digest };
  }

  /** GET /v2/<repo>/tags/list: every tag of a repository (`docker pull --all-tags`). */
  async listTags(host: string, repo: string): Promise<string[]> {
    const res = await this.call(host, RegistryClient.scope(repo, false), 'GET', `/v2/${repo}/tags/list`, { what: `list tags of ${host}/${repo}` });
    const body = (await res.body.json()) as { tags?: string[] | null };
    return body.tags ?? [];
  }

  /** HEAD a manifest; undefined when the registry does not have it. */
  async headManifest(host: string, repo: string, reference: string, push = false): Promise<string | undefined> {
    try {
      const res = await this.call(host, RegistryClient.scope(repo, push), 'HEAD', `/v2/${repo}/manifests/${reference}`, {
        headers: { accept: MANIFEST_ACCEPT.join(', ') },
        what: `head manifest ${host}/${repo}:${reference}`,
      });
      await res.body.dump();
      const h = res.headers['docker-content-digest'];
      return (Array.isArray(h) ? h[0] : h) ?? reference;
    } catch (e) {
      if (e instanceof RuntimeError && e.kind === 'NotFound') return undefined;
      throw e;
    }
  }

  /**
   * Streams a blob from `offset`. `resumed` is false when the registry ignored the Range and sent
   * the whole blob (the caller must then restart its hash).
   */
  async getBlob(host: string, repo: string, digest: string, offset = 0): Promise<{ body: Readable; resumed: boolean; length?: number }> {
    const headers: Record<string, string> = {};
    if (offset > 0) headers.range = `bytes=${offset}-`;
    const res = await this.call(host, RegistryClient.scope(repo, false), 'GET', `/v2/${repo}/blobs/${digest}`, {
      headers,
      ok: [200, 206],
      what: `get blob ${host}/${repo}@${digest}`,
    });
    const cl = res.headers['content-length'];
    const length = cl === undefined ? undefined : Number(Array.isArray(cl) ? cl[0] : cl);
    return { body: res.body, resumed: offset > 0 && res.statusCode === 206, ...(length !== undefined ? { length } : {}) };
  }

  /** HEAD a blob: true when the repository already has it. */
  async hasBlob(host: string, repo: string, digest: string, push = true): Promise<boolean> {
    try {
      const res = await this.call(host, RegistryClient.scope(repo, push), 'HEAD', `/v2/${repo}/blobs/${digest}`, { what: `head blob ${digest}` });
      await res.body.dump();
      return true;
    } catch (e) {
      if (e instanceof RuntimeError && e.kind === 'NotFound') return false;
      throw e;
    }
  }

  private absolute(host: string, location: string): string {
    return new URL(location, this.baseUrl(host)).toString();
  }

  /**
   * Starts an upload, or mounts `digest` from repository `from` on the same registry. Returns
   * "mounted" when the registry linked the blob (201), else the upload location.
   */
  async startUpload(host: string, repo: string, mount?: { digest: string; from: string }): Promise<{ mounted: true } | { mounted: false; location: string }> {
    let p = `/v2/${repo}/blobs/uploads/`;
    let scope = RegistryClient.scope(repo, true);
    if (mount) {
      p += `?mount=${encodeURIComponent(mount.digest)}&from=${encodeURIComponent(mount.from)}`;
      scope = `${scope} repository:${mount.from}:pull`;
    }
    const res = await this.call(host, scope, 'POST', p, { ok: [201, 202], what: `start upload to ${host}/${repo}`, headers: { 'content-length': '0' } });
    await res.body.dump();
    if (res.statusCode === 201 && mount) return { mounted: true };
    const loc = res.headers.location;
    const l = Array.isArray(loc) ? loc[0] : loc;
    if (!l) throw new RuntimeError('Unavailable', `start upload to ${host}/${repo}: no Location header`);
    return { mounted: false, location: this.absolute(host, l) };
  }

  private static withDigest(location: string, digest: string): string {
    const u = new URL(location);
    u.searchParams.set('digest', digest);
    return u.toString();
  }

  /** Monolithic upload: one PUT with the whole blob. `open` may be called twice (auth retry). */
  async putBlob(host: string, repo: string, location: string, digest: string, size: number, open: () => Readable): Promise<void> {
    const res = await this.call(host, RegistryClient.scope(repo, true), 'PUT', RegistryClient.withDigest(location, digest), {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body: open(),
      retryBody: open,
      ok: [201],
      what: `upload blob ${digest}`,
    });
    await res.body.dump();
  }

  /** Chunked upload: PATCH each chunk with Content-Range, then an empty PUT with the digest. */
  async putBlobChunked(host: string, repo: string, location: string, digest: string, chunks: AsyncIterable<Buffer>): Promise<void> {
    const scope = RegistryClient.scope(repo, true);
    let loc = location;
    let offset = 0;
    for await (const chunk of chunks) {
      if (chunk.length === 0) continue;
      const res = await this.call(host, scope, 'PATCH', loc, {
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(chunk.length), 'content-range': `${offset}-${offset + chunk.length - 1}` },
        body: chunk,
        ok: [202],
        what: `upload chunk of ${digest} at ${offset}`,
      });
      await res.body.dump();
      offset += chunk.length;
      const l = res.headers.location;
      const next = Array.isArray(l) ? l[0] : l;
      if (next) loc = this.absolute(host, next);
    }
    const res = await this.call(host, scope, 'PUT', RegistryClient.withDigest(loc, digest), { headers: { 'content-length': '0' }, ok: [201], what: `finish upload of ${digest}` });
    await res.body.dump();
  }

  /** PUT a manifest under a tag or digest; returns the digest the registry reports. */
  async putManifest(host: string, repo: string, reference: string, data: Buffer, mediaType: string): Promise<string> {
    const res = await this.call(host, RegistryClient.scope(repo, true), 'PUT', `/v2/${repo}/manifests/${reference}`, {
      headers: { 'content-type': mediaType },
      body: data,
      ok: [201],
      what: `put manifest ${host}/${repo}:${reference}`,
    });
    await res.body.dump();
    const h = res.headers['docker-content-digest'];
    return (Array.isArray(h) ? h[0] : h) ?? `sha256:${createHash('sha256').update(data).digest('hex')}`;
  }
}
