// ttrpc server: accepts connections, decodes Request frames, runs handlers concurrently (Wait
// blocks until exit, so calls on one connection never serialise) and answers on the same stream.
// Owns the error → status-code mapping; knows nothing of tasks.
import type * as net from 'node:net';
import { kindOf, messageOf, type ErrorKind } from '../errors/index';
import type { Logger } from '../log/index';
import { decodeRequest, encodeResponseFrame, FrameDecoder, FrameTooLarge, MSG_REQUEST, type TtrpcRequest } from './ttrpc-codec';

/** gRPC codes used by containerd's errdefs.FromGRPC (runtime-interfaces.md §4.4). */
export const Code = {
  OK: 0,
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
} as const;

const kindCodes: Record<ErrorKind, number> = {
  NotFound: Code.NotFound,
  AlreadyExists: Code.AlreadyExists,
  InvalidArgument: Code.InvalidArgument,
  FailedPrecondition: Code.FailedPrecondition,
  PermissionDenied: Code.PermissionDenied,
  Unavailable: Code.Unavailable,
  NotImplemented: Code.Unimplemented,
  Canceled: Code.Canceled,
  DeadlineExceeded: Code.DeadlineExceeded,
  Internal: Code.Unknown,
};

/** The status code an error travels with. */
export function codeOf(err: unknown): number {
  return kindCodes[kindOf(err)];
}

/** What a handler sees besides its payload. */
export type CallContext = { metadata: Map<string, string>; service: string; method: string };
/**
 * One unary method: the encoded request in, the encoded response out (throw or reject to fail). A
 * handler that can answer at once returns the Buffer itself, and the reply is written before the
 * data callback returns: for State on an idle daemon a promise turn measured ~65 µs (issue 16).
 */
export type Handler = (payload: Buffer, ctx: CallContext) => Buffer | Promise<Buffer>;

export class TtrpcServer {
  private readonly services = new Map<string, Map<string, Handler>>();
  private readonly sockets = new Set<net.Socket>();

  /**
   * timeCalls: log each call's time at debug (the shim's -debug); off, a call reads no clock.
   * onRequest runs when a request arrives and when its reply is written (the daemon's idle memory
   * release).
   */
  constructor(
    private readonly log?: Logger,
    private readonly timeCalls = false,
    private readonly onRequest: () => void = () => undefined,
  ) {}

  /** Registers the methods of one service (e.g. containerd.task.v2.Task). */
  register(service: string, methods: Record<string, Handler>): void {
    this.services.set(service, new Map(Object.entries(methods)));
  }

  /** Serves every connection the listener accepts. */
  serve(listener: net.Server): void {
    listener.on('connection', (s) => this.handle(s));
  }

  /** Serves one connected socket (also used by tests over a socketpair). */
  handle(sock: net.Socket): void {
    this.sockets.add(sock);
    const dec = new FrameDecoder();
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: Buffer) => {
      let frames;
      try {
        frames = dec.push(chunk);
      } catch (e) {
        // After an oversized header the stream cannot be resynchronised: answer and hang up.
        if (e instanceof FrameTooLarge) this.reply(sock, e.streamId, Code.ResourceExhausted, e.message);
        sock.end();
        return;
      }
      for (const f of frames) {
        if (f.type !== MSG_REQUEST) continue;
        this.dispatch(sock, f.streamId, f.payload);
      }
    });
  }

  private dispatch(sock: net.Socket, streamId: number, data: Buffer): void {
    this.onRequest();
    let req: TtrpcRequest;
    try {
      req = decodeRequest(data);
    } catch (e) {
      this.reply(sock, streamId, Code.InvalidArgument, `decode request: ${messageOf(e)}`);
      return;
    }
    const h = this.services.get(req.service)?.get(req.method);
    if (!h) {
      this.reply(sock, streamId, Code.Unimplemented, `${req.service}/${req.method}: not implemented`);
      return;
    }
    const t0 = this.timeCalls ? performance.now() : 0;
    const done = (out: Buffer) => {
      try {
        this.reply(sock, streamId, Code.OK, '', out);
      } catch (e) {
        return failed(e);
      }
      // Each call's time in the shim (decode to reply), for profiling with -debug.
      if (this.timeCalls) this.log?.debug({ method: req.method, ms: +(performance.now() - t0).toFixed(2) }, 'ttrpc call');
    };
    const failed = (e: unknown) => {
      this.log?.debug({ method: req.method, err: messageOf(e) }, 'ttrpc call failed');
      this.reply(sock, streamId, codeOf(e), messageOf(e));
    };
    let out: Buffer | Promise<Buffer>;
    try {
      out = h(req.payload, { metadata: req.metadata, service: req.service, method: req.method });
    } catch (e) {
      return failed(e);
    }
    // A synchronous handler is answered in this same callback: no promise, no microtask turn.
    if (out instanceof Uint8Array) done(out);
    else out.then(done, failed);
  }

  private reply(sock: net.Socket, streamId: number, code: number, message: string, payload?: Buffer): void {
    this.onRequest();
    if (sock.destroyed) return;
    sock.write(encodeResponseFrame(streamId, code, code === Code.OK ? '' : message, payload));
  }

  /** Closes every open connection. */
  closeAll(): void {
    for (const s of this.sockets) s.destroy();
  }
}
