// Image and registry commands of the dock CLI against a real engine and a real registry (Debian's
// docker-registry with htpasswd auth), compared with the docker CLI 28: pull/push progress lines,
// images/history/inspect tables, tag/rmi, save/load/import, login/logout and the config file.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxTar } from './lib/busybox';
import { both, dock, dockerCli, normalize, same } from './lib/dock-cli';
import type { Engine } from './lib/engine';
import { ENGINE_KINDS, engineSkipReason, importBusybox, startEngine } from './lib/engines';
import { registrySkipReason, startRegistry, type Registry } from '../manager/registry';

for (const kind of ENGINE_KINDS) {
  describe(`dock CLI vs docker CLI: images and registries on ${kind}`, { skip: engineSkipReason(kind) }, () => {
    const skip = registrySkipReason();
    let e: Engine;
    let reg: Registry;
    let work: string;
    let R: string;
    const USER = 'alice';
    const PASS = 'alice-secret-pw';

    function bcrypt(pw: string): string {
      return execFileSync('python3', ['-W', 'ignore', '-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))', pw], { encoding: 'utf8' }).trim();
    }

    /** Separate config dirs, so that logins of one CLI never help the other. */
    const cfg = { docker: '', dock: '' };

    before(async () => {
      if (skip) return;
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'dock-cli-img-'));
      const htpasswd = path.join(work, 'htpasswd');
      fs.writeFileSync(htpasswd, `${USER}:${bcrypt(PASS)}\n`);
      reg = await startRegistry({ auth: { htpasswd } });
      R = reg.host;
      e = await startEngine(kind);
      await importBusybox(e);
      cfg.docker = path.join(work, 'cfg-docker');
      cfg.dock = path.join(work, 'cfg-dock');
      // The reference image in the registry, pushed by the docker CLI.
      const login = await dockerCli(e, ['login', '-u', USER, '--password-stdin', R], { input: PASS, configDir: path.join(work, 'cfg-setup') });
      assert.equal(login.code, 0, login.stderr);
      await dockerCli(e, ['tag', 'busybox', `${R}/library/busybox:v1`]);
      const push = await dockerCli(e, ['push', `${R}/library/busybox:v1`], { configDir: path.join(work, 'cfg-setup') });
      assert.equal(push.code, 0, push.stderr);
    });
    after(async () => {
      await e?.stop();
      await reg?.stop();
      if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    test('login/logout: messages, exit codes and the stored credentials match docker', { skip }, async () => {
      const run = (who: 'docker' | 'dock', argv: string[], input?: string) => (who === 'docker' ? dockerCli : dock)(e, argv, { configDir: cfg[who], ...(input !== undefined ? { input } : {}) });
      const pair = async (argv: string[], input?: string) => {
        const d = await run('docker', argv, input);
        const k = await run('dock', argv, input);
        assert.equal(k.code, d.code, `${argv.join(' ')}: ${d.stderr} / ${k.stderr}`);
        assert.equal(normalize(k.stdout), normalize(d.stdout), `${argv.join(' ')}: stdout`);
        assert.equal(normalize(k.stderr), normalize(d.stderr), `${argv.join(' ')}: stderr`);
      };
      await pair(['pull', `${R}/library/busybox:v1`]);
      await pair(['login', '-u', USER, '--password-stdin', R], 'wrong\n');
      await pair(['login', '-u', USER, '--password-stdin', 'Bad Server'], 'x\n');
      await pair(['login', R]);
      await pair(['login', '-u', USER, '-p', PASS, '--password-stdin', R]);
      await pair(['login', '--password-stdin', R]);
      await pair(['login', '-u', USER, '-p', PASS, R]);
      await pair(['login', '-u', USER, '--password-stdin', R], `${PASS}\n`);
      const stored = (who: 'docker' | 'dock') => JSON.parse(fs.readFileSync(path.join(cfg[who], 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
      assert.deepEqual(stored('dock').auths, stored('docker').auths);
      assert.equal(Buffer.from(stored('dock').auths[R]!.auth, 'base64').toString(), `${USER}:${PASS}`);
      assert.equal(fs.statSync(path.join(cfg.dock, 'config.json')).mode & 0o777, 0o600);
      // The stored credentials go to the engine as X-Registry-Auth.
      for (const who of ['docker', 'dock'] as const) {
        await dockerCli(e, ['rmi', `${R}/library/busybox:v1`]);
        const p = await run(who, ['pull', '-q', `${R}/library/busybox:v1`]);
        assert.equal(p.code, 0, `${who}: ${p.stderr}`);
      }
      await pair(['logout', R]);
      await pair(['logout', R]);
      assert.deepEqual(stored('dock').auths, {});
      await pair(['logout']);
    });

    test('pull: progress lines, up to date, -q, -a, errors', { skip }, async () => {
      const ref = `${R}/library/busybox:v1`;
      const auth = { configDir: path.join(work, 'cfg-setup') };
      const fresh = async (argv: string[]) => {
        await dockerCli(e, ['rmi', '-f', ref]);
        const d = await dockerCli(e, argv, auth);
        await dockerCli(e, ['rmi', '-f', ref]);
        const k = await dock(e, argv, auth);
        assert.equal(k.code, d.code, `${argv.join(' ')}: ${d.stderr} / ${k.stderr}`);
        assert.equal(k.stdout, d.stdout, `${argv.join(' ')}: stdout`);
        assert.equal(normalize(k.stderr), normalize(d.stderr));
      };
      await fresh(['pull', ref]);
      await fresh(['pull', '-q', ref]);
      await fresh(['pull', '-a', `${R}/library/busybox`]);
      await same(assert, e, ['pull', ref], auth);
      await same(assert, e, ['pull', `${R}/library/busybox`], auth);
      await same(assert, e, ['pull', `${R}/library/nosuch:1`], auth);
      await same(assert, e, ['pull', '-a', `${R}/library/busybox:v1`], auth);
      await same(assert, e, ['pull', 'Invalid/Name']);
    });

    test('push: progress lines, digest line, -q, errors', { skip }, async () => {
      const auth = { configDir: path.join(work, 'cfg-setup') };
      await dockerCli(e, ['tag', 'busybox', `${R}/team/box:1`]);
      const first = await dock(e, ['push', `${R}/team/box:1`], auth);
      assert.equal(first.code, 0, first.stderr);
      const lines = first.stdout.trim().split('\n');
      assert.equal(lines[0], `The push refers to repository [${R}/team/box]`);
      assert.ok(lines.some((l) => /^[a-f0-9]{12}: (Pushed|Mounted from library\/busybox|Layer already exists)$/.test(l)), first.stdout);
      assert.match(lines.at(-1)!, /^1: digest: sha256:[a-f0-9]{64} size: \d+$/);
      await same(assert, e, ['push', `${R}/team/box:1`], auth);
      await same(assert, e, ['push', '-q', `${R}/team/box:1`], auth);
      await same(assert, e, ['push', `${R}/team/box`], auth);
      await same(assert, e, ['push', `${R}/team/box:1`]);
      await same(assert, e, ['push', `${R}/team/nosuchtag:9`], auth);
    });

    test('images, tag, rmi, history, image inspect', { skip }, async () => {
      await dockerCli(e, ['tag', 'busybox', 'mine/box:a']);
      await dockerCli(e, ['tag', 'busybox', 'mine/box:b']);
      for (const argv of [
        ['images'],
        ['images', '-a'],
        ['images', '-q'],
        ['images', '--digests'],
        ['images', '--no-trunc'],
        ['images', 'mine/box'],
        ['images', 'mine/box:b'],
        ['images', 'nosuch'],
        ['images', 'pull'],
        ['image', 'ls', 'pull'],
        ['images', '--filter', 'reference=mine/*'],
        ['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}} {{.Containers}} {{.Digest}}'],
        ['images', '--format', 'json'],
        ['images', '--format', 'table {{.Repository}}\t{{.Tag}}\t{{.CreatedAt}}', '--digests'],
        ['history', 'busybox'],
        ['history', '-H=false', 'busybox'],
        ['history', '--no-trunc', '-q', 'busybox'],
        ['history', '--format', '{{json .}}', 'busybox'],
        ['history', 'nosuch'],
        ['image', 'inspect', 'busybox'],
        ['image', 'inspect', '-f', '{{.Os}}/{{.Architecture}} {{json .Config.Cmd}} {{len .RootFS.Layers}}', 'mine/box:a', 'busybox'],
        ['image', 'inspect', 'nosuch'],
        ['tag', 'nosuch', 'x'],
        ['tag', 'busybox', 'Bad:Name'],
        ['tag', 'busybox', `x@sha256:${'a'.repeat(64)}`],
        ['rmi', 'nosuch'],
        ['rmi', '-f', 'nosuch'],
      ]) {
        // One image with tags in several repositories: docker lists them in Go map order (random).
        const rows = (s: string) => (argv[0] === 'images' || argv[1] === 'ls' ? s.split('\n').sort().join('\n') : s);
        await same(assert, e, argv, { stdout: rows });
      }
      // rmi twins: untag lines, then "must be forced" for an image with several tags.
      for (const t of ['c', 'd', 'e', 'f']) await dockerCli(e, ['tag', 'busybox', `mine/box:${t}`]);
      const r = await both(e, ['rmi', 'mine/box:c']);
      assert.equal(r.docker.stdout, 'Untagged: mine/box:c\n');
      const k = await dock(e, ['rmi', 'mine/box:d', 'mine/box:e']);
      assert.equal(k.stdout, 'Untagged: mine/box:d\nUntagged: mine/box:e\n');
      const id = (await dockerCli(e, ['images', '-q', 'busybox'])).stdout.trim();
      await same(assert, e, ['rmi', id]);
    });

    test('save, load, import, image prune', { skip }, async () => {
      const files = { docker: path.join(work, 'd.tar'), dock: path.join(work, 'k.tar') };
      const s = await both(e, ['save', 'busybox', 'mine/box:a']);
      assert.equal(s.dock.code, s.docker.code);
      assert.equal(normalize(s.dock.stderr), normalize(s.docker.stderr), 'save to a pipe works, to a terminal it refuses');
      await dockerCli(e, ['save', '-o', files.docker, 'busybox']);
      const ks = await dock(e, ['save', '-o', files.dock, 'busybox']);
      assert.equal(ks.code, 0, ks.stderr);
      assert.deepEqual(fs.readFileSync(files.dock), fs.readFileSync(files.docker), 'the same archive bytes from the same engine');
      await same(assert, e, ['save', 'nosuch']);
      await same(assert, e, ['save', '-o', path.join(work, 'no-dir', 'x.tar'), 'busybox']);
      await dockerCli(e, ['rmi', 'mine/box:a']);
      await same(assert, e, ['load', '-i', files.docker]);
      await same(assert, e, ['load'], { input: fs.readFileSync(files.docker) });
      await same(assert, e, ['load', '-q', '-i', files.docker]);
      await same(assert, e, ['load', '-i', path.join(work, 'nosuch.tar')]);
      await same(assert, e, ['load'], { input: 'not a tar' });
      const imp = await both(e, ['import', '-c', 'CMD ["sh"]', '-m', 'imported', busyboxTar(), 'imp:1']);
      assert.equal(imp.dock.code, 0, imp.dock.stderr);
      assert.match(imp.dock.stdout, /^sha256:[a-f0-9]{64}\n$/);
      assert.equal(imp.dock.stderr, imp.docker.stderr);
      await same(assert, e, ['import', path.join(work, 'nosuch.tar')]);
      // A dangling image for dock to prune, then both on what is left.
      await dockerCli(e, ['image', 'prune', '-f']);
      await dockerCli(e, ['import', '-m', 'one', busyboxTar(), 'imp:3']);
      await dockerCli(e, ['import', '-m', 'two', busyboxTar(), 'imp:3']);
      const pk = await dock(e, ['image', 'prune', '-f']);
      assert.match(pk.stdout, /^Deleted Images:\ndeleted: sha256:[a-f0-9]{64}\n(.+\n)*\nTotal reclaimed space: \S+\n$/);
      await same(assert, e, ['image', 'prune', '-f']);
      await same(assert, e, ['image', 'prune'], { input: 'n\n' });
    });
  });
}
