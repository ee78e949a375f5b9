import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { displayName, LogPrinter, readLines } from './logs';

function sink(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  return { out, text: () => Buffer.concat(chunks).toString() };
}

test('prefixes are padded to the longest name + 1, as compose v2 prints them', () => {
  const s = sink();
  const p = new LogPrinter(s.out, { color: false });
  p.register(['web-1', 'db-1']);
  p.line('web-1', 'hello');
  p.line('db-1', 'ready');
  p.status('web-1', 'exited with code 0');
  assert.equal(s.text(), 'web-1  | hello\ndb-1   | ready\nweb-1 exited with code 0\n');
});

test('colours follow compose v2 rainbow order; no prefix on request', () => {
  const s = sink();
  const p = new LogPrinter(s.out, { color: true });
  p.register(['a-1', 'b-1']);
  p.line('a-1', 'x');
  p.line('b-1', 'y');
  assert.equal(s.text(), '\x1b[36ma-1  | \x1b[0mx\n\x1b[33mb-1  | \x1b[0my\n');
  const q = sink();
  new LogPrinter(q.out, { color: true, prefix: false }).line('a-1', 'z');
  assert.equal(q.text(), 'z\n');
});

test('display names drop the project prefix unless container_name was set', () => {
  const labels = { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web', 'com.docker.compose.container-number': '2' };
  assert.equal(displayName({ name: 'shop-web-2', labels }), 'web-2');
  assert.equal(displayName({ name: 'custom', labels }), 'custom');
});

test('readLines splits raw and multiplexed streams into lines, whatever the chunking', async () => {
  const raw = new PassThrough();
  const got: string[] = [];
  const done = readLines(raw, false, (l) => got.push(l));
  raw.write('he');
  raw.write('llo\r\nwor');
  raw.end('ld');
  await done;
  assert.deepEqual(got, ['hello', 'world']);

  const frame = (stream: number, s: string) => {
    const b = Buffer.from(s);
    const h = Buffer.alloc(8);
    h[0] = stream;
    h.writeUInt32BE(b.length, 4);
    return Buffer.concat([h, b]);
  };
  const mux = new PassThrough();
  const lines: string[] = [];
  const d2 = readLines(mux, true, (l, st) => lines.push(`${st}:${l}`));
  const all = Buffer.concat([frame(1, 'out1\nou'), frame(2, 'err\n'), frame(1, 't2\n')]);
  for (let i = 0; i < all.length; i += 5) mux.write(all.subarray(i, i + 5));
  mux.end();
  await d2;
  assert.deepEqual(lines, ['1:out1', '2:err', '1:out2']);
});
