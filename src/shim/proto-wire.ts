// Protobuf wire format by hand (protobuf.dev/programming-guides/encoding) for the messages on the
// shim's hot path: the ttrpc envelope and State. Everything else goes through protobufjs
// (messages.ts). No sockets, no task logic.
//
// Why: a CRI PodSandboxStatus costs two State calls, each reaching a daemon idle since the last
// call, where all JS runs cold. Timed 20 ms apart by a client on the socket, the protobufjs path
// (decode + toObject, fromObject + encode, an object per field) answered in ~600 µs, a bare Node
// echo server in ~280 µs, runc's Go shim in ~370 µs (issue 16); these touch one buffer.

/** Thrown for bytes that are not a valid message. */
export class WireError extends Error {}

/** A cursor over one message's bytes. */
export class WireReader {
  pos: number;

  constructor(readonly buf: Buffer, start = 0, readonly end = buf.length) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint as a number: exact up to 2^53, which covers every field we read. */
  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError('truncated varint');
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
    throw new WireError('varint longer than 10 bytes');
  }

  /** A field's key: [field number, wire type]. */
  key(): [number, number] {
    const k = this.varint();
    return [Math.floor(k / 8), k & 7];
  }

  /** The bounds of a length-delimited field's body, after its key. */
  bytes(): [number, number] {
    const n = this.varint();
    const start = this.pos;
    if (start + n > this.end) throw new WireError('truncated length-delimited field');
    this.pos = start + n;
    return [start, start + n];
  }

  string(): string {
    const [s, e] = this.bytes();
    return this.buf.toString('utf8', s, e);
  }

  /** Skips a field of an unknown number (groups, wire types 3 and 4, are refused as protobufjs's reader does for proto3). */
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new WireError(`unsupported wire type ${wire}`);
    if (this.pos > this.end) throw new WireError('truncated field');
  }
}

/** Bytes a varint of v (0 ≤ v < 2^53) takes. */
export function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** A writer into a buffer sized beforehand (sizes come from the same fields, so it never grows). */
export class WireWriter {
  pos: number;

  constructor(readonly buf: Buffer, start = 0) {
    this.pos = start;
  }

  varint(v: number): this {
    while (v >= 128) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
    return this;
  }

  key(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }

  /** A length-delimited field of raw bytes. */
  bytesField(field: number, b: Uint8Array): this {
    this.key(field, 2).varint(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** A string field whose UTF-8 length is len. */
  stringField(field: number, s: string, len: number): this {
    this.key(field, 2).varint(len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
    return this;
  }
}

/** Size of a string field (key, length, body), 0 for '' as proto3 omits it. */
export function stringFieldSize(field: number, len: number): number {
  return len === 0 ? 0 : varintSize(field * 8) + varintSize(len) + len;
}

/** Size of a varint field, 0 for 0 as proto3 omits it. */
export function varintFieldSize(field: number, v: number): number {
  return v === 0 ? 0 : varintSize(field * 8) + varintSize(v);
}
