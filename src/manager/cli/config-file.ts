// The docker CLI's config file ($DOCKER_CONFIG/config.json, else ~/.docker/config.json): registry
// credentials (inline base64 "auth" or a docker-credential-* helper), default output formats and
// detach keys. Unknown keys survive a save; the file is written atomically with mode 0600.
import type * as ChildProcess from 'node:child_process';
import * as fs from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';

// child_process is loaded only when a credential helper runs, not by every CLI start.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const spawnSync: typeof ChildProcess.spawnSync = ((...a: Parameters<typeof ChildProcess.spawnSync>) => (require('node:child_process') as typeof ChildProcess).spawnSync(...a)) as typeof ChildProcess.spawnSync;

export type AuthConfig = {
  username?: string;
  password?: string;
  auth?: string;
  email?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
};

type RawConfig = {
  auths?: Record<string, AuthConfig>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  psFormat?: string;
  imagesFormat?: string;
  networksFormat?: string;
  volumesFormat?: string;
  statsFormat?: string;
  detachKeys?: string;
  [k: string]: unknown;
};

/** docker.io's credentials live under the v1 index URL, as the docker CLI writes them. */
export const INDEX_SERVER = 'https://index.docker.io/v1/';

export function configDir(flag?: string): string {
  return flag || process.env.DOCKER_CONFIG || path.join(homedir(), '.docker');
}

export class ConfigFile {
  private raw: RawConfig = {};
  readonly filename: string;

  constructor(dir: string) {
    this.filename = path.join(dir, 'config.json');
    let text: string | undefined;
    try {
      text = fs.readFileSync(this.filename, 'utf8');
    } catch {
      /* no file: defaults */
    }
    if (text !== undefined && text.trim()) {
      try {
        this.raw = JSON.parse(text) as RawConfig;
      } catch (e) {
        throw new Error(`loading config file: ${this.filename}: ${(e as Error).message}`);
      }
    }
  }

  get psFormat(): string | undefined {
    return this.raw.psFormat || undefined;
  }
  get imagesFormat(): string | undefined {
    return this.raw.imagesFormat || undefined;
  }
  get networksFormat(): string | undefined {
    return this.raw.networksFormat || undefined;
  }
  get volumesFormat(): string | undefined {
    return this.raw.volumesFormat || undefined;
  }
  get statsFormat(): string | undefined {
    return this.raw.statsFormat || undefined;
  }
  /** Any other top-level key (proxies, pruneFilters, ...). */
  value<T>(key: string): T | undefined {
    return this.raw[key] as T | undefined;
  }
  get detachKeys(): string {
    return this.raw.detachKeys ?? '';
  }

  private helperFor(server: string): string | undefined {
    return this.raw.credHelpers?.[server] ?? this.raw.credsStore;
  }

  /** Credentials for a registry key (INDEX_SERVER for docker.io, else the host). */
  getAuth(server: string): AuthConfig {
    const helper = this.helperFor(server);
    if (helper) {
      const r = spawnSync(`docker-credential-${helper}`, ['get'], { input: server, encoding: 'utf8' });
      if (r.status === 0) {
        const j = JSON.parse(r.stdout) as { Username: string; Secret: string; ServerURL: string };
        if (j.Username === '<token>') return { identitytoken: j.Secret, serveraddress: server };
        return { username: j.Username, password: j.Secret, serveraddress: server };
      }
      return {};
    }
    const auths = this.raw.auths ?? {};
    const norm = (k: string) => k.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const entry = auths[server] ?? Object.entries(auths).find(([k]) => norm(k) === norm(server))?.[1];
    if (!entry) return {};
    const out: AuthConfig = { ...entry, serveraddress: server };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i >= 0) {
        out.username = decoded.slice(0, i);
        out.password = decoded.slice(i + 1);
      }
      delete out.auth;
    }
    return out;
  }

  /** All stored credentials (for build's X-Registry-Config). */
  allAuths(): Record<string, AuthConfig> {
    const out: Record<string, AuthConfig> = {};
    for (const k of Object.keys(this.raw.auths ?? {})) out[k] = this.getAuth(k);
    return out;
  }

  /** Stores credentials; false when they were already stored as they are (the file is not rewritten). */
  storeAuth(server: string, a: AuthConfig): boolean {
    const helper = this.helperFor(server);
    if (helper) {
      const secret = a.identitytoken || a.password || '';
      const user = a.identitytoken ? '<token>' : (a.username ?? '');
      const r = spawnSync(`docker-credential-${helper}`, ['store'], { input: JSON.stringify({ ServerURL: server, Username: user, Secret: secret }), encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`error storing credentials - err: exit status ${r.status}, out: \`${(r.stdout || r.stderr || '').trim()}\``);
      this.raw.auths ??= {};
      this.raw.auths[server] = {};
      this.save();
      return true;
    }
    this.raw.auths ??= {};
    const entry: AuthConfig = {};
    if (a.username !== undefined || a.password !== undefined) entry.auth = Buffer.from(`${a.username ?? ''}:${a.password ?? ''}`).toString('base64');
    if (a.identitytoken) entry.identitytoken = a.identitytoken;
    const old = this.raw.auths[server];
    if (old && JSON.stringify(old) === JSON.stringify(entry)) return false;
    this.raw.auths[server] = entry;
    this.save();
    return true;
  }

  /** Whether credentials go to the plain file (not a credential helper). */
  isFileStore(server: string): boolean {
    return !this.helperFor(server);
  }

  /** Removes a server's credentials; false when none were stored. */
  eraseAuth(server: string): boolean {
    const had = !!this.raw.auths && server in this.raw.auths;
    const helper = this.helperFor(server);
    if (helper) spawnSync(`docker-credential-${helper}`, ['erase'], { input: server });
    if (!had) return false;
    delete this.raw.auths![server];
    this.save();
    return true;
  }

  hasAuth(server: string): boolean {
    return !!this.raw.auths && server in this.raw.auths;
  }

  save(): void {
    const dir = path.dirname(this.filename);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = path.join(dir, `.config.json.${process.pid}.tmp`);
    const body: RawConfig = { auths: this.raw.auths ?? {}, ...this.raw };
    fs.writeFileSync(tmp, JSON.stringify(body, null, '\t'), { mode: 0o600 });
    fs.renameSync(tmp, this.filename);
  }
}

/** base64url JSON of an AuthConfig, as X-Registry-Auth carries it ("e30=" for none). */
export function encodeAuth(a: AuthConfig | undefined): string {
  const body: AuthConfig = {};
  if (a) {
    for (const k of ['username', 'password', 'auth', 'email', 'serveraddress', 'identitytoken', 'registrytoken'] as const) if (a[k]) body[k] = a[k];
  }
  // Go's base64.URLEncoding: the URL alphabet, with padding.
  return Buffer.from(JSON.stringify(body)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}
