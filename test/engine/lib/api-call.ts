// Raw Engine API requests over an engine's unix socket, for what the docker CLI cannot send (a
// commit body, a hand-made hostile tar, a stat header to read): status, headers and body.
import * as http from 'node:http';
import type { Engine } from './engine';

export type Reply = { status: number; headers: http.IncomingHttpHeaders; body: Buffer };

/** One request; a Buffer body goes as is (Content-Length), undefined sends none. */
export function apiCall(e: Engine, method: string, p: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const len = body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(body)) };
    const req = http.request({ socketPath: e.socket, path: p, method, headers: { ...len, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The message of a Docker error body. */
export function errorMessage(r: Reply): string {
  try {
    return (JSON.parse(r.body.toString()) as { message: string }).message;
  } catch {
    return r.body.toString();
  }
}
