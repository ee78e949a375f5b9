// Registry authentication (distribution docs/spec/auth/token.md): parses WWW-Authenticate challenges,
// fetches bearer tokens from the realm (with basic credentials when we have them, anonymous otherwise)
// and caches them per host and scope. Never logs or returns credentials in error messages.
import type { Dispatcher } from 'undici';
import { undici } from './undici';
import { RuntimeError } from '../../../errors/index';

export type Credentials = { username: string; password: string } | { identitytoken: string; username?: string };

export type Challenge = { scheme: string; params: Record<string, string> };

/** Parses one or more challenges from a WWW-Authenticate header (RFC 7235 auth-param syntax). */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  const re = /([A-Za-z][A-Za-z0-9_-]*)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*)))?\s*,?\s*/gy;
  let current: Challenge | undefined;
  re.lastIndex = 0;
  const s = header.trim();
  while (re.lastIndex < s.length) {
    const start = re.lastIndex;
    const m = re.exec(s);
    if (!m || re.lastIndex === start) break;
    const [, key, quoted, bare] = m;
    if (quoted === undefined && bare === undefined) {
      current = { scheme: key!.toLowerCase(), params: {} };
      out.push(current);
    } else if (current) {
      current.params[key!.toLowerCase()] = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : bare!;
    }
  }
  return out;
}

function basicHeader(c: Credentials): string | undefined {
  if ('password' in c) return 'Basic ' + Buffer.from(`${c.username}:${c.password}`).toString('base64');
  return undefined;
}

type CachedToken = { header: string; expires: number };

/**
 * Produces Authorization headers for a registry host. The first request goes out bare; on 401 the
 * caller hands the challenge to onChallenge, then retries with header().
 */
export class Authorizer {
  private readonly challenges = new Map<string, Challenge>();
  private readonly tokens = new Map<string, CachedToken>();

  constructor(
    private readonly dispatcher: () => Dispatcher,
    private readonly credentialsFor: (host: string) => Promise<Credentials | undefined>,
  ) {}

  /** The Authorization header for host and scope, if one is known or obtainable without a round trip. */
  async header(host: string, scope: string): Promise<string | undefined> {
    const ch = this.challenges.get(host);
    if (!ch) return undefined;
    if (ch.scheme === 'basic') {
      const c = await this.credentialsFor(host);
      return c ? basicHeader(c) : undefined;
    }
    const cached = this.tokens.get(`${host} ${scope}`);
    if (cached && cached.expires > Date.now()) return cached.header;
    return this.fetchToken(host, ch, scope);
  }

  /**
   * Records a 401 challenge; returns false when it is not one we can answer (so retrying is
   * pointless): no usable scheme, or basic credentials that were sent already and refused. A
   * request that went out bare while a concurrent one learnt the challenge retries.
   */
  onChallenge(host: string, wwwAuthenticate: string | undefined, scope: string, sentAuth = true): boolean {
    if (!wwwAuthenticate) return false;
    const chs = parseChallenges(wwwAuthenticate);
    const ch = chs.find((c) => c.scheme === 'bearer') ?? chs.find((c) => c.scheme === 'basic');
    if (!ch) return false;
    const prev = this.challenges.get(host);
    this.challenges.set(host, ch);
    this.tokens.delete(`${host} ${scope}`);
    // A second identical basic challenge means our credentials were refused.
    return !(sentAuth && prev && prev.scheme === 'basic' && ch.scheme === 'basic');
  }

  /** Remembers a challenge from a ping so the first real request already carries a token. */
  hasChallenge(host: string): boolean {
    return this.challenges.has(host);
  }

  private async fetchToken(host: string, ch: Challenge, scope: string): Promise<string> {
    const realm = ch.params.realm;
    if (!realm) throw new RuntimeError('PermissionDenied', `${host}: bearer challenge without realm`);
    const url = new URL(realm);
    if (ch.params.service) url.searchParams.set('service', ch.params.service);
    const scopes = (scope || ch.params.scope || '').split(' ').filter((x) => x !== '');
    for (const s of scopes) url.searchParams.append('scope', s);
    const headers: Record<string, string> = { 'user-agent': 'dock' };
    const creds = await this.credentialsFor(host);
    if (creds) {
      const b = basicHeader(creds);
      if (b) headers.authorization = b;
      else if ('identitytoken' in creds) url.searchParams.set('refresh_token', creds.identitytoken);
    }
    if (creds && 'password' in creds) url.searchParams.set('account', creds.username);
    const res = await undici().request(url, { method: 'GET', headers, dispatcher: this.dispatcher() });
    const text = await res.body.text();
    if (res.statusCode === 401 || res.statusCode === 403) {
      throw new RuntimeError('PermissionDenied', `get token from ${url.origin}${url.pathname}: ${res.statusCode === 401 ? 'unauthorized: incorrect username or password' : 'denied'}`);
    }
    if (res.statusCode !== 200) throw new RuntimeError('Unavailable', `get token from ${url.origin}${url.pathname}: status ${res.statusCode}`);
    let body: { token?: string; access_token?: string; expires_in?: number };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new RuntimeError('Unavailable', `get token from ${url.origin}${url.pathname}: malformed response`);
    }
    const token = body.token ?? body.access_token;
    if (!token) throw new RuntimeError('Unavailable', `get token from ${url.origin}${url.pathname}: no token in response`);
    // The spec's default lifetime is 60 s; refresh a little early.
    const ttl = Math.max(10, (body.expires_in ?? 60) - 5) * 1000;
    const header = `Bearer ${token}`;
    this.tokens.set(`${host} ${scope}`, { header, expires: Date.now() + ttl });
    return header;
  }
}
