import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, parseBytes, parseDuration, parsePortSpec, parseVolumeSpec, shellSplit } from './syntax';

test('short port syntax', () => {
  assert.deepEqual(parsePortSpec(80), [{ mode: 'ingress', target: 80, protocol: 'tcp' }]);
  assert.deepEqual(parsePortSpec('8080:80/udp'), [{ mode: 'ingress', target: 80, protocol: 'udp', published: '8080' }]);
  assert.deepEqual(parsePortSpec('127.0.0.1::80'), [{ mode: 'ingress', target: 80, protocol: 'tcp', host_ip: '127.0.0.1' }]);
  assert.deepEqual(parsePortSpec('[::1]:9000:90'), [{ mode: 'ingress', target: 90, protocol: 'tcp', host_ip: '::1', published: '9000' }]);
  assert.deepEqual(parsePortSpec('8000-8001:80-81').map((p) => `${p.published}:${p.target}`), ['8000:80', '8001:81']);
  assert.deepEqual(parsePortSpec('3000-3002').map((p) => p.target), [3000, 3001, 3002]);
  // A host range with one container port: the engine picks a free port of the range.
  assert.deepEqual(parsePortSpec('8000-8002:80'), [{ mode: 'ingress', target: 80, protocol: 'tcp', published: '8000-8002' }]);
  assert.throws(() => parsePortSpec('8000-8001:80-82'), /port ranges don't match in length/);
  assert.throws(() => parsePortSpec('80/icmp'), /invalid proto "icmp"/);
  assert.throws(() => parsePortSpec('0:80'), /invalid host port range "0"/);
  assert.throws(() => parsePortSpec('a:b:c:d'), /invalid port spec/);
});

test('short volume syntax', () => {
  assert.deepEqual(parseVolumeSpec('./data:/data:ro', '/p'), { type: 'bind', source: '/p/data', target: '/data', read_only: true, bind: { create_host_path: true } });
  assert.deepEqual(parseVolumeSpec('/abs:/x/', '/p'), { type: 'bind', source: '/abs', target: '/x/', bind: { create_host_path: true } });
  assert.deepEqual(parseVolumeSpec('db:/var/lib/db:nocopy', '/p'), { type: 'volume', source: 'db', target: '/var/lib/db', volume: { nocopy: true } });
  assert.deepEqual(parseVolumeSpec('/cache', '/p'), { type: 'volume', target: '/cache' });
  assert.deepEqual(parseVolumeSpec('../up:/u:rw,z,rshared', '/p/q'), { type: 'bind', source: '/p/up', target: '/u', bind: { create_host_path: true, selinux: 'z', propagation: 'rshared' } });
  assert.throws(() => parseVolumeSpec('data:relative', '/p'), /the mount target must be an absolute path/);
  assert.throws(() => parseVolumeSpec('a:/b:bogus', '/p'), /unknown option "bogus"/);
});

test('durations: Go syntax in, canonical Go form out', () => {
  assert.equal(parseDuration('1m30s'), 90e9);
  assert.equal(parseDuration('1.5s'), 1.5e9);
  assert.equal(parseDuration('100ms'), 100e6);
  assert.equal(parseDuration('1h2m3s4ms'), 3723.004e9);
  assert.equal(parseDuration(10), 10e9);
  assert.throws(() => parseDuration('10 s'), /invalid duration "10 s"/);
  assert.equal(formatDuration(90e9), '1m30s');
  assert.equal(formatDuration(1.5e9), '1.5s');
  assert.equal(formatDuration(100e6), '100ms');
  assert.equal(formatDuration(3600e9), '1h0m0s');
  assert.equal(formatDuration(0), '0s');
});

test('byte sizes', () => {
  assert.equal(parseBytes('512m'), 512 * 1024 ** 2);
  assert.equal(parseBytes('1g'), 1024 ** 3);
  assert.equal(parseBytes('64kb'), 65536);
  assert.equal(parseBytes(1000), 1000);
  assert.throws(() => parseBytes('lots'), /invalid size "lots"/);
});

test('command strings split like a shell', () => {
  assert.deepEqual(shellSplit(`httpd -f -p 80`), ['httpd', '-f', '-p', '80']);
  assert.deepEqual(shellSplit(`sh -c 'echo "a b" && x'`), ['sh', '-c', 'echo "a b" && x']);
  assert.deepEqual(shellSplit(`echo "a \\"q\\" $b" c\\ d ''`), ['echo', 'a "q" $b', 'c d', '']);
  assert.throws(() => shellSplit(`echo 'open`), /unterminated quote/);
});
