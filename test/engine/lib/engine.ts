// What an engine scenario needs from the engine under test, whichever it is (dock or the reference
// dockerd): its socket, a private docker CLI config, where it keeps state, and how to stop it.
import * as http from 'node:http';
import type { Netns } from './netns';

export type EngineKind = 'dock' | 'dockerd';

export type Engine = {
  kind: EngineKind;
  /** unix://<socket>, for DOCKER_HOST. */
  host: string;
  socket: string;
  /** DOCKER_CONFIG for the CLI (private to this engine). */
  configDir: string;
  dataRoot: string;
  execRoot: string;
  /** The namespace the daemon runs in, when it was started inside one. */
  netns?: Netns;
  /** pid of the daemon process. */
  pid: number;
  stop(): Promise<void>;
};

/** GET path on a unix socket; resolves with status and body (rejects when nothing answers). */
export function getUnix(socket: string, p: string, timeoutMs = 2000): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, path: p, method: 'GET', timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Polls /_ping until the engine answers (or the process is gone / the time is up). */
export async function waitForPing(socket: string, alive: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await getUnix(socket, '/_ping', 1000);
      if (r.status === 200) return;
    } catch {
      /* not yet */
    }
    if (!alive()) throw new Error(`engine at ${socket} exited before answering /_ping`);
    if (Date.now() > end) throw new Error(`engine at ${socket} did not answer /_ping within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends sig to pid and waits until it is gone (SIGKILL after timeoutMs). */
export async function stopPid(pid: number, sig: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  try {
    process.kill(pid, sig);
  } catch {
    return;
  }
  const end = Date.now() + timeoutMs;
  while (alive()) {
    if (Date.now() > end) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
