// `dock login`/`logout`: checks credentials against a registry's /v2/ (through its token service when
// it has one) before storing them in config.json; logout forgets them. Never logs the password.
import { RegistryClient, type RegistryOptions } from './client';
import type { CredentialStore } from './credentials';

/** Normalizes what the user typed as SERVER ("https://host/", "index.docker.io") to a registry host. */
export function loginHost(server: string | undefined): string {
  if (!server) return 'docker.io';
  const h = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return h === 'index.docker.io' || h === 'registry-1.docker.io' ? 'docker.io' : h;
}

export async function login(store: CredentialStore, host: string, username: string, password: string, opts: Omit<RegistryOptions, 'credentials'> = {}): Promise<void> {
  const client = new RegistryClient({ ...opts, credentials: async () => ({ username, password }) });
  try {
    await client.login(host);
  } finally {
    await client.close();
  }
  await store.set(host, username, password);
}

export async function logout(store: CredentialStore, host: string): Promise<boolean> {
  return store.remove(host);
}
