// ttrpc client: unary calls over one connection, odd stream ids, responses matched by stream id.
// Used to forward events to containerd and by the tests; knows nothing of the messages inside.
import * as net from 'node:net';
import { decodeResponse, encodeFrame, encodeRequest, FrameDecoder, MSG_REQUEST, MSG_RESPONSE } from './ttrpc-codec';

/** A non-OK ttrpc status. */
export class TtrpcError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = 'TtrpcError';
  }
}

export class TtrpcClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void }>();
  private closedErr: Error | undefined;

  private constructor(private readonly sock: net.Socket) {
    const dec = new FrameDecoder();
    sock.on('data', (chunk: Buffer) => {
      for (const f of dec.push(chunk)) {
        if (f.type !== MSG_RESPONSE) continue;
        const p = this.pending.get(f.streamId);
        if (!p) continue;
        this.pending.delete(f.streamId);
        let r;
        try {
          r = decodeResponse(f.payload);
        } catch (e) {
          p.reject(e as Error);
          continue;
        }
        if (r.code !== 0) p.reject(new TtrpcError(r.code, r.message));
        else p.resolve(r.payload);
      }
    });
    const fail = (e?: Error) => {
      this.closedErr = e ?? new Error('ttrpc: connection closed');
      for (const p of this.pending.values()) p.reject(this.closedErr);
      this.pending.clear();
    };
    sock.on('error', fail);
    sock.on('close', () => fail());
  }

  /** Connects to a unix socket path (a `unix://` prefix is accepted). */
  static connect(address: string): Promise<TtrpcClient> {
    const p = address.replace(/^unix:\/\//, '');
    return new Promise((resolve, reject) => {
      const s = net.connect(p);
      s.once('error', reject);
      s.once('connect', () => {
        s.off('error', reject);
        resolve(new TtrpcClient(s));
      });
    });
  }

  /** Wraps an already connected socket. */
  static over(sock: net.Socket): TtrpcClient {
    return new TtrpcClient(sock);
  }

  /** One unary call; resolves with the encoded response payload. */
  call(service: string, method: string, payload: Buffer, metadata: Record<string, string> = {}): Promise<Buffer> {
    if (this.closedErr) return Promise.reject(this.closedErr);
    const id = this.nextId;
    this.nextId += 2;
    const req = encodeRequest(service, method, payload, metadata);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.sock.write(encodeFrame({ streamId: id, type: MSG_REQUEST, flags: 0, payload: req }));
    });
  }

  close(): void {
    this.sock.destroy();
  }
}
