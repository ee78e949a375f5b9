// Registry credentials in Docker's config.json format ({"auths": {"<host>": {"auth": base64(user:pass)}}}),
// at $DOCKER_CONFIG/config.json or ~/.docker/config.json. Other keys of the file are preserved.
// Credential helpers (credsStore) are not run. Never logs or prints a secret.
import * as fs from 'node:fs/promises';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { errors } from '../../../errors/index';
import type { Credentials } from './auth';

/** docker.io's credentials live under the v1 index URL, as the docker CLI writes them. */
export const DOCKER_IO_AUTH_KEY = 'https://index.docker.io/v1/';

export function defaultConfigPath(): string {
  const dir = process.env.DOCKER_CONFIG ?? path.join(homedir(), '.docker');
  return path.join(dir, 'config.json');
}

/** The config.json key for a registry host. */
export function authKey(host: string): string {
  return host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_IO_AUTH_KEY : host;
}

type AuthEntry = { auth?: string; username?: string; password?: string; identitytoken?: string };
type ConfigFile = { auths?: Record<string, AuthEntry>; [k: string]: unknown };

export class CredentialStore {
  constructor(readonly configPath: string = defaultConfigPath()) {}

  private async read(): Promise<ConfigFile> {
    try {
      return JSON.parse(await fs.readFile(this.configPath, 'utf8')) as ConfigFile;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw errors.invalid(`read ${this.configPath}: ${(e as Error).message}`);
    }
  }

  private async write(cfg: ConfigFile): Promise<void> {
    await fs.mkdir(path.dirname(this.configPath), { recursive: true, mode: 0o700 });
    const tmp = `${this.configPath}.${process.pid}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(cfg, null, '\t') + '\n', { mode: 0o600 });
    await fs.rename(tmp, this.configPath);
  }

  /** Credentials for host, matching keys with or without scheme and path as docker does. */
  async get(host: string): Promise<Credentials | undefined> {
    const auths = (await this.read()).auths ?? {};
    const want = authKey(host);
    const norm = (k: string) => k.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const entry = auths[want] ?? Object.entries(auths).find(([k]) => norm(k) === norm(want))?.[1];
    if (!entry) return undefined;
    if (entry.identitytoken) return { identitytoken: entry.identitytoken, ...(entry.username ? { username: entry.username } : {}) };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i === -1) throw errors.invalid(`${this.configPath}: malformed auth entry for ${want}`);
      return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
    }
    if (entry.username && entry.password) return { username: entry.username, password: entry.password };
    return undefined;
  }

  async set(host: string, username: string, password: string): Promise<void> {
    const cfg = await this.read();
    cfg.auths ??= {};
    cfg.auths[authKey(host)] = { auth: Buffer.from(`${username}:${password}`).toString('base64') };
    await this.write(cfg);
  }

  /** Removes host's entry; returns false when there was none. */
  async remove(host: string): Promise<boolean> {
    const cfg = await this.read();
    const key = authKey(host);
    if (!cfg.auths || !(key in cfg.auths)) return false;
    delete cfg.auths[key];
    await this.write(cfg);
    return true;
  }
}
