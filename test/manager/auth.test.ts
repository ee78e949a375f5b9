// Token auth against a real registry configured with distribution's token auth and a test token
// server: anonymous pull, refused anonymous push, dock login/logout with config.json, push after login.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { dock } from './dock';
import { makeBusyboxLayout, skopeoCopy, skopeoSkipReason } from './images';
import { registrySkipReason, startRegistry, type Registry } from './registry';
import { startTokenServer, type TokenServer } from './token-server';

const skip = registrySkipReason() ?? skopeoSkipReason();
let work: string;
let tokens: TokenServer;
let reg: Registry;
let root: string;
let env: NodeJS.ProcessEnv;
const PASSWORD = 's3cret-Pa55';

before(async () => {
  if (skip) return;
  work = await fs.mkdtemp(path.join(tmpdir(), 'dock-auth-'));
  root = path.join(work, 'root');
  env = { DOCKER_CONFIG: path.join(work, 'docker-config') };
  tokens = await startTokenServer(work, { alice: PASSWORD });
  reg = await startRegistry({ auth: { token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertBundle: tokens.certPath } } });
  const layout = path.join(work, 'bb');
  await makeBusyboxLayout(work, layout);
  await skopeoCopy(`oci:${layout}:busybox`, `docker://${reg.host}/library/busybox:latest`, ['--dest-creds', `alice:${PASSWORD}`]);
});
after(async () => {
  if (skip) return;
  await reg?.stop();
  await tokens?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

test('token auth: anonymous pull gets a pull token', { skip }, async () => {
  const r = await dock(root, ['pull', `${reg.host}/library/busybox`], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(tokens.requests.some((q) => !q.authorization && q.url.includes('scope=repository%3Alibrary%2Fbusybox%3Apull')));
});

test('token auth: anonymous push is refused', { skip }, async () => {
  assert.equal((await dock(root, ['tag', `${reg.host}/library/busybox`, `${reg.host}/alice/box:1`], { env })).code, 0);
  const r = await dock(root, ['push', `${reg.host}/alice/box:1`], { env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unauthorized/);
});

test('dock login checks the password, stores config.json, push works, logout forgets', { skip }, async () => {
  const bad = await dock(root, ['login', '-u', 'alice', '--password-stdin', reg.host], { env, input: 'wrong\n' });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unauthorized: incorrect username or password/);
  assert.ok(!bad.stderr.includes('wrong'));
  await assert.rejects(fs.readFile(path.join(env.DOCKER_CONFIG!, 'config.json')));
  const ok = await dock(root, ['login', '-u', 'alice', '--password-stdin', reg.host], { env, input: `${PASSWORD}\n` });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, 'Login Succeeded\n');
  const cfg = JSON.parse(await fs.readFile(path.join(env.DOCKER_CONFIG!, 'config.json'), 'utf8'));
  assert.deepEqual(cfg, { auths: { [reg.host]: { auth: Buffer.from(`alice:${PASSWORD}`).toString('base64') } } });
  assert.equal((await fs.stat(path.join(env.DOCKER_CONFIG!, 'config.json'))).mode & 0o777, 0o600);
  const push = await dock(root, ['push', `${reg.host}/alice/box:1`], { env });
  assert.equal(push.code, 0, push.stderr);
  assert.match(push.stdout, /1: digest: sha256:[a-f0-9]{64} size: \d+/);
  for (const out of [ok.stdout + ok.stderr, push.stdout + push.stderr]) assert.ok(!out.includes(PASSWORD));
  const lo = await dock(root, ['logout', reg.host], { env });
  assert.equal(lo.stdout, `Removing login credentials for ${reg.host}\n`);
  assert.deepEqual(JSON.parse(await fs.readFile(path.join(env.DOCKER_CONFIG!, 'config.json'), 'utf8')), { auths: {} });
  assert.equal((await dock(root, ['logout', reg.host], { env })).stdout, `Not logged in to ${reg.host}\n`);
});
