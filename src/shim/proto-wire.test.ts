// The hand-written codecs (ttrpc envelope, State) against protobufjs reading our .proto files: what
// one side encodes the other must decode field for field, unknown fields included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode } from './messages';
import { WireError, WireReader } from './proto-wire';
import { decodeStateRequest, encodeStateResponse } from './state-codec';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponseFrame, HEADER_SIZE, MSG_RESPONSE } from './ttrpc-codec';

const T = 'containerd.task.v2.';

test('decodeRequest reads what protobufjs writes, timeout and unknown fields skipped', () => {
  const payload = Buffer.alloc(300, 7);
  const b = encode('ttrpc.Request', {
    service: 'containerd.task.v2.Task',
    method: 'State',
    payload,
    timeoutNano: 2 ** 40 + 3,
    metadata: [
      { key: 'containerd-namespace-ttrpc', value: 'k8s.io' },
      { key: 'ключ', value: 'значение' },
    ],
  });
  // field 9, varint, and field 10, fixed32: not in ttrpc.Request, must be skipped
  const withUnknown = Buffer.concat([b, Buffer.from([0x48, 0x96, 0x01, 0x55, 1, 2, 3, 4])]);
  const r = decodeRequest(withUnknown);
  assert.equal(r.service, 'containerd.task.v2.Task');
  assert.equal(r.method, 'State');
  assert.deepEqual(r.payload, payload);
  assert.equal(r.metadata.get('containerd-namespace-ttrpc'), 'k8s.io');
  assert.equal(r.metadata.get('ключ'), 'значение');
});

test('encodeRequest is read back by protobufjs', () => {
  const b = encodeRequest('s.S', 'M', Buffer.from([1, 2, 3]), { a: 'b', 'containerd-namespace-ttrpc': 'default' });
  const d = decode<{ service: string; method: string; payload: Uint8Array; metadata: { key: string; value: string }[] }>('ttrpc.Request', b);
  assert.equal(d.service, 's.S');
  assert.equal(d.method, 'M');
  assert.deepEqual([...d.payload], [1, 2, 3]);
  assert.deepEqual(d.metadata, [
    { key: 'a', value: 'b' },
    { key: 'containerd-namespace-ttrpc', value: 'default' },
  ]);
  assert.equal(decodeRequest(encodeRequest('s', 'm', Buffer.alloc(0))).payload.length, 0);
});

test('response frames: header, OK payload, error status; both directions against protobufjs', () => {
  const ok = encodeResponseFrame(9, 0, '', Buffer.from('pay'));
  assert.equal(ok.readUInt32BE(0), ok.length - HEADER_SIZE);
  assert.equal(ok.readUInt32BE(4), 9);
  assert.equal(ok[8], MSG_RESPONSE);
  const d = decode<{ status: unknown; payload: Uint8Array }>('ttrpc.Response', ok.subarray(HEADER_SIZE));
  assert.equal(Buffer.from(d.payload).toString(), 'pay');
  assert.equal(d.status, null);
  const err = encodeResponseFrame(11, 5, 'container x: not found ✗');
  const e = decode<{ status: { code: number; message: string } }>('ttrpc.Response', err.subarray(HEADER_SIZE));
  assert.deepEqual({ code: e.status.code, message: e.status.message }, { code: 5, message: 'container x: not found ✗' });
  assert.equal(encodeResponseFrame(1, 0, '').length, HEADER_SIZE);

  const fromJs = encode('ttrpc.Response', { status: { code: 9, message: 'not running', details: [{ type_url: 'x', value: Buffer.from([1]) }] } });
  assert.deepEqual(decodeResponse(fromJs), { code: 9, message: 'not running', payload: Buffer.alloc(0) });
  assert.equal(decodeResponse(encode('ttrpc.Response', { payload: Buffer.from('xyz') })).payload.toString(), 'xyz');
});

test('StateRequest and StateResponse match protobufjs, with and without an exit', () => {
  const req = decodeStateRequest(encode(T + 'StateRequest', { id: 'c1', execId: 'e1' }));
  assert.deepEqual(req, { id: 'c1', execId: 'e1' });
  assert.deepEqual(decodeStateRequest(Buffer.alloc(0)), { id: '', execId: '' });
  const running = {
    id: 'c1',
    bundle: '/run/containerd/io.containerd.runtime.v2.task/k8s.io/c1',
    pid: 4_000_000,
    status: 2,
    stdin: '',
    stdout: '/fifo/out',
    stderr: '/fifo/err',
    terminal: true,
    exitStatus: 0,
    execId: '',
  };
  const r = decode<Record<string, unknown>>(T + 'StateResponse', encodeStateResponse(running));
  assert.deepEqual(r, { ...running, exitedAt: null });
  const exited = { ...running, id: 'e1', execId: 'e1', status: 3, terminal: false, exitStatus: 137, exitedAt: new Date(1_733_300_000_123) };
  const x = decode<Record<string, unknown>>(T + 'StateResponse', encodeStateResponse(exited));
  assert.deepEqual(x, { ...exited, exitedAt: { seconds: 1_733_300_000, nanos: 123_000_000 } });
});

test('truncated or malformed input throws WireError', () => {
  const b = encode(T + 'StateRequest', { id: 'container-id', execId: '' });
  assert.throws(() => decodeStateRequest(b.subarray(0, 8)), WireError);
  assert.throws(() => decodeRequest(Buffer.from([0x0a, 0x80])), WireError);
  assert.throws(() => decodeRequest(Buffer.from([0x0b])), WireError); // wire type 3: a group
  assert.throws(() => new WireReader(Buffer.alloc(11, 0xff)).varint(), WireError);
});
