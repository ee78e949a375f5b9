// Store hygiene under faults: a load whose layer does not match the config's diff_ids is refused
// and leaves no blob behind; a pull interrupted by a daemon crash leaves a partial that the next
// daemon reclaims, and the next pull succeeds. dock only (these are dock's store internals).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { registrySkipReason, startRegistry, type Registry } from '../manager/registry';
import { DOCKER_CLI, docker, type CliResult } from './lib/docker-cli';
import { dockSkipReason, startDock, type DockHandle } from './lib/dock';
import { busyboxTar, BUSYBOX_CHANGES } from './lib/busybox';
import { importBusybox } from './lib/engines';

const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}`);

function blobs(e: DockHandle): string[] {
  const d = path.join(e.dataRoot, 'content', 'blobs', 'sha256');
  return fs.existsSync(d) ? fs.readdirSync(d).sort() : [];
}

function ingests(e: DockHandle): string[] {
  const d = path.join(e.dataRoot, 'ingest');
  return fs.existsSync(d) ? fs.readdirSync(d) : [];
}

describe('dock store hygiene', { skip: dockSkipReason() ?? registrySkipReason() }, () => {
  let e: DockHandle;
  let reg: Registry;
  let work: string;
  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'hygiene-'));
    reg = await startRegistry();
    e = await startDock();
    await importBusybox(e);
  });
  after(async () => {
    await e?.stop();
    await reg?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('a layer that does not match its diff_id is refused by load, and nothing of it stays', async () => {
    const x = path.join(work, 'x');
    fs.mkdirSync(x);
    ok(await docker(e, ['save', '-o', path.join(work, 'bb.tar'), 'busybox']), 'save');
    execFileSync('tar', ['-C', x, '-xf', path.join(work, 'bb.tar')]);
    const manifest = JSON.parse(fs.readFileSync(path.join(x, 'manifest.json'), 'utf8')) as { Config: string; RepoTags: string[]; Layers: string[] }[];
    const layer = path.join(x, manifest[0]!.Layers[0]!);
    const gz = execFileSync('gzip', ['-c', '-n', layer], { stdio: ['ignore', 'pipe', 'ignore'] });
    // A gzip stream cut in the middle: what a failed download leaves.
    fs.writeFileSync(path.join(x, 'layer.tar.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
    manifest[0]!.Layers = ['layer.tar.gz'];
    manifest[0]!.RepoTags = ['broken:1'];
    fs.writeFileSync(path.join(x, 'manifest.json'), JSON.stringify(manifest));
    for (const f of ['index.json', 'oci-layout', 'repositories']) fs.rmSync(path.join(x, f), { force: true });
    fs.rmSync(layer);
    execFileSync('tar', ['-C', x, '-cf', path.join(work, 'broken.tar'), '.']);
    const before = blobs(e);
    const r = await docker(e, ['load', '-i', path.join(work, 'broken.tar')]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /does not match the image config|unexpected end of file|truncated/i);
    assert.equal((await docker(e, ['images', '-q', 'broken'])).stdout, '');
    assert.deepEqual(blobs(e), before, 'no orphan blob');
    assert.deepEqual(ingests(e), []);
  });

  test('a pull cut by a daemon crash: the partial is reclaimed at start-up and the next pull works', async () => {
    // A 48 MB layer of random bytes, so that the pull is still running when the daemon dies.
    const root = path.join(work, 'big');
    fs.mkdirSync(root);
    execFileSync('tar', ['-C', root, '-xf', busyboxTar()]);
    execFileSync('sh', ['-c', `head -c 50331648 /dev/urandom > ${root}/blob`]);
    execFileSync('tar', ['-C', root, '-cf', path.join(work, 'big.tar'), '.']);
    const ref = `${reg.host}/hyg/big:1`;
    ok(await docker(e, ['import', ...BUSYBOX_CHANGES.flatMap((c) => ['-c', c]), path.join(work, 'big.tar'), ref]), 'import');
    ok(await docker(e, ['push', ref]), 'push');
    ok(await docker(e, ['rmi', ref]), 'rmi');
    const pull = spawn(DOCKER_CLI, ['pull', ref], { env: { ...process.env, DOCKER_HOST: e.host, DOCKER_CONFIG: e.configDir }, stdio: 'ignore' });
    const pullDone = new Promise((r) => pull.on('exit', r));
    const t0 = Date.now();
    while (ingests(e).length === 0 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 5));
    assert.ok(ingests(e).length > 0, 'the pull started writing');
    await e.crash();
    await pullDone;
    await e.restart();
    assert.deepEqual(ingests(e), [], 'partial downloads reclaimed at start-up');
    ok(await docker(e, ['pull', ref]), 'pull again');
    const r = await docker(e, ['run', '--rm', '--network', 'none', ref, 'sh', '-c', 'wc -c < /blob']);
    assert.equal(r.stdout.trim(), '50331648');
    ok(await docker(e, ['rmi', ref]), 'rmi');
  });
});
