// Basic auth (distribution's htpasswd) and --insecure-registry for a non-loopback plain-http registry.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { dock } from './dock';
import { makeBusyboxLayout, skopeoCopy, skopeoSkipReason } from './images';
import { registrySkipReason, startRegistry, type Registry } from './registry';

const skip = registrySkipReason() ?? skopeoSkipReason();
let work: string;
let layout: string;
const stops: Registry[] = [];

before(async () => {
  if (skip) return;
  work = await fs.mkdtemp(path.join(tmpdir(), 'dock-basic-'));
  layout = path.join(work, 'bb');
  await makeBusyboxLayout(work, layout);
});
after(async () => {
  if (skip) return;
  for (const r of stops) await r.stop();
  await fs.rm(work, { recursive: true, force: true });
});

function bcrypt(pw: string): string {
  return execFileSync('python3', ['-W', 'ignore', '-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))', pw], { encoding: 'utf8' }).trim();
}

test('basic auth: anonymous pull refused, login then pull', { skip }, async () => {
  const htpasswd = path.join(work, 'htpasswd');
  await fs.writeFile(htpasswd, `bob:${bcrypt('hunter2-pw')}\n`);
  const reg = await startRegistry({ auth: { htpasswd } });
  stops.push(reg);
  await skopeoCopy(`oci:${layout}:busybox`, `docker://${reg.host}/bob/box:latest`, ['--dest-creds', 'bob:hunter2-pw']);
  const env = { DOCKER_CONFIG: path.join(work, 'cfg') };
  const root = path.join(work, 'root-basic');
  const anon = await dock(root, ['pull', `${reg.host}/bob/box`], { env });
  assert.equal(anon.code, 1);
  assert.match(anon.stderr, /unauthorized/);
  const bad = await dock(root, ['login', '-u', 'bob', '--password-stdin', reg.host], { env, input: 'nope' });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unauthorized/);
  const login = await dock(root, ['login', '-u', 'bob', '--password-stdin', reg.host], { env, input: 'hunter2-pw\n' });
  assert.equal(login.code, 0, login.stderr);
  const pull = await dock(root, ['pull', `${reg.host}/bob/box`], { env });
  assert.equal(pull.code, 0, pull.stderr);
  assert.ok(!(pull.stdout + pull.stderr + login.stdout + login.stderr).includes('hunter2'));
});

const external = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

test('a non-loopback registry needs --insecure-registry for plain http', { skip: skip ?? (!external && 'no non-loopback IPv4 address') }, async () => {
  const reg = await startRegistry({ bindHost: external! });
  stops.push(reg);
  await skopeoCopy(`oci:${layout}:busybox`, `docker://${reg.host}/ext/box:latest`);
  const root = path.join(work, 'root-insecure');
  const tls = await dock(root, ['pull', `${reg.host}/ext/box`]);
  assert.equal(tls.code, 1, 'https to a plain-http registry must fail');
  const ok = await dock(root, ['--insecure-registry', reg.host, 'pull', `${reg.host}/ext/box`]);
  assert.equal(ok.code, 0, ok.stderr);
});
