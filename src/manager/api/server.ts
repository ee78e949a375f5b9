// The Engine API listeners: unix sockets (mode 0660 with group `dock` when it exists, else 0600,
// owner root) and TCP only with TLS and verified client certificates. Dispatches every request,
// upgraded or not, through one Router; errors become Docker's {"message"} bodies.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import * as path from 'node:path';
import { RuntimeError, messageOf } from '../../errors/index';
import type { Logger } from '../../log/index';
import { parseUrl, Router, sendError, statusOf, type Ctx } from './http';

export type TlsConfig = { verify: boolean; ca?: string; cert?: string; key?: string };

export type Listener = { host: string; close(): Promise<void> };

/** The gid of group `name` from /etc/group, or undefined. */
export function groupId(name: string): number | undefined {
  try {
    for (const line of fs.readFileSync('/etc/group', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === name && /^\d+$/.test(f[2] ?? '')) return Number(f[2]);
    }
  } catch {
    /* no group file */
  }
  return undefined;
}

export class ApiServer {
  private readonly servers: (http.Server | https.Server)[] = [];
  private readonly sockets = new Set<net.Socket>();

  /** onRequest runs at the start and the end of every request (the daemon's idle memory release). */
  constructor(private readonly router: Router, private readonly log: Logger, private readonly onRequest: () => void = () => undefined) {}

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse | undefined, upgrade?: { socket: net.Socket; head: Buffer }): Promise<void> {
    const { version, path: p, query } = parseUrl(req.url ?? '/');
    const method = req.method ?? 'GET';
    const ctx: Ctx = { req, res, method, path: p, version, query, params: [], upgrade };
    this.onRequest();
    try {
      const m = this.router.match(method, p);
      if (!m) throw new RuntimeError('NotFound', `page not found`);
      ctx.params = m.params;
      await m.route.handler(ctx);
    } catch (e) {
      const status = statusOf(e);
      if (status >= 500) this.log.error({ method, path: p, err: messageOf(e) }, 'request failed');
      else this.log.debug({ method, path: p, status, err: messageOf(e) }, 'request refused');
      sendError(ctx, e);
    } finally {
      this.onRequest();
    }
  }

  private handle(srv: http.Server | https.Server): void {
    srv.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => void this.dispatch(req, res));
    srv.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      socket.on('error', () => undefined);
      void this.dispatch(req, undefined, { socket, head });
    });
    srv.on('connection', (s: net.Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    // Streams (logs -f, events, wait, attach) stay open for as long as the client wants.
    srv.requestTimeout = 0;
    srv.headersTimeout = 60_000;
    srv.keepAliveTimeout = 120_000;
    srv.timeout = 0;
    this.servers.push(srv);
  }

  /** Listens on a unix socket: root-owned, 0660 with group dock if it exists (or `group`), else 0600. */
  async listenUnix(socketPath: string, group?: string): Promise<Listener> {
    await fsp.mkdir(path.dirname(socketPath), { recursive: true, mode: 0o711 });
    await fsp.rm(socketPath, { force: true });
    const srv = http.createServer();
    this.handle(srv);
    // The socket must never exist with looser permissions, not even for an instant.
    const old = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(socketPath, () => resolve());
      });
    } finally {
      process.umask(old);
    }
    const gname = group ?? 'dock';
    const gid = groupId(gname);
    if (gid !== undefined) {
      await fsp.chown(socketPath, 0, gid);
      await fsp.chmod(socketPath, 0o660);
    } else {
      if (group) throw new RuntimeError('InvalidArgument', `group ${JSON.stringify(group)} not found`);
      await fsp.chmod(socketPath, 0o600);
    }
    return { host: `unix://${socketPath}`, close: () => closeServer(srv) };
  }

  /** Listens on TCP with TLS; refuses to without verified client certificates. */
  async listenTcp(host: string, port: number, tls: TlsConfig | undefined): Promise<Listener> {
    if (!tls || !tls.verify || !tls.ca || !tls.cert || !tls.key) {
      throw new RuntimeError(
        'InvalidArgument',
        `refusing to listen on tcp://${host}:${port} without --tlsverify, --tlscacert, --tlscert and --tlskey: an unauthenticated TCP socket gives root to anyone who reaches it`,
      );
    }
    const srv = https.createServer({
      ca: fs.readFileSync(tls.ca),
      cert: fs.readFileSync(tls.cert),
      key: fs.readFileSync(tls.key),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    });
    this.handle(srv);
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, host, () => resolve());
    });
    const addr = srv.address() as net.AddressInfo;
    return { host: `tcp://${host}:${addr.port}`, close: () => closeServer(srv) };
  }

  /** Stops accepting and drops every open connection (streams included). */
  async close(): Promise<void> {
    const closing = this.servers.map((s) => closeServer(s));
    for (const s of this.sockets) s.destroy();
    await Promise.all(closing);
  }
}

function closeServer(srv: http.Server | https.Server): Promise<void> {
  return new Promise((resolve) => srv.close(() => resolve()));
}
