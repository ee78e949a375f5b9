import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatEvent, formatPorts, humanDuration } from './query';

test('ports as docker ps shows them', () => {
  assert.equal(
    formatPorts([
      { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      { PrivatePort: 443, Type: 'tcp' },
      { IP: '127.0.0.1', PrivatePort: 53, PublicPort: 5353, Type: 'udp' },
    ]),
    '127.0.0.1:5353->53/udp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp, 443/tcp',
  );
  assert.equal(formatPorts([]), '');
});

test('go-units HumanDuration', () => {
  assert.equal(humanDuration(0.5), 'Less than a second');
  assert.equal(humanDuration(1), '1 second');
  assert.equal(humanDuration(42), '42 seconds');
  assert.equal(humanDuration(90), 'About a minute');
  assert.equal(humanDuration(600), '10 minutes');
  assert.equal(humanDuration(4000), 'About an hour');
  assert.equal(humanDuration(3 * 3600), '3 hours');
  assert.equal(humanDuration(3 * 86400), '3 days');
});

test('events as compose prints them, filtered by service', () => {
  const e = { Type: 'container', Action: 'start', Actor: { ID: 'abc', Attributes: { image: 'busybox', name: 'p-web-1', 'com.docker.compose.service': 'web' } }, time: 1700000000, timeNano: 1700000000123456789 };
  assert.equal(formatEvent(e, {}), '2023-11-14 22:13:20.123456 container start abc (image=busybox, name=p-web-1)\n');
  assert.deepEqual(JSON.parse(formatEvent(e, { json: true })!), { time: '2023-11-14T22:13:20.123Z', type: 'container', action: 'start', id: 'abc', service: 'web', attributes: e.Actor.Attributes });
  assert.equal(formatEvent(e, { services: ['db'] }), undefined);
});
