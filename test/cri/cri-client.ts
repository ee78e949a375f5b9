// A CRI client for the tests: unary RuntimeService calls over containerd's unix socket with
// @grpc/grpc-js, messages encoded by protobufjs from cri.proto (our own subset, written from the
// documented field numbers), and the streaming server's WebSocket protocols (exec and attach:
// v4.channel.k8s.io; port forward: one data and one error channel per port) through undici.
import * as grpc from '@grpc/grpc-js';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { Agent, WebSocket } from 'undici';

let root: protobuf.Root | undefined;
function type(name: string): protobuf.Type {
  root ??= protobuf.loadSync(path.join(__dirname, 'cri.proto'));
  return root.lookupType(`runtime.v1.${name}`);
}

type Obj = Record<string, any>;

export class CriClient {
  private readonly client: grpc.Client;

  constructor(socket: string) {
    this.client = new grpc.Client(`unix://${socket}`, grpc.credentials.createInsecure());
  }

  /** RuntimeService/<method> with a <method>Request; resolves with the decoded <method>Response (camelCase, enums as names). */
  call<R = Obj>(method: string, req: Obj, timeoutMs = 60_000): Promise<R> {
    const reqT = type(`${method}Request`);
    const resT = type(`${method}Response`);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        `/runtime.v1.RuntimeService/${method}`,
        (v: Obj) => Buffer.from(reqT.encode(reqT.fromObject(v)).finish()),
        (b: Buffer) => resT.toObject(resT.decode(b), { longs: Number, enums: String, defaults: true, arrays: true, objects: true }) as R,
        req,
        { deadline: Date.now() + timeoutMs },
        (err, res) => (err ? reject(new Error(`${method}: ${err.details || err.message}`)) : resolve(res as R)),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

/** What a stream delivered, by channel (stdout 1, stderr 2, error 3 for exec/attach). */
export type StreamResult = { channels: Map<number, Buffer>; closeCode: number };

/**
 * Opens the streaming URL (http://127.0.0.1:PORT/...) through `socket` (a unix socket relayed to
 * the streaming server), runs `drive` with a sender, and resolves when the server closes or
 * `until` returns true for what arrived so far (then we close).
 */
export function openStream(
  url: string,
  socket: string,
  drive: (send: (channel: number, data: Buffer | string) => void) => void,
  until?: (channels: Map<number, Buffer>) => boolean,
  timeoutMs = 30_000,
): Promise<StreamResult> {
  const agent = new Agent({ connect: { socketPath: socket } });
  const ws = new WebSocket(url.replace(/^http/, 'ws'), { protocols: ['v4.channel.k8s.io'], dispatcher: agent });
  ws.binaryType = 'arraybuffer';
  const channels = new Map<number, Buffer>();
  return new Promise<StreamResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`stream ${url}: no end after ${timeoutMs} ms; got ${JSON.stringify([...channels].map(([c, b]) => [c, b.toString()]))}`));
    }, timeoutMs);
    ws.addEventListener('open', () =>
      drive((channel, data) => ws.send(Buffer.concat([Buffer.from([channel]), Buffer.isBuffer(data) ? data : Buffer.from(data)]))),
    );
    ws.addEventListener('message', (ev) => {
      const b = Buffer.from(ev.data as ArrayBuffer);
      if (b.length < 1) return;
      const ch = b[0]!;
      channels.set(ch, Buffer.concat([channels.get(ch) ?? Buffer.alloc(0), b.subarray(1)]));
      if (until?.(channels)) ws.close();
    });
    ws.addEventListener('error', (ev) => {
      clearTimeout(timer);
      reject(new Error(`stream ${url}: ${(ev as { message?: string }).message ?? 'websocket error'}`));
    });
    ws.addEventListener('close', (ev) => {
      clearTimeout(timer);
      void agent.close();
      resolve({ channels, closeCode: ev.code });
    });
  });
}

/** The text a channel carried. */
export function channelText(r: StreamResult, ch: number): string {
  return r.channels.get(ch)?.toString() ?? '';
}
