import assert from 'node:assert/strict';
import { test } from 'node:test';
import { projectOf } from './fixtures';
import { hashProjection, serviceHash } from './hash';

const base = 'services:\n  web:\n    image: busybox\n    command: httpd -f\n    ports: ["80"]\n';
const hashOf = (yaml: string) => {
  const p = projectOf(yaml);
  return serviceHash(p.services.web ?? p.disabledServices.web!);
};

test('the hash is a stable SHA-256 of the projection', () => {
  assert.match(hashOf(base), /^[0-9a-f]{64}$/);
  assert.equal(hashOf(base), hashOf(base));
  // Key order in the file does not matter.
  assert.equal(hashOf(base), hashOf('services:\n  web:\n    ports: ["80"]\n    command: [httpd, -f]\n    image: busybox\n'));
});

test('what does not change the container does not change the hash', () => {
  const h = hashOf(base);
  assert.equal(hashOf(`${base}    scale: 3\n`), h);
  assert.equal(hashOf(`${base}    deploy: {replicas: 2}\n`), h);
  assert.equal(hashOf(`${base}    profiles: [x]\n`), h, 'profiles');
  assert.equal(hashOf(`${base}    pull_policy: always\n`), h);
  assert.equal(hashOf(`${base}    build: .\n`), h);
  assert.equal(hashOf(`${base}    depends_on: [db]\n  db: {image: x}\n`), h);
  // Explicit defaults equal absent keys, so a model that learns a field keeps old hashes.
  assert.equal(hashOf(`${base}    privileged: false\n    cap_add: []\n    labels: {}\n`), h);
});

test('what changes the container changes the hash', () => {
  const h = hashOf(base);
  for (const extra of ['    environment: [A=1]\n', '    privileged: true\n', '    user: nobody\n', '    deploy: {resources: {limits: {memory: 1g}}}\n']) {
    assert.notEqual(hashOf(`${base}${extra}`), h, extra);
  }
  assert.notEqual(hashOf(base.replace('"80"', '"81"')), h);
  assert.notEqual(hashOf(base.replace('busybox', 'busybox:1')), h);
});

test('the projection drops excluded and empty members', () => {
  const p = projectOf(`${base}    scale: 2\n    labels: {}\n`);
  assert.deepEqual(hashProjection(p.services.web!), { command: ['httpd', '-f'], image: 'busybox', name: 'web', networks: { default: null }, ports: [{ mode: 'ingress', protocol: 'tcp', target: 80 }] });
});
