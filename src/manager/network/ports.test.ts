import assert from 'node:assert/strict';
import { test } from 'node:test';
import { candidates, findClash, parseHostPort, portMap, publishAllBindings } from './ports';

test('host port specs: random, fixed, range; bad ones in dockerd words', () => {
  assert.deepEqual(parseHostPort(''), { kind: 'random' });
  assert.deepEqual(parseHostPort('0'), { kind: 'random' });
  assert.deepEqual(parseHostPort('8080'), { kind: 'fixed', port: 8080 });
  assert.deepEqual(parseHostPort('8000-8002'), { kind: 'range', from: 8000, to: 8002 });
  assert.throws(() => parseHostPort('70000'), /Invalid hostPort: 70000/);
  assert.throws(() => parseHostPort('9-1'), /Invalid hostPort: 9-1/);
});

test('random ports start at the range start and continue after the last one handed out', () => {
  assert.deepEqual(candidates({ kind: 'random' }, { from: 100, to: 103 }, undefined), [100, 101, 102, 103]);
  assert.deepEqual(candidates({ kind: 'random' }, { from: 100, to: 103 }, 101), [102, 103, 100, 101]);
  assert.deepEqual(candidates({ kind: 'random' }, { from: 100, to: 103 }, 103), [100, 101, 102, 103]);
});

test('clashes: wildcard against everything of its family, per protocol', () => {
  const held = [{ proto: 'tcp' as const, hostIp: '0.0.0.0', hostPort: 80, owner: 'a' }];
  assert.equal(findClash(held, 'tcp', '127.0.0.1', 80)?.owner, 'a');
  assert.equal(findClash(held, 'udp', '0.0.0.0', 80), undefined);
  assert.equal(findClash(held, 'tcp', '::', 80), undefined);
  assert.equal(findClash([{ proto: 'tcp', hostIp: '127.0.0.1', hostPort: 80, owner: 'b' }], 'tcp', '127.0.0.2', 80), undefined);
});

test('port map and -P', () => {
  const b = publishAllBindings(['80/tcp', '53/udp'], [{ containerPort: 80, hostPort: '8080' }]);
  assert.deepEqual(b, [{ containerPort: 80, hostPort: '8080' }, { containerPort: 53, proto: 'udp', hostIp: '', hostPort: '' }]);
  assert.deepEqual(portMap([{ containerPort: 80, proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, networkId: 'n', containerIp: '1.1.1.1' }], ['80/tcp', '53/udp']), {
    '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }],
    '53/udp': null,
  });
});
