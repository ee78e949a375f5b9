import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeFiles } from './merge';

test('mappings merge, scalars override, plain sequences append', () => {
  const m = mergeFiles([
    { services: { a: { image: 'x', cap_add: ['A'], expose: ['80'] } }, volumes: { v: {} } },
    { services: { a: { image: 'y', cap_add: ['B', 'A'], expose: ['81'] }, b: { image: 'z' } } },
  ]);
  assert.deepEqual(m, { services: { a: { image: 'y', cap_add: ['A', 'B'], expose: ['80', '81'] }, b: { image: 'z' } }, volumes: { v: {} } });
});

test('command, entrypoint and healthcheck.test are replaced', () => {
  const m = mergeFiles([
    { services: { a: { command: ['a', 'b'], entrypoint: 'sh', healthcheck: { test: ['CMD', 'x'], retries: 3 } } } },
    { services: { a: { command: ['c'], entrypoint: ['bash'], healthcheck: { test: 'y' } } } },
  ]);
  assert.deepEqual(m.services, { a: { command: ['c'], entrypoint: ['bash'], healthcheck: { test: 'y', retries: 3 } } });
});

test('environment and labels merge by key whatever their syntax; last definition wins', () => {
  const m = mergeFiles([{ services: { a: { environment: { A: '1', B: '1' }, labels: ['x=1'] } } }, { services: { a: { environment: ['B=2', 'C=3'], labels: { x: '2', y: '' } } } }]);
  const s = (m.services as Record<string, Record<string, unknown>>).a!;
  assert.deepEqual(s.environment, ['A=1', 'B=2', 'C=3']);
  assert.deepEqual(s.labels, ['x=2', 'y=']);
});

test('volumes merge by target, ports by their spec', () => {
  const m = mergeFiles([
    { services: { a: { volumes: ['./a:/data', '/cache', { type: 'volume', source: 'v', target: '/v' }], ports: ['80:80'] } } },
    { services: { a: { volumes: ['./b:/data', { type: 'bind', source: '/h', target: '/v' }], ports: ['80:80', '443:443'] } } },
  ]);
  const s = (m.services as Record<string, Record<string, unknown>>).a!;
  assert.deepEqual(s.volumes, ['./b:/data', '/cache', { type: 'bind', source: '/h', target: '/v' }]);
  assert.deepEqual(s.ports, ['80:80', '443:443']);
});

test('depends_on and networks: lists and mappings merge', () => {
  const m = mergeFiles([{ services: { a: { depends_on: ['db'], networks: ['front'] } } }, { services: { a: { depends_on: { cache: { condition: 'service_healthy' } }, networks: { back: { aliases: ['x'] } } } } }]);
  const s = (m.services as Record<string, Record<string, unknown>>).a!;
  assert.deepEqual(s.depends_on, { db: { condition: 'service_started', required: true }, cache: { condition: 'service_healthy' } });
  assert.deepEqual(s.networks, { front: null, back: { aliases: ['x'] } });
});

test('logging options merge only for the same driver; build string and mapping merge', () => {
  const same = mergeFiles([{ services: { a: { logging: { driver: 'json-file', options: { 'max-size': '1m' } } } } }, { services: { a: { logging: { options: { 'max-file': '2' } } } } }]);
  assert.deepEqual((same.services as Record<string, Record<string, unknown>>).a!.logging, { driver: 'json-file', options: { 'max-size': '1m', 'max-file': '2' } });
  const other = mergeFiles([{ services: { a: { logging: { driver: 'json-file', options: { a: '1' } } } } }, { services: { a: { logging: { driver: 'syslog' } } } }]);
  assert.deepEqual((other.services as Record<string, Record<string, unknown>>).a!.logging, { driver: 'syslog' });
  const b = mergeFiles([{ services: { a: { build: '.' } } }, { services: { a: { build: { dockerfile: 'D', args: { X: '1' } } } } }]);
  assert.deepEqual((b.services as Record<string, Record<string, unknown>>).a!.build, { context: '.', dockerfile: 'D', args: { X: '1' } });
});
