// WWW-Authenticate parsing and config.json credential lookup.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseChallenges } from './auth';
import { CredentialStore } from './credentials';

test('parseChallenges: bearer with quoted params, basic, several challenges', () => {
  assert.deepEqual(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'), [
    { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
  ]);
  assert.deepEqual(parseChallenges('Basic realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  assert.deepEqual(parseChallenges('Bearer realm="a\\"b", error="invalid_token"'), [{ scheme: 'bearer', params: { realm: 'a"b', error: 'invalid_token' } }]);
});

test('credentials: docker.io under the v1 key, scheme-insensitive lookup, identity tokens', async () => {
  const dir = await fs.mkdtemp(path.join(tmpdir(), 'dock-creds-'));
  try {
    const file = path.join(dir, 'config.json');
    await fs.writeFile(file, JSON.stringify({ auths: { 'https://quay.io': { auth: Buffer.from('u:p:with:colons').toString('base64') }, 'ghcr.io': { identitytoken: 'tok' } }, credsStore: 'keep-me' }));
    const s = new CredentialStore(file);
    assert.deepEqual(await s.get('quay.io'), { username: 'u', password: 'p:with:colons' });
    assert.deepEqual(await s.get('ghcr.io'), { identitytoken: 'tok' });
    assert.equal(await s.get('docker.io'), undefined);
    await s.set('docker.io', 'me', 'pw');
    const cfg = JSON.parse(await fs.readFile(file, 'utf8'));
    assert.equal(cfg.auths['https://index.docker.io/v1/'].auth, Buffer.from('me:pw').toString('base64'));
    assert.equal(cfg.credsStore, 'keep-me');
    assert.deepEqual(await s.get('docker.io'), { username: 'me', password: 'pw' });
    assert.equal(await s.remove('docker.io'), true);
    assert.equal(await s.remove('docker.io'), false);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
