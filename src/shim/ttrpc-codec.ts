// ttrpc framing (containerd/ttrpc channel.go, PROTOCOL.md): a 10-byte header {uint32 BE length,
// uint32 BE stream id, uint8 type, uint8 flags} then the payload; and the Request/Response
// envelope inside it (request.proto), coded by hand. Pure codec, no sockets.
import { stringFieldSize, varintFieldSize, varintSize, WireReader, WireWriter } from './proto-wire';

/** Message types of the ttrpc header. */
export const MSG_REQUEST = 1;
export const MSG_RESPONSE = 2;
export const MSG_DATA = 3;

/** ttrpc caps a frame's payload at 4 MiB (messageLengthMax); larger frames are refused. */
export const MAX_FRAME = 4 << 20;
export const HEADER_SIZE = 10;

export type Frame = { streamId: number; type: number; flags: number; payload: Buffer };

/** Encodes one frame. */
export function encodeFrame(f: Frame): Buffer {
  if (f.payload.length > MAX_FRAME) throw new RangeError(`ttrpc frame of ${f.payload.length} bytes exceeds ${MAX_FRAME}`);
  const out = Buffer.allocUnsafe(HEADER_SIZE + f.payload.length);
  out.writeUInt32BE(f.payload.length, 0);
  out.writeUInt32BE(f.streamId >>> 0, 4);
  out.writeUInt8(f.type, 8);
  out.writeUInt8(f.flags, 9);
  f.payload.copy(out, HEADER_SIZE);
  return out;
}

/** Thrown for a frame longer than MAX_FRAME; the connection cannot be resynchronised after it. */
export class FrameTooLarge extends Error {
  constructor(readonly length: number, readonly streamId: number) {
    super(`ttrpc frame of ${length} bytes exceeds ${MAX_FRAME}`);
  }
}

/** Incremental decoder: push() socket chunks, get whole frames back in order. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private size = 0;

  push(chunk: Buffer): Frame[] {
    // The usual case, one whole frame in one chunk, without the queue.
    if (this.size === 0 && chunk.length >= HEADER_SIZE) {
      const length = chunk.readUInt32BE(0);
      if (length <= MAX_FRAME && chunk.length === HEADER_SIZE + length) {
        return [{ streamId: chunk.readUInt32BE(4), type: chunk[8]!, flags: chunk[9]!, payload: chunk.subarray(HEADER_SIZE) }];
      }
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.size < HEADER_SIZE) break;
      const head = this.peek(HEADER_SIZE);
      const length = head.readUInt32BE(0);
      const streamId = head.readUInt32BE(4);
      if (length > MAX_FRAME) throw new FrameTooLarge(length, streamId);
      if (this.size < HEADER_SIZE + length) break;
      const all = this.take(HEADER_SIZE + length);
      frames.push({ streamId, type: all.readUInt8(8), flags: all.readUInt8(9), payload: all.subarray(HEADER_SIZE) });
    }
    return frames;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    const first = this.chunks[0]!;
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.size -= n;
    return out;
  }
}

/** ttrpc.Request (ttrpc's request.proto, our proto/ttrpc.proto): payload is a view into the frame. */
export type TtrpcRequest = { service: string; method: string; payload: Buffer; metadata: Map<string, string> };

/** Decodes a Request by hand (proto-wire.ts says why); unknown fields are skipped, the last of a repeated scalar wins. */
export function decodeRequest(buf: Buffer): TtrpcRequest {
  const r = new WireReader(buf);
  const req: TtrpcRequest = { service: '', method: '', payload: EMPTY, metadata: new Map() };
  while (!r.done) {
    const [field, wire] = r.key();
    if (field === 1 && wire === 2) req.service = r.string();
    else if (field === 2 && wire === 2) req.method = r.string();
    else if (field === 3 && wire === 2) {
      const [s, e] = r.bytes();
      req.payload = buf.subarray(s, e);
    } else if (field === 5 && wire === 2) {
      // KeyValue { key = 1; value = 2 }
      const [s, e] = r.bytes();
      const kv = new WireReader(buf, s, e);
      let k = '';
      let v = '';
      while (!kv.done) {
        const [f, w] = kv.key();
        if (f === 1 && w === 2) k = kv.string();
        else if (f === 2 && w === 2) v = kv.string();
        else kv.skip(w);
      }
      req.metadata.set(k, v);
    } else r.skip(wire);
  }
  return req;
}

/** Encodes a Request (timeout_nano omitted: our client sets none). */
export function encodeRequest(service: string, method: string, payload: Uint8Array, metadata: Record<string, string> = {}): Buffer {
  const sl = Buffer.byteLength(service);
  const ml = Buffer.byteLength(method);
  const kvs = Object.entries(metadata).map(([k, v]) => {
    const kl = Buffer.byteLength(k);
    const vl = Buffer.byteLength(v);
    return { k, v, kl, vl, size: stringFieldSize(1, kl) + stringFieldSize(2, vl) };
  });
  let size = stringFieldSize(1, sl) + stringFieldSize(2, ml) + (payload.length ? 1 + varintSize(payload.length) + payload.length : 0);
  for (const kv of kvs) size += 1 + varintSize(kv.size) + kv.size;
  const w = new WireWriter(Buffer.allocUnsafe(size));
  if (sl) w.stringField(1, service, sl);
  if (ml) w.stringField(2, method, ml);
  if (payload.length) w.bytesField(3, payload);
  for (const kv of kvs) {
    w.key(5, 2).varint(kv.size);
    if (kv.kl) w.stringField(1, kv.k, kv.kl);
    if (kv.vl) w.stringField(2, kv.v, kv.vl);
  }
  return w.buf;
}

/** ttrpc.Response: a status (google.rpc.Status, code 0 when absent) and the payload. */
export type TtrpcResponse = { code: number; message: string; payload: Buffer };

/** Decodes a Response by hand; Status.details are skipped (ttrpc's own server sends none for our calls). */
export function decodeResponse(buf: Buffer): TtrpcResponse {
  const r = new WireReader(buf);
  const resp: TtrpcResponse = { code: 0, message: '', payload: EMPTY };
  while (!r.done) {
    const [field, wire] = r.key();
    if (field === 1 && wire === 2) {
      const [s, e] = r.bytes();
      const st = new WireReader(buf, s, e);
      while (!st.done) {
        const [f, w] = st.key();
        // gRPC codes are 0–16: never the 10-byte varint of a negative int32.
        if (f === 1 && w === 0) resp.code = st.varint();
        else if (f === 2 && w === 2) resp.message = st.string();
        else st.skip(w);
      }
    } else if (field === 2 && wire === 2) {
      const [s, e] = r.bytes();
      resp.payload = buf.subarray(s, e);
    } else r.skip(wire);
  }
  return resp;
}

/**
 * One Response frame, header included, in one allocation: the payload when code is 0, else a
 * Status { code, message }. Empty fields are omitted, as Go's proto3 marshalling omits them.
 */
export function encodeResponseFrame(streamId: number, code: number, message: string, payload: Uint8Array = EMPTY): Buffer {
  let body: number;
  let statusSize = 0;
  const msgLen = Buffer.byteLength(message);
  if (code === 0) body = payload.length ? 1 + varintSize(payload.length) + payload.length : 0;
  else {
    statusSize = varintFieldSize(1, code) + stringFieldSize(2, msgLen);
    body = 1 + varintSize(statusSize) + statusSize;
  }
  if (body > MAX_FRAME) throw new RangeError(`ttrpc frame of ${body} bytes exceeds ${MAX_FRAME}`);
  const out = Buffer.allocUnsafe(HEADER_SIZE + body);
  out.writeUInt32BE(body, 0);
  out.writeUInt32BE(streamId >>> 0, 4);
  out[8] = MSG_RESPONSE;
  out[9] = 0;
  const w = new WireWriter(out, HEADER_SIZE);
  if (code === 0) {
    if (payload.length) w.bytesField(2, payload);
  } else {
    w.key(1, 2).varint(statusSize);
    if (code) w.key(1, 0).varint(code);
    if (msgLen) w.stringField(2, message, msgLen);
  }
  return out;
}

const EMPTY = Buffer.alloc(0);
