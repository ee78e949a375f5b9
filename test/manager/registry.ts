// Test fixture: a real CNCF distribution registry (Debian's docker-registry) on 127.0.0.1 with a free
// port and private config and storage dirs, stopped by pid. Optional token auth (see token-server.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

/** Why registry tests cannot run here, or undefined when they can. */
export function registrySkipReason(): string | undefined {
  if (!existsSync(REGISTRY_BIN)) return 'docker-registry not installed (apt-get install docker-registry)';
  return undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

export type RegistryAuth =
  | { token: { realm: string; service: string; issuer: string; rootCertBundle: string } }
  | { htpasswd: string };

export type Registry = {
  /** "127.0.0.1:<port>" */
  host: string;
  dir: string;
  stop(): Promise<void>;
};

export async function startRegistry(opts: { auth?: RegistryAuth; bindHost?: string } = {}): Promise<Registry> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dock-registry-'));
  const port = await freePort();
  const host = `${opts.bindHost ?? '127.0.0.1'}:${port}`;
  let auth = '';
  if (opts.auth && 'token' in opts.auth) {
    const t = opts.auth.token;
    auth = `auth:\n  token:\n    realm: ${t.realm}\n    service: ${t.service}\n    issuer: ${t.issuer}\n    rootcertbundle: ${t.rootCertBundle}\n`;
  } else if (opts.auth && 'htpasswd' in opts.auth) {
    auth = `auth:\n  htpasswd:\n    realm: test\n    path: ${opts.auth.htpasswd}\n`;
  }
  const config = `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${path.join(dir, 'storage')}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: ${host}
${auth}`;
  await writeFile(path.join(dir, 'config.yml'), config);
  const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  const stop = async () => {
    if (!exited && child.pid) {
      const done = new Promise((r) => child.once('exit', r));
      process.kill(child.pid, 'SIGTERM');
      await Promise.race([done, sleep(5000)]);
      if (!exited) process.kill(child.pid, 'SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200; i++) {
    if (exited) break;
    try {
      const res = await fetch(`http://${host}/v2/`);
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 401) return { host, dir, stop };
    } catch {
      // not listening yet
    }
    await sleep(25);
  }
  await stop();
  throw new Error(`docker-registry did not start on ${host}: ${stderr.slice(-2000)}`);
}
