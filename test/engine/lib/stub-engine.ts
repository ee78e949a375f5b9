// A recording fake engine on a unix socket, for comparing what two CLIs send (the oracle for request
// shapes: the docker CLI's request is the reference). Answers /_ping like a Linux engine at API 1.45
// and everything else with canned replies; hijack requests get a 101 and an immediate close.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';

export type Recorded = { method: string; path: string; query: Record<string, string[]>; headers: http.IncomingHttpHeaders; body: string };

export type StubEngine = {
  host: string;
  socket: string;
  configDir: string;
  requests: Recorded[];
  /** Requests since the last take(), cleared. */
  take(): Recorded[];
  stop(): Promise<void>;
};

export type Reply = { status?: number; json?: unknown; headers?: Record<string, string>; body?: string };

function defaultReply(method: string, p: string): Reply {
  if (p.endsWith('/containers/create')) return { status: 201, json: { Id: 'a'.repeat(64), Warnings: [] } };
  if (/\/containers\/[^/]+\/json$/.test(p)) return { json: { Id: 'c'.repeat(64), Config: { Tty: false, OpenStdin: false }, HostConfig: {}, State: { Running: true, Paused: false, Restarting: false }, NetworkSettings: { Ports: {} } } };
  if (/\/containers\/[^/]+\/exec$/.test(p)) return { status: 201, json: { Id: 'e'.repeat(64) } };
  if (/\/exec\/[^/]+\/json$/.test(p)) return { json: { ExitCode: 0, Running: false } };
  if (/\/containers\/[^/]+\/wait$/.test(p)) return { json: { StatusCode: 0 } };
  if (p.endsWith('/containers/json')) return { json: [] };
  if (p.endsWith('/images/json')) return { json: [] };
  if (p.endsWith('/networks/create')) return { status: 201, json: { Id: 'n'.repeat(64), Warning: '' } };
  if (p.endsWith('/volumes/create')) return { status: 201, json: { Name: 'vol', Driver: 'local' } };
  if (p.endsWith('/volumes')) return { json: { Volumes: [], Warnings: [] } };
  if (p.endsWith('/networks')) return { json: [] };
  if (p.endsWith('/commit')) return { status: 201, json: { Id: 'sha256:' + 'd'.repeat(64) } };
  if (p.includes('/images/create') || p.endsWith('/push')) return { json: undefined, body: '' };
  if (method === 'DELETE' && p.includes('/images/')) return { json: [{ Untagged: 'x:1' }] };
  if (/\/containers\/[^/]+\/logs$/.test(p)) return { body: '' };
  if (p.endsWith('/events')) return { body: '' };
  if (/\/containers\/[^/]+\/update$/.test(p)) return { json: { Warnings: [] } };
  if (p.endsWith('/containers/prune')) return { json: { ContainersDeleted: null, SpaceReclaimed: 0 } };
  if (p.endsWith('/images/prune')) return { json: { ImagesDeleted: null, SpaceReclaimed: 0 } };
  if (p.endsWith('/volumes/prune')) return { json: { VolumesDeleted: null, SpaceReclaimed: 0 } };
  if (p.endsWith('/networks/prune')) return { json: { NetworksDeleted: null } };
  if (p.endsWith('/build/prune')) return { json: { CachesDeleted: null, SpaceReclaimed: 0 } };
  if (p.endsWith('/auth')) return { json: { Status: 'Login Succeeded', IdentityToken: '' } };
  if (method === 'POST' || method === 'DELETE' || method === 'PUT') return { status: 204 };
  return { status: 404, json: { message: 'not found' } };
}

export async function startStubEngine(reply: (r: Recorded) => Reply | undefined = () => undefined): Promise<StubEngine> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stub-engine-'));
  const socket = path.join(dir, 'engine.sock');
  const configDir = path.join(dir, 'cli');
  fs.mkdirSync(configDir);
  const requests: Recorded[] = [];
  let taken = 0;
  const record = (req: http.IncomingMessage, body: string): Recorded => {
    const u = new URL(req.url ?? '/', 'http://x');
    const query: Record<string, string[]> = {};
    for (const [k, v] of u.searchParams) (query[k] ??= []).push(v);
    const r = { method: req.method ?? '', path: u.pathname.replace(/^\/v[\d.]+/, ''), query, headers: req.headers, body };
    if (r.path !== '/_ping') requests.push(r);
    return r;
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = record(req, Buffer.concat(chunks).toString());
      res.setHeader('Api-Version', '1.45');
      res.setHeader('Ostype', 'linux');
      res.setHeader('Docker-Experimental', 'false');
      res.setHeader('Swarm', 'inactive');
      if (r.path === '/_ping') return void res.end('OK');
      const rep = reply(r) ?? defaultReply(r.method, r.path);
      res.statusCode = rep.status ?? 200;
      for (const [k, v] of Object.entries(rep.headers ?? {})) res.setHeader(k, v);
      if (rep.json !== undefined) {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(rep.json));
      } else res.end(rep.body ?? '');
    });
  });
  server.on('upgrade', (req, sock, head) => {
    // The request body (exec start's JSON) may come with the headers or in later packets, depending
    // on how the client writes it: read Content-Length bytes before recording and answering.
    const want = Number(req.headers['content-length'] ?? 0);
    let got = head;
    const done = () => {
      sock.removeListener('data', more);
      record(req, got.subarray(0, want).toString());
      sock.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
      sock.end();
    };
    const more = (c: Buffer) => {
      got = Buffer.concat([got, c]);
      if (got.length >= want) done();
    };
    if (got.length >= want) done();
    else sock.on('data', more);
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    host: `unix://${socket}`,
    socket,
    configDir,
    requests,
    take() {
      const out = requests.slice(taken);
      taken = requests.length;
      return out;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          fs.rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
