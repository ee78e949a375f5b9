// /containers/* and /exec/* routes: parse the request, call the engine, reply in Docker's shape.
// Streams (attach, exec start, logs, wait, stats) follow engine-api.md: headers flushed at once,
// multiplexed frames without a TTY, raw bytes with one.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as path from 'node:path';
import { RuntimeError } from '../../../errors/index';
import type { Engine } from '../../containers/engine';
import { createExec, inspectExec, resizeExec, startExec, type ExecConfig, type ExecStore } from '../../containers/exec';
import { kill, pause, restart, start, stop, unpause, wait } from '../../containers/lifecycle';
import { StatsReader } from '../../containers/stats';
import { updateContainer } from '../../containers/update';
import { inspectContainer, psFilter, psRow } from '../../containers/view';
import type { ContainerRecord } from '../../containers/types';
import { parseTimeArg } from '../../events';
import { imageSize } from '../../images/inspect';
import { readJsonLog, rfc3339Nano } from '../../logs/jsonfile';
import { task } from '../../tasks/shim';
import { HttpError, hijack, muxFrame, qbool, qfilters, qint, readJson, sendEmpty, sendJson, startStream, type Ctx, type Router } from '../http';

const run = promisify(execFile);

const RAW = 'application/vnd.docker.raw-stream';
const MUX = 'application/vnd.docker.multiplexed-stream';

export type ContainerBackend = {
  engine: Engine;
  execs: ExecStore;
  /** The image reference to show for a container (its Config.Image, or the id when untagged). */
  imageName(rec: ContainerRecord): string;
  /** Whether rec was made from the image ref names (ps --filter ancestor). */
  imageMatches(rec: ContainerRecord, ref: string): boolean;
};

/** Detach key sequence: "ctrl-p,ctrl-q" → bytes. */
export function detachKeys(spec: string | null): Buffer {
  const s = spec || 'ctrl-p,ctrl-q';
  return Buffer.from(
    s.split(',').map((k) => {
      const m = /^ctrl-([a-z@\[\\\]^_])$/.exec(k);
      if (m) {
        const c = m[1]!;
        return c >= 'a' && c <= 'z' ? c.charCodeAt(0) - 96 : ({ '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 } as Record<string, number>)[c]!;
      }
      if (k.length === 1) return k.charCodeAt(0);
      throw new RuntimeError('InvalidArgument', `Invalid detach keys (${s}) provided`);
    }),
  );
}

const sizes = async (b: ContainerBackend, rec: ContainerRecord) => {
  const rw = await b.engine.layerSize(rec);
  const image = await b.engine.image(rec.Image).then(imageSize, () => 0);
  return { rw, rootfs: rw + image };
};

export function containerRoutes(r: Router, b: ContainerBackend): void {
  const e = b.engine;
  const paths = {
    containerDir: (id: string) => e.d.store.containerDir(id),
    logPath: (rec: ContainerRecord) => e.logPath(rec),
    execIds: (id: string) => b.execs.ofContainer(id).filter((x) => x.Running).map((x) => x.ID),
  };

  r.add('POST', /^\/containers\/create$/, async (ctx) => {
    const body = await readJson<Record<string, unknown>>(ctx, {});
    const name = ctx.query.get('name') || undefined;
    if (!body || typeof body !== 'object') throw new RuntimeError('InvalidArgument', 'config cannot be empty in order to create a container');
    sendJson(ctx, 201, await e.create(name, body));
  });

  r.add('GET', /^\/containers\/json$/, async (ctx) => {
    const f = qfilters(ctx.query);
    const limit = qint(ctx.query, 'limit', -1)!;
    // -n and -l (a limit) include every state, as -a does.
    const all = qbool(ctx.query, 'all') || f.has('status') || f.has('exited') || limit > 0;
    const withSize = qbool(ctx.query, 'size');
    let recs = e.d.store.all().sort((x, y) => Date.parse(y.Created) - Date.parse(x.Created));
    const match = psFilter(recs, f, b.imageMatches);
    recs = recs.filter((x) => (all || x.State.Running || x.State.Restarting || x.State.Paused) && match(x));
    if (limit > 0) recs = recs.slice(0, limit);
    const out = [];
    for (const rec of recs) out.push(psRow(rec, b.imageName(rec), withSize ? await sizes(b, rec) : undefined));
    sendJson(ctx, 200, out);
  });

  r.add('POST', /^\/containers\/prune$/, async (ctx) => {
    const f = qfilters(ctx.query);
    const labelOk = (rec: ContainerRecord) => {
      for (const v of f.get('label') ?? []) {
        const [k, val] = v.split('=', 2) as [string, string?];
        if (!(k in (rec.Config.Labels ?? {})) || (val !== undefined && rec.Config.Labels![k] !== val)) return false;
      }
      for (const v of f.get('label!') ?? []) {
        const [k, val] = v.split('=', 2) as [string, string?];
        if (k in (rec.Config.Labels ?? {}) && (val === undefined || rec.Config.Labels![k] === val)) return false;
      }
      for (const v of f.get('until') ?? []) if (Date.parse(rec.Created) * 1e6 >= parseTimeArg(v)) return false;
      return true;
    };
    sendJson(ctx, 200, await e.prune(labelOk));
  });

  r.add('GET', /^\/containers\/([^/]+)\/json$/, async (ctx) => {
    const rec = e.find(ctx.params[0]!);
    sendJson(ctx, 200, inspectContainer(rec, paths, qbool(ctx.query, 'size') ? await sizes(b, rec) : undefined));
  });

  r.add('POST', /^\/containers\/([^/]+)\/start$/, async (ctx) => {
    await start(e, ctx.params[0]!);
    sendEmpty(ctx, 204);
  });

  r.add('POST', /^\/containers\/([^/]+)\/stop$/, async (ctx) => {
    await stop(e, ctx.params[0]!, { timeout: qint(ctx.query, 't'), signal: ctx.query.get('signal') || undefined });
    sendEmpty(ctx, 204);
  });

  r.add('POST', /^\/containers\/([^/]+)\/restart$/, async (ctx) => {
    await restart(e, ctx.params[0]!, { timeout: qint(ctx.query, 't'), signal: ctx.query.get('signal') || undefined });
    sendEmpty(ctx, 204);
  });

  r.add('POST', /^\/containers\/([^/]+)\/kill$/, async (ctx) => {
    await kill(e, ctx.params[0]!, ctx.query.get('signal') || undefined);
    sendEmpty(ctx, 204);
  });

  r.add('POST', /^\/containers\/([^/]+)\/pause$/, async (ctx) => {
    await pause(e, ctx.params[0]!);
    sendEmpty(ctx, 204);
  });

  r.add('POST', /^\/containers\/([^/]+)\/unpause$/, async (ctx) => {
    await unpause(e, ctx.params[0]!);
    sendEmpty(ctx, 204);
  });

  r.add('POST', /^\/containers\/([^/]+)\/rename$/, async (ctx) => {
    await e.rename(ctx.params[0]!, ctx.query.get('name') ?? '');
    sendEmpty(ctx, 204);
  });

  r.add('POST', /^\/containers\/([^/]+)\/update$/, async (ctx) => {
    const body = await readJson<Record<string, unknown>>(ctx, {});
    sendJson(ctx, 200, await updateContainer(e, ctx.params[0]!, body));
  });

  r.add('DELETE', /^\/containers\/([^/]+)$/, async (ctx) => {
    await e.remove(ctx.params[0]!, { force: qbool(ctx.query, 'force'), volumes: qbool(ctx.query, 'v'), link: qbool(ctx.query, 'link') });
    b.execs.dropContainer(ctx.params[0]!);
    sendEmpty(ctx, 204);
  });

  r.add('POST', /^\/containers\/([^/]+)\/wait$/, async (ctx) => {
    const rec = e.find(ctx.params[0]!);
    const condition = ctx.query.get('condition') ?? '';
    if (condition && !['not-running', 'next-exit', 'removed'].includes(condition)) throw new RuntimeError('InvalidArgument', `invalid condition: "${condition}"`);
    const pending = wait(e, rec.ID, condition);
    // The CLI sends start only after these headers arrive (engine-api.md §4.1).
    const res = startStream(ctx);
    let gone = false;
    res.on('close', () => (gone = true));
    const out = await pending;
    if (!gone) res.end(JSON.stringify(out) + '\n');
  });

  r.add('POST', /^\/containers\/([^/]+)\/resize$/, async (ctx) => {
    const rec = e.find(ctx.params[0]!);
    const h = qint(ctx.query, 'h', 0)!;
    const w = qint(ctx.query, 'w', 0)!;
    const conn = e.live(rec.ID).conn;
    if (conn && rec.Config.Tty) await task.resize(conn, rec.ID, w, h).catch(() => undefined);
    else if (!rec.State.Running && rec.State.Status !== 'created') throw new RuntimeError('FailedPrecondition', `Container ${rec.ID} is not running`);
    sendEmpty(ctx, 200);
  });

  r.add('POST', /^\/containers\/([^/]+)\/attach$/, async (ctx) => attach(ctx, b));

  r.add('GET', /^\/containers\/([^/]+)\/logs$/, async (ctx) => {
    const rec = e.find(ctx.params[0]!);
    const q = ctx.query;
    const wantOut = qbool(q, 'stdout');
    const wantErr = qbool(q, 'stderr');
    if (!wantOut && !wantErr) throw new RuntimeError('InvalidArgument', 'Bad parameters: you must choose at least one stream');
    if (rec.HostConfig.LogConfig?.Type === 'none') throw new RuntimeError('NotImplemented', `configured logging driver does not support reading`);
    const tailArg = q.get('tail');
    const tail = !tailArg || tailArg === 'all' ? undefined : Number(tailArg) >= 0 ? Number(tailArg) : undefined;
    const since = q.get('since');
    const until = q.get('until');
    const follow = qbool(q, 'follow');
    const ts = qbool(q, 'timestamps');
    const live = e.live(rec.ID);
    const done = new Promise<void>((resolve) => {
      if (!rec.State.Running && !rec.State.Restarting) resolve();
      else live.onEndOfOutput(resolve);
    });
    const tty = !!rec.Config.Tty;
    const res = startStream(ctx, tty ? RAW : MUX);
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    const sinceN = since && since !== '0' ? BigInt(Math.floor(parseTimeArg(since))) : undefined;
    const untilN = until && until !== '0' ? BigInt(Math.floor(parseTimeArg(until))) : undefined;
    for await (const entry of readJsonLog(e.logPath(rec), { tail, sinceNano: sinceN, untilNano: untilN, follow, done, signal: ac.signal })) {
      if ((entry.stream === 'stdout' && !wantOut) || (entry.stream === 'stderr' && !wantErr)) continue;
      const payload = ts ? Buffer.concat([Buffer.from(`${rfc3339Nano(entry.nano)} `), entry.log]) : entry.log;
      if (!res.write(tty ? payload : muxFrame(entry.stream === 'stdout' ? 1 : 2, payload))) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  });

  r.add('GET', /^\/containers\/([^/]+)\/top$/, async (ctx) => {
    const rec = e.find(ctx.params[0]!);
    const conn = e.live(rec.ID).conn;
    if (!rec.State.Running || !conn) throw new RuntimeError('FailedPrecondition', `Container ${rec.ID} is not running`);
    if (rec.State.Paused) throw new RuntimeError('FailedPrecondition', `Container ${rec.ID} is paused`);
    const pids = new Set(await task.pids(conn, rec.ID));
    const args = (ctx.query.get('ps_args') || '-ef').split(/\s+/).filter(Boolean);
    let stdout: string;
    try {
      stdout = (await run('ps', args)).stdout;
    } catch (err) {
      throw new RuntimeError('Internal', `ps: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
    }
    const lines = stdout.split('\n').filter(Boolean);
    const titles = lines[0]!.trim().split(/\s+/);
    const pidCol = titles.indexOf('PID');
    if (pidCol < 0) throw new RuntimeError('Internal', `Couldn't find PID field in ps output`);
    const processes = lines.slice(1).flatMap((l) => {
      const f = l.trim().split(/\s+/);
      if (!pids.has(Number(f[pidCol]))) return [];
      return [[...f.slice(0, titles.length - 1), f.slice(titles.length - 1).join(' ')]];
    });
    sendJson(ctx, 200, { Titles: titles, Processes: processes });
  });

  r.add('GET', /^\/containers\/([^/]+)\/stats$/, async (ctx) => {
    const rec = e.find(ctx.params[0]!);
    const stream = qbool(ctx.query, 'stream', true) && !qbool(ctx.query, 'one-shot');
    const reader = new StatsReader(rec, path.posix.join(rec.HostConfig.CgroupParent || e.d.config.cgroupParent, rec.ID));
    if (!stream) {
      // Two samples a moment apart, so that CPU % has a delta (dockerd does the same).
      if (!qbool(ctx.query, 'one-shot')) {
        await reader.sample();
        await new Promise((r) => setTimeout(r, 100));
      }
      sendJson(ctx, 200, await reader.sample());
      return;
    }
    const res = startStream(ctx);
    let gone = false;
    res.on('close', () => (gone = true));
    while (!gone) {
      res.write(JSON.stringify(await reader.sample()) + '\n');
      if (!rec.State.Running) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    res.end();
  });

  r.add('POST', /^\/containers\/([^/]+)\/exec$/, async (ctx) => {
    const cfg = await readJson<ExecConfig>(ctx, {});
    sendJson(ctx, 201, createExec(e, b.execs, ctx.params[0]!, cfg));
  });

  r.add('POST', /^\/exec\/([^/]+)\/start$/, async (ctx) => execStart(ctx, b));

  r.add('POST', /^\/exec\/([^/]+)\/resize$/, async (ctx) => {
    await resizeExec(e, b.execs, ctx.params[0]!, qint(ctx.query, 'h', 0)!, qint(ctx.query, 'w', 0)!);
    sendEmpty(ctx, 200);
  });

  r.add('GET', /^\/exec\/([^/]+)\/json$/, async (ctx) => sendJson(ctx, 200, inspectExec(b.execs, ctx.params[0]!)));
}

/** Scans stdin for the detach sequence; returns [data to forward, detached]. */
function makeDetacher(keys: Buffer): (d: Buffer) => [Buffer, boolean] {
  let matched = 0;
  return (d) => {
    const out: number[] = [];
    for (const byte of d) {
      if (byte === keys[matched]) {
        matched++;
        if (matched === keys.length) return [Buffer.from(out), true];
        continue;
      }
      if (matched) out.push(...keys.subarray(0, matched));
      matched = 0;
      if (byte === keys[0]) matched = 1;
      else out.push(byte);
    }
    return [Buffer.from(out), false];
  };
}

async function attach(ctx: Ctx, b: ContainerBackend): Promise<void> {
  const e = b.engine;
  const rec = e.find(ctx.params[0]!);
  const q = ctx.query;
  const keys = detachKeys(q.get('detachKeys'));
  const tty = !!rec.Config.Tty;
  const wantOut = qbool(q, 'stdout');
  const wantErr = qbool(q, 'stderr');
  const wantIn = qbool(q, 'stdin') && !!rec.Config.OpenStdin;
  const { socket, head } = hijack(ctx, tty ? RAW : MUX);
  const live = e.live(rec.ID);
  let closed = false;
  const send = (stream: 'stdout' | 'stderr', d: Buffer) => {
    if (closed || (stream === 'stdout' && !wantOut) || (stream === 'stderr' && !wantErr)) return;
    socket.write(tty ? d : muxFrame(stream === 'stdout' ? 1 : 2, d));
  };
  if (qbool(q, 'logs')) {
    for await (const entry of readJsonLog(e.logPath(rec), {})) send(entry.stream, entry.log);
  }
  if (!qbool(q, 'stream')) {
    socket.end();
    return;
  }
  live.listeners.add(send);
  let offEnd: () => void = () => undefined;
  const finish = () => {
    if (closed) return;
    closed = true;
    live.listeners.delete(send);
    offEnd();
    socket.end();
  };
  socket.on('close', () => {
    closed = true;
    live.listeners.delete(send);
    offEnd();
  });
  if (rec.State.Running || rec.State.Status === 'created' || rec.State.Restarting) offEnd = live.onEndOfOutput(finish);
  else finish();
  e.event(rec, 'attach');
  if (wantIn) {
    const detach = makeDetacher(keys);
    const onData = (d: Buffer) => {
      const [fwd, detached] = detach(d);
      if (fwd.length) live.writeStdin(fwd);
      if (detached) {
        e.event(rec, 'detach');
        finish();
      }
    };
    if (head.length) onData(head);
    socket.on('data', onData);
    // The client's stdin ended: with StdinOnce the process gets EOF, but never through a terminal
    // (dockerd's attach does the same), so a detached -it container can be attached again.
    socket.on('end', () => {
      if (rec.Config.StdinOnce && !tty) live.endStdin();
    });
  } else socket.resume();
}

async function execStart(ctx: Ctx, b: ContainerBackend): Promise<void> {
  const e = b.engine;
  const id = ctx.params[0]!;
  const x = b.execs.get(id);
  // The JSON body travels inside the upgraded stream: exactly Content-Length bytes, then stdin.
  let body: { Detach?: boolean; Tty?: boolean; ConsoleSize?: [number, number] } = {};
  let rest: Buffer = Buffer.alloc(0);
  if (ctx.upgrade) {
    const len = Number(ctx.req.headers['content-length'] ?? 0);
    let buf: Buffer = ctx.upgrade.head;
    while (buf.length < len) {
      const more: Buffer = await new Promise((resolve, reject) => {
        ctx.upgrade!.socket.once('data', resolve);
        ctx.upgrade!.socket.once('error', reject);
      });
      buf = Buffer.concat([buf, more]);
    }
    if (len > 0) {
      try {
        body = JSON.parse(buf.subarray(0, len).toString()) as typeof body;
      } catch {
        throw new RuntimeError('InvalidArgument', 'invalid JSON in exec start body');
      }
    }
    rest = buf.subarray(len);
  } else body = await readJson(ctx, {});
  if (body.ConsoleSize && body.ConsoleSize[0]) x.config.ConsoleSize = body.ConsoleSize;
  if (body.Detach) {
    const started = await startExec(e, b.execs, id, { wantStdin: false });
    started.closeStdin();
    if (ctx.upgrade) ctx.upgrade.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    else sendEmpty(ctx, 200);
    return;
  }
  const tty = !!x.config.Tty;
  const wantIn = !!x.config.AttachStdin;
  const pending: Buffer[] = [];
  let sock: import('node:net').Socket | undefined;
  let started;
  try {
    started = await startExec(e, b.execs, id, {
    wantStdin: wantIn,
    output: (stream, d) => {
      if ((stream === 'stdout' && x.config.AttachStdout === false) || (stream === 'stderr' && x.config.AttachStderr === false)) return;
      const frame = tty ? d : muxFrame(stream === 'stdout' ? 1 : 2, d);
      if (sock) sock.write(frame);
      else pending.push(frame);
    },
  });
  } catch (err) {
    // As dockerd: the failure goes into the stream (the exec's exit code, 126, is in inspect).
    if (x.started) {
      const { socket } = hijack(ctx, tty ? RAW : MUX);
      const text = Buffer.from(`${(err as Error).message}\r\n`);
      socket.end(tty ? text : muxFrame(1, text));
      return;
    }
    throw err;
  }
  const { socket } = hijack(ctx, tty ? RAW : MUX);
  sock = socket;
  for (const f of pending.splice(0)) socket.write(f);
  if (wantIn && started.stdin) {
    if (rest.length) started.stdin.write(rest);
    socket.on('data', (d: Buffer) => started.stdin!.write(d));
    socket.on('end', () => started.closeStdin());
  } else {
    started.closeStdin();
    socket.resume();
  }
  await started.exit;
  socket.end();
}

export { HttpError };
