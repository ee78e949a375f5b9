// ttrpc framing (containerd/ttrpc channel.go, PROTOCOL.md): a 10-byte header {uint32 BE length,
// uint32 BE stream id, uint8 type, uint8 flags} then the payload. Pure codec, no sockets.

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
