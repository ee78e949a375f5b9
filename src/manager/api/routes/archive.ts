// Routes that read or write a container's files: HEAD/GET/PUT /containers/{id}/archive (docker cp,
// with the X-Docker-Container-Path-Stat header), GET /containers/{id}/export, GET
// /containers/{id}/changes (docker diff) and POST /commit. Parses and replies only; the work is in
// containers/archive.ts and containers/commit.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RuntimeError } from '../../../errors/index';
import { archivePath, containerChanges, exportContainer, extractToDir, statPath, type PathStat } from '../../containers/archive';
import { commitContainer } from '../../containers/commit';
import type { Engine } from '../../containers/engine';
import type { ContainerConfig } from '../../containers/types';
import type { FsReader } from '../../snapshots/layer-writer';
import { qbool, readJson, sendEmpty, sendJson, type Ctx, type Router } from '../http';

export type ArchiveBackend = { engine: Engine; fsr: FsReader };

const STAT_HEADER = 'X-Docker-Container-Path-Stat';

function statHeader(s: PathStat): string {
  return Buffer.from(JSON.stringify(s)).toString('base64');
}

/** Writes an async byte source to res with backpressure; a failure mid-stream cuts the connection. */
async function pipeTo(res: ServerResponse, src: AsyncIterable<Buffer>): Promise<void> {
  try {
    for await (const c of src) {
      if (res.destroyed) return;
      if (!res.write(c)) await new Promise<void>((r) => {
        res.once('drain', r);
        res.once('close', r);
      });
    }
    res.end();
  } catch (e) {
    res.destroy(e as Error);
  }
}

/**
 * The request body as chunks. Stopping early (a refused archive) discards the rest instead of
 * destroying the request, so the client, still sending, gets the error reply.
 */
/** Reads and drops what is left of a request body, up to limit bytes (then stops reading). */
function drain(req: IncomingMessage, limit: number): Promise<void> {
  if (req.readableEnded || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      req.off('data', onData).off('end', done).off('close', done).off('error', done);
      resolve();
    };
    const onData = (c: Buffer) => {
      seen += c.length;
      if (seen > limit) {
        req.pause();
        done();
      }
    };
    req.on('data', onData).on('end', done).on('close', done).on('error', done);
    req.resume();
  });
}

async function* bodyOf(req: IncomingMessage): AsyncGenerator<Buffer> {
  try {
    for (;;) {
      const c = req.read() as Buffer | null;
      if (c !== null) {
        yield c;
        continue;
      }
      if (req.readableEnded || req.destroyed) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          req.off('readable', done);
          req.off('end', done);
          req.off('error', done);
          req.off('close', done);
          resolve();
        };
        req.on('readable', done);
        req.on('end', done);
        req.on('error', done);
        req.on('close', done);
      });
      if (req.errored) throw req.errored;
    }
  } finally {
    if (!req.readableEnded) req.resume();
  }
}

function pathParam(ctx: Ctx): string {
  const p = ctx.query.get('path');
  if (p === null || p === '') throw new RuntimeError('InvalidArgument', 'path is required');
  return p;
}

export function archiveRoutes(r: Router, b: ArchiveBackend): void {
  const e = b.engine;

  // HEAD comes here too (the router serves HEAD with GET routes): stat only.
  r.add('GET', /^\/containers\/([^/]+)\/archive$/, async (ctx) => {
    const ref = ctx.params[0]!;
    const p = pathParam(ctx);
    if (ctx.method === 'HEAD') {
      const s = await statPath(e, ref, p);
      ctx.res!.writeHead(200, { [STAT_HEADER]: statHeader(s), 'Content-Type': 'application/json' });
      ctx.res!.end();
      return;
    }
    await archivePath(e, b.fsr, ref, p, async (s, tar) => {
      ctx.res!.writeHead(200, { [STAT_HEADER]: statHeader(s), 'Content-Type': 'application/x-tar' });
      await pipeTo(ctx.res!, tar);
    });
  });

  r.add('PUT', /^\/containers\/([^/]+)\/archive$/, async (ctx) => {
    const p = pathParam(ctx);
    try {
      await extractToDir(e, ctx.params[0]!, p, bodyOf(ctx.req), {
        noOverwriteDirNonDir: qbool(ctx.query, 'noOverwriteDirNonDir'),
        copyUIDGID: qbool(ctx.query, 'copyUIDGID'),
      });
    } catch (err) {
      // Go's http server reads up to 256 KiB of an unread body before it answers, so a small upload
      // refused by dockerd (a directory onto a file, no such container) ends cleanly on the client;
      // answering first makes the docker CLI log "read/write on closed pipe" for its tar writer.
      await drain(ctx.req, 256 << 10);
      throw err;
    }
    sendEmpty(ctx, 200);
  });

  r.add('GET', /^\/containers\/([^/]+)\/export$/, async (ctx) => {
    await exportContainer(e, b.fsr, ctx.params[0]!, async (tar) => {
      ctx.res!.writeHead(200, { 'Content-Type': 'application/x-tar' });
      await pipeTo(ctx.res!, tar);
    });
  });

  r.add('GET', /^\/containers\/([^/]+)\/changes$/, async (ctx) => {
    const changes = await containerChanges(e, b.fsr, ctx.params[0]!);
    sendJson(ctx, 200, changes.length ? changes : null);
  });

  r.add('POST', /^\/commit$/, async (ctx) => {
    const q = ctx.query;
    const config = await readJson<ContainerConfig | null>(ctx, null);
    const id = await commitContainer(e, b.fsr, q.get('container') ?? '', {
      repo: q.get('repo') || undefined,
      tag: q.get('tag') || undefined,
      author: q.get('author') || undefined,
      comment: q.get('comment') || undefined,
      changes: q.getAll('changes').filter((c) => c.trim() !== ''),
      pause: qbool(q, 'pause', true),
      ...(config && typeof config === 'object' ? { config } : {}),
    });
    sendJson(ctx, 201, { Id: id });
  });
}
