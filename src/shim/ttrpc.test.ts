// ttrpc codec and server/client: frame layout, split and merged chunks, concurrent out-of-order
// calls on one connection, unknown methods (code 12), handler errors mapped to codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { errors } from '../errors/index';
import { encodeFrame, FrameDecoder, FrameTooLarge, HEADER_SIZE, MAX_FRAME, MSG_REQUEST } from './ttrpc-codec';
import { Code, TtrpcServer } from './ttrpc-server';
import { TtrpcClient, TtrpcError } from './ttrpc-client';

test('frame header is length, stream id, type, flags, big-endian', () => {
  const f = encodeFrame({ streamId: 7, type: MSG_REQUEST, flags: 0, payload: Buffer.from('abc') });
  assert.deepEqual([...f.subarray(0, HEADER_SIZE)], [0, 0, 0, 3, 0, 0, 0, 7, 1, 0]);
  assert.equal(f.subarray(HEADER_SIZE).toString(), 'abc');
});

test('decoder reassembles frames split byte by byte and merged in one chunk', () => {
  const a = encodeFrame({ streamId: 1, type: 1, flags: 0, payload: Buffer.from('hello') });
  const b = encodeFrame({ streamId: 3, type: 2, flags: 0, payload: Buffer.alloc(0) });
  const c = encodeFrame({ streamId: 5, type: 1, flags: 0, payload: Buffer.alloc(70000, 9) });
  const all = Buffer.concat([a, b, c]);
  const d1 = new FrameDecoder();
  const got = [];
  for (const byte of all) got.push(...d1.push(Buffer.from([byte])));
  assert.deepEqual(got.map((f) => [f.streamId, f.type, f.payload.length]), [[1, 1, 5], [3, 2, 0], [5, 1, 70000]]);
  const d2 = new FrameDecoder();
  const merged = d2.push(all);
  assert.equal(merged.length, 3);
  assert.equal(merged[0]!.payload.toString(), 'hello');
  assert.ok(merged[2]!.payload.every((x) => x === 9));
});

test('decoder: a chunk holding exactly one frame, then a frame split across chunks', () => {
  const d = new FrameDecoder();
  const one = d.push(encodeFrame({ streamId: 3, type: 1, flags: 2, payload: Buffer.from('abc') }));
  assert.deepEqual(one.map((f) => [f.streamId, f.type, f.flags, f.payload.toString()]), [[3, 1, 2, 'abc']]);
  const b = encodeFrame({ streamId: 5, type: 1, flags: 0, payload: Buffer.from('defgh') });
  assert.deepEqual(d.push(b.subarray(0, 12)), []);
  assert.deepEqual(d.push(b.subarray(12)).map((f) => f.payload.toString()), ['defgh']);
  const head = Buffer.alloc(HEADER_SIZE);
  head.writeUInt32BE(MAX_FRAME + 1, 0);
  assert.throws(() => new FrameDecoder().push(Buffer.concat([head, Buffer.alloc(1)])), FrameTooLarge);
});

test('frames above 4 MiB are refused on both sides', () => {
  assert.throws(() => encodeFrame({ streamId: 1, type: 1, flags: 0, payload: Buffer.alloc(MAX_FRAME + 1) }), RangeError);
  const head = Buffer.alloc(HEADER_SIZE);
  head.writeUInt32BE(MAX_FRAME + 1, 0);
  head.writeUInt32BE(9, 4);
  assert.throws(() => new FrameDecoder().push(head), FrameTooLarge);
});

async function pair(server: TtrpcServer): Promise<{ client: TtrpcClient; done: () => void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ttrpc-'));
  const sockPath = path.join(dir, 's');
  const listener = net.createServer();
  server.serve(listener);
  await new Promise<void>((r) => listener.listen(sockPath, r));
  const client = await TtrpcClient.connect(`unix://${sockPath}`);
  return {
    client,
    done: () => {
      client.close();
      server.closeAll();
      listener.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('concurrent calls complete out of order on one connection', async () => {
  const server = new TtrpcServer();
  const release: (() => void)[] = [];
  server.register('t.S', {
    Slow: (p) => new Promise((r) => release.push(() => r(Buffer.concat([Buffer.from('slow:'), p])))),
    Fast: async (p) => Buffer.concat([Buffer.from('fast:'), p]),
  });
  const { client, done } = await pair(server);
  try {
    const order: string[] = [];
    const slow = client.call('t.S', 'Slow', Buffer.from('1')).then((b) => order.push(b.toString()));
    const fast = client.call('t.S', 'Fast', Buffer.from('2')).then((b) => order.push(b.toString()));
    await fast;
    assert.deepEqual(order, ['fast:2']);
    while (release.length === 0) await new Promise((r) => setImmediate(r));
    release[0]!();
    await slow;
    assert.deepEqual(order, ['fast:2', 'slow:1']);
  } finally {
    done();
  }
});

test('unknown service or method answers code 12; errors map to errdefs codes', async () => {
  const server = new TtrpcServer();
  let seenNs = '';
  server.register('t.S', {
    Missing: async () => {
      throw errors.notFound('container x does not exist');
    },
    Precondition: async () => {
      throw errors.precondition('container x is not running');
    },
    Meta: async (_p, ctx) => {
      seenNs = ctx.metadata.get('containerd-namespace-ttrpc') ?? '';
      return Buffer.alloc(0);
    },
  });
  const { client, done } = await pair(server);
  try {
    await assert.rejects(client.call('t.S', 'Nope', Buffer.alloc(0)), (e: TtrpcError) => e.code === Code.Unimplemented);
    await assert.rejects(client.call('t.Other', 'Missing', Buffer.alloc(0)), (e: TtrpcError) => e.code === 12);
    await assert.rejects(client.call('t.S', 'Missing', Buffer.alloc(0)), (e: TtrpcError) => e.code === 5 && /does not exist/.test(e.message));
    await assert.rejects(client.call('t.S', 'Precondition', Buffer.alloc(0)), (e: TtrpcError) => e.code === 9);
    const empty = await client.call('t.S', 'Meta', Buffer.alloc(0), { 'containerd-namespace-ttrpc': 'ns1' });
    assert.equal(empty.length, 0);
    assert.equal(seenNs, 'ns1');
  } finally {
    done();
  }
});
