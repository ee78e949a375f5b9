// containerd.task.v2 StateRequest and StateResponse (proto/task.proto) coded by hand: State is the
// call containerd makes most (two per CRI PodSandboxStatus: task Get, then task Status) and it
// reaches an idle daemon; proto-wire.ts says why protobufjs is kept off that path. Pure.
import { stringFieldSize, varintFieldSize, WireReader, WireWriter } from './proto-wire';

export type StateRequest = { id: string; execId: string };

export type StateResponse = {
  id: string;
  bundle: string;
  pid: number;
  status: number;
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
  exitStatus: number;
  /** Absent while the process runs. */
  exitedAt?: Date;
  execId: string;
};

/** StateRequest { string id = 1; string exec_id = 2; } */
export function decodeStateRequest(buf: Buffer): StateRequest {
  const r = new WireReader(buf);
  const req: StateRequest = { id: '', execId: '' };
  while (!r.done) {
    const [field, wire] = r.key();
    if (field === 1 && wire === 2) req.id = r.string();
    else if (field === 2 && wire === 2) req.execId = r.string();
    else r.skip(wire);
  }
  return req;
}

/** StateResponse in field order, defaults omitted (as Go's proto3 marshalling does). */
export function encodeStateResponse(s: StateResponse): Buffer {
  const strs: [number, string][] = [
    [1, s.id],
    [2, s.bundle],
    [5, s.stdin],
    [6, s.stdout],
    [7, s.stderr],
    [11, s.execId],
  ];
  const lens = strs.map(([, v]) => Buffer.byteLength(v));
  // google.protobuf.Timestamp { int64 seconds = 1; int32 nanos = 2; }
  let seconds = 0;
  let nanos = 0;
  let tsSize = 0;
  if (s.exitedAt) {
    const ms = s.exitedAt.getTime();
    seconds = Math.floor(ms / 1000);
    nanos = (ms - seconds * 1000) * 1e6;
    tsSize = varintFieldSize(1, seconds) + varintFieldSize(2, nanos);
  }
  let size = varintFieldSize(3, s.pid) + varintFieldSize(4, s.status) + (s.terminal ? 2 : 0) + varintFieldSize(9, s.exitStatus);
  strs.forEach(([f], i) => (size += stringFieldSize(f, lens[i]!)));
  if (s.exitedAt) size += 1 + 1 + tsSize; // key 10 and a length below 128
  const w = new WireWriter(Buffer.allocUnsafe(size));
  const str = (i: number) => {
    if (lens[i]) w.stringField(strs[i]![0], strs[i]![1], lens[i]!);
  };
  str(0);
  str(1);
  if (s.pid) w.key(3, 0).varint(s.pid);
  if (s.status) w.key(4, 0).varint(s.status);
  str(2);
  str(3);
  str(4);
  if (s.terminal) w.key(8, 0).varint(1);
  if (s.exitStatus) w.key(9, 0).varint(s.exitStatus);
  if (s.exitedAt) {
    w.key(10, 2).varint(tsSize);
    if (seconds) w.key(1, 0).varint(seconds);
    if (nanos) w.key(2, 0).varint(nanos);
  }
  str(5);
  return w.buf;
}
