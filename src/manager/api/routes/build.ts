// POST /build (the classic builder: the context tar in the body, options in the query, registry
// credentials per host in X-Registry-Config) answering with Docker's JSON-message stream; the 200
// and its headers go out with the first message, so a refused query or a bad Dockerfile found before
// any output is a plain JSON error with its status. A client that goes away cancels the build (the
// executor kills and removes its containers). POST /build/prune empties the record store.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type * as http from 'node:http';
import type { Logger } from '../../../log/index';
import type { BuildCache } from '../../build/cache';
import { buildImage } from '../../build/driver';
import { EngineExecutor } from '../../build/engine-executor';
import { parseBuildQuery } from '../../build/request';
import type { Engine } from '../../containers/engine';
import { RegistryClient, type RegistryOptions } from '../../images/registry/client';
import type { Leases } from '../../leases';
import type { FsReader } from '../../snapshots/layer-writer';
import { decodeAuthHeader } from './images';
import { sendJson, type Router } from '../http';

export type BuildBackend = {
  engine: Engine;
  fsr: FsReader;
  leases: Leases;
  cache: BuildCache;
  /** Parent of each build's private work directory (<data-root>/build-work). */
  workRoot: string;
  hasBridge: boolean;
  registry: Omit<RegistryOptions, 'credentials'>;
  log: Logger;
};

type Auth = { username?: string; password?: string; serveraddress?: string };

/** X-Registry-Config: {"host": {username, password}} → credentials by registry host. */
function registryClient(b: BuildBackend, req: http.IncomingMessage): () => RegistryClient {
  const all = (decodeAuthHeader(req.headers['x-registry-config']) ?? {}) as Record<string, Auth>;
  const byHost = new Map<string, Auth>();
  for (const [k, v] of Object.entries(all)) {
    if (!v || typeof v !== 'object') continue;
    const host = k.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    byHost.set(host === 'index.docker.io' ? 'docker.io' : host, v);
  }
  return () =>
    new RegistryClient({
      ...b.registry,
      credentials: async (host) => {
        const a = byHost.get(host) ?? (host === 'registry-1.docker.io' ? byHost.get('docker.io') : undefined);
        return a?.username ? { username: a.username, password: a.password ?? '' } : undefined;
      },
    });
}

export function buildRoutes(r: Router, b: BuildBackend): void {
  r.add('POST', /^\/build$/, async (ctx) => {
    const opts = parseBuildQuery(ctx.query);
    const res = ctx.res!;
    const ac = new AbortController();
    // The response closing before it finished is the client going away (req 'close' also fires
    // after a fully read body, so it cannot tell).
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    let started = false;
    const sink = (line: string) => {
      if (!started) {
        started = true;
        res.writeHead(200, { 'Content-Type': 'application/json' });
      }
      if (!res.destroyed) res.write(line);
    };
    const executor = new EngineExecutor({
      engine: b.engine,
      fsr: b.fsr,
      leases: b.leases,
      client: registryClient(b, ctx.req),
      hasBridge: b.hasBridge,
      network: opts.networkMode,
      extraHosts: opts.extraHosts,
      ...(opts.shmSize !== undefined ? { shmSize: opts.shmSize } : {}),
      ...(opts.resources ? { resources: opts.resources } : {}),
      log: b.log,
    });
    const workDir = path.join(b.workRoot, randomBytes(8).toString('hex'));
    try {
      const result = await buildImage(opts, ctx.req, { executor, cache: b.cache, workDir, signal: ac.signal, log: b.log }, sink);
      if ('error' in result) b.log.debug({ err: result.error }, 'build failed');
    } catch (e) {
      // Before any output: a plain error response (the server's handler writes it).
      if (!started) throw e;
      b.log.warn({ err: String(e) }, 'build failed after output');
    } finally {
      // Drain what the client still sends (a build that failed early leaves the body unread), then
      // remove the work directory once more: a context extraction cut short by an early failure
      // may still have created entries in it after the driver removed it.
      await drained(ctx.req);
      await fs.rm(workDir, { recursive: true, force: true }).catch(() => undefined);
    }
    if (!started) res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end();
  });

  r.add('POST', /^\/build\/prune$/, async (ctx) => {
    const deleted: string[] = [];
    for (const rec of await b.cache.list()) {
      await b.cache.delete(rec.key);
      deleted.push(rec.key);
    }
    sendJson(ctx, 200, { CachesDeleted: deleted, SpaceReclaimed: 0 });
  });
}

/** Resolves once the request body has been read to its end (or the connection is gone), at most 10 s. */
function drained(req: http.IncomingMessage): Promise<void> {
  if (req.readableEnded || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(done, 10_000);
    req.once('end', done);
    req.once('close', done);
    req.once('error', done);
    req.resume();
  });
}
