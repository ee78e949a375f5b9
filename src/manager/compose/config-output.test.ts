import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { renderConfig, renderHashes, renderServices, renderVolumes } from './config-output';
import { projectOf } from './fixtures';
import { serviceHash } from './hash';

const YAML = 'name: cfg\nservices:\n  web:\n    image: "busybox:${TAG:-1}"\n    ports: ["80"]\n    volumes: [data:/d, logs:/l]\n    stop_grace_period: 90s\n  db: {image: db}\nvolumes:\n  logs: {}\n  data: {}\n';

test('config prints the normalized model, which loads back to the same model', () => {
  const p = projectOf(YAML);
  const text = renderConfig(p);
  const doc = parse(text) as { name: string; services: Record<string, Record<string, unknown>>; volumes: Record<string, unknown> };
  assert.equal(doc.name, 'cfg');
  assert.deepEqual(Object.keys(doc.services), ['db', 'web']);
  assert.equal(doc.services.web!.image, 'busybox:1');
  assert.equal(doc.services.web!.stop_grace_period, '1m30s');
  assert.deepEqual(doc.services.web!.ports, [{ mode: 'ingress', target: 80, protocol: 'tcp' }]);
  assert.deepEqual(doc.volumes, { data: { name: 'cfg_data' }, logs: { name: 'cfg_logs' } });
  const again = projectOf(text);
  assert.deepEqual(again.services.web, p.services.web);
  assert.equal(serviceHash(again.services.web!), serviceHash(p.services.web!));
  assert.deepEqual(JSON.parse(renderConfig(p, 'json')).services.db.image, 'db');
});

test('--services, --volumes and --hash listings', () => {
  const p = projectOf(YAML);
  assert.equal(renderServices(p), 'web\ndb\n');
  assert.equal(renderVolumes(p), 'data\nlogs\n');
  assert.equal(renderHashes(p, 'web'), `web ${serviceHash(p.services.web!)}\n`);
  assert.equal(renderHashes(p, '*').split('\n').length, 3);
  assert.throws(() => renderHashes(p, 'nope'), /no such service: nope/);
});
