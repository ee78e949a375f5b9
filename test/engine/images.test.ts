// Images through the Engine API with the docker CLI and a real registry on 127.0.0.1: push, rmi,
// pull (Docker's progress lines), run, tag, history, save/load, login/logout, prune; the same
// assertions against dock and dockerd 20.10.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { registrySkipReason, startRegistry, type Registry } from '../manager/registry';
import { docker, type CliResult } from './lib/docker-cli';
import type { Engine } from './lib/engine';
import { ENGINE_KINDS, engineSkipReason, importBusybox, startEngine } from './lib/engines';

const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}`);

for (const kind of ENGINE_KINDS) {
  describe(`images on ${kind}`, { skip: engineSkipReason(kind) ?? registrySkipReason() }, () => {
    let e: Engine;
    let reg: Registry;
    let authReg: Registry;
    let work: string;
    const d = (args: string[], o: { input?: string } = {}) => docker(e, args, o);
    before(async () => {
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'img-api-'));
      const htpasswd = path.join(work, 'htpasswd');
      const hash = execFileSync('python3', ['-W', 'ignore', '-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))', 'secret'], { encoding: 'utf8' }).trim();
      fs.writeFileSync(htpasswd, `tester:${hash}\n`);
      reg = await startRegistry();
      authReg = await startRegistry({ auth: { htpasswd } });
      e = await startEngine(kind);
      await importBusybox(e);
    });
    after(async () => {
      await e?.stop();
      await reg?.stop();
      await authReg?.stop();
      fs.rmSync(work, { recursive: true, force: true });
    });

    test('tag, push, rmi, pull and run from a private registry', async () => {
      const ref = `${reg.host}/test/bb:1`;
      ok(await d(['tag', 'busybox', ref]), 'tag');
      const push = await d(['push', ref]);
      ok(push, 'push');
      assert.match(push.stdout, new RegExp(`The push refers to repository \\[${reg.host}/test/bb\\]`));
      assert.match(push.stdout, /1: digest: sha256:[a-f0-9]{64} size: \d+/);
      const rmi = await d(['rmi', ref]);
      ok(rmi, 'rmi');
      assert.match(rmi.stdout, new RegExp(`Untagged: ${reg.host}/test/bb:1`));
      const pull = await d(['pull', ref]);
      ok(pull, 'pull');
      assert.match(pull.stdout, /1: Pulling from test\/bb/);
      assert.match(pull.stdout, /Digest: sha256:[a-f0-9]{64}/);
      assert.match(pull.stdout, new RegExp(`Status: Downloaded newer image for ${reg.host}/test/bb:1`));
      const again = await d(['pull', ref]);
      assert.match(again.stdout, /Status: Image is up to date for/);
      const run = await d(['run', '--rm', '--network', 'none', ref, 'echo', 'pulled']);
      assert.equal(run.stdout, 'pulled\n');
      const images = await d(['images', '--format', '{{.Repository}}:{{.Tag}}']);
      assert.match(images.stdout, new RegExp(`${reg.host}/test/bb:1`));
      const missing = await d(['pull', `${reg.host}/test/none:1`]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /manifest unknown|not found/);
    });

    test('docker run pulls an image it does not have', async () => {
      const ref = `${reg.host}/test/auto:1`;
      ok(await d(['tag', 'busybox', ref]), 'tag');
      ok(await d(['push', ref]), 'push');
      ok(await d(['rmi', ref]), 'rmi');
      const r = await d(['run', '--rm', '--network', 'none', ref, 'echo', 'auto']);
      ok(r, 'run');
      assert.match(r.stderr, new RegExp(`Unable to find image '${reg.host}/test/auto:1' locally`));
      assert.equal(r.stdout.split('\n').at(-2), 'auto');
    });

    test('login, push to an authenticated registry, logout', async () => {
      const bad = await d(['login', '-u', 'tester', '--password-stdin', authReg.host], { input: 'wrong\n' });
      assert.equal(bad.code, 1);
      const good = await d(['login', '-u', 'tester', '--password-stdin', authReg.host], { input: 'secret\n' });
      ok(good, 'login');
      assert.match(good.stdout, /Login Succeeded/);
      const ref = `${authReg.host}/priv/bb:1`;
      ok(await d(['tag', 'busybox', ref]), 'tag');
      ok(await d(['push', ref]), 'push with credentials');
      ok(await d(['logout', authReg.host]), 'logout');
      const denied = await d(['push', ref]);
      assert.equal(denied.code, 1);
      assert.match(denied.stderr, /no basic auth credentials|unauthorized|authentication required/i);
    });

    test('history, save and load, image prune', async () => {
      const h = await d(['history', '--format', '{{.CreatedBy}}|{{.Comment}}', 'busybox']);
      ok(h, 'history');
      assert.match(h.stdout, /Imported from/);
      const tar = path.join(work, `${kind}-bb.tar`);
      ok(await d(['save', '-o', tar, 'busybox']), 'save');
      ok(await d(['rmi', 'busybox']), 'rmi');
      const load = await d(['load', '-i', tar]);
      ok(load, 'load');
      assert.match(load.stdout, /Loaded image: busybox:latest/);
      const r = await d(['run', '--rm', '--network', 'none', 'busybox', 'echo', 'loaded']);
      assert.equal(r.stdout, 'loaded\n');
      ok(await d(['tag', 'busybox', 'spare:1']), 'tag');
      const prune = await d(['image', 'prune', '-a', '-f']);
      ok(prune, 'prune');
      const left = await d(['images', '-q']);
      assert.equal(left.stdout, '', 'unused images are gone');
      await importBusybox(e);
    });
  });
}
