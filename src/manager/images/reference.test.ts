// Reference parsing against distribution/reference's documented normalization cases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { familiarString, formatReference, parseNormalized, parseReference } from './reference';

const D = 'sha256:' + 'a'.repeat(64);

test('docker defaults: docker.io/library/ and latest', () => {
  const cases: [string, string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['user/app', 'docker.io/user/app:latest', 'user/app:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['localhost/foo', 'localhost/foo:latest', 'localhost/foo:latest'],
    ['127.0.0.1:5000/a/b/c:v1', '127.0.0.1:5000/a/b/c:v1', '127.0.0.1:5000/a/b/c:v1'],
    ['localhost:5000/x', 'localhost:5000/x:latest', 'localhost:5000/x:latest'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`, `busybox@${D}`],
    [`busybox:1@${D}`, `docker.io/library/busybox:1@${D}`, `busybox:1@${D}`],
    ['quay.io/a_b/c-d.e__f', 'quay.io/a_b/c-d.e__f:latest', 'quay.io/a_b/c-d.e__f:latest'],
    ['Foo.com/bar', 'Foo.com/bar:latest', 'Foo.com/bar:latest'],
  ];
  for (const [input, full, familiar] of cases) {
    const r = parseReference(input);
    assert.equal(formatReference(r), full, input);
    assert.equal(familiarString(r), familiar, input);
  }
  assert.equal(parseNormalized('busybox').tag, undefined);
});

test('malformed references are refused with docker wording', () => {
  for (const bad of ['', 'UPPER', 'a//b', 'a:b:c', 'busybox@sha256:abc', 'busybox:', ':tag', 'a/B', '-a', 'a..b', 'busybox:' + 'x'.repeat(129)]) {
    assert.throws(() => parseReference(bad), (e: Error & { kind?: string }) => e.kind === 'InvalidArgument', bad);
  }
  assert.throws(() => parseReference('Busybox'), /repository name \(library\/Busybox\) must be lowercase/);
  assert.throws(() => parseReference('a'.repeat(64)), /64-byte hexadecimal/);
  assert.throws(() => parseReference('x/' + 'a'.repeat(260)), /not be more than 255/);
});
