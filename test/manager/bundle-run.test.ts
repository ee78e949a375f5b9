// End to end: busybox pushed to a real registry by skopeo, pulled by dock, unpacked into overlay
// snapshots, turned into a bundle, and run by runc and (once `keel run` exists) by bin/keel.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { createBundle } from '../../src/manager/bundle/create';
import { pullImage } from '../../src/manager/images/pull';
import { parseReference } from '../../src/manager/images/reference';
import { createDock, type Dock } from '../../src/manager/wiring';
import { REPO_ROOT } from './dock';
import { makeBusyboxRootfs, skopeoCopy, skopeoSkipReason, tarDir, writeImage, writeLayout } from './images';
import { registrySkipReason, startRegistry, type Registry } from './registry';

const KEEL = path.join(REPO_ROOT, 'bin', 'keel');

function keelSkipReason(): string | undefined {
  if (!existsSync(KEEL)) return 'bin/keel not built (run make)';
  try {
    const out = execFileSync(KEEL, ['run', '--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (!/Usage: keel run/.test(out)) return '`bin/keel run` is not implemented yet';
  } catch {
    return '`bin/keel run --help` fails: run is not implemented yet';
  }
  return undefined;
}

const rootSkip = process.getuid?.() !== 0 ? 'needs root (mounts, runtime)' : undefined;
const skip = rootSkip ?? registrySkipReason() ?? skopeoSkipReason();
let reg: Registry;
let work: string;
let dock: Dock;
const name = () => `${reg.host}/e2e/busybox:latest`;

before(async () => {
  if (skip) return;
  work = await fs.mkdtemp(path.join(tmpdir(), 'dock-e2e-'));
  reg = await startRegistry();
  dock = createDock({ root: path.join(work, 'root') });
  const base = path.join(work, 'base');
  await makeBusyboxRootfs(base, 'from-layer-1');
  const upper = path.join(work, 'upper');
  await fs.mkdir(path.join(upper, 'etc'), { recursive: true });
  await fs.mkdir(path.join(upper, 'home', 'app'), { recursive: true });
  await fs.writeFile(path.join(upper, 'etc', 'marker'), 'from-layer-2\n');
  await fs.mkdir(path.join(upper, 'data'));
  await fs.writeFile(path.join(upper, 'data', 'seed'), 'seeded\n');
  await fs.writeFile(path.join(upper, 'etc', '.wh.group'), '');
  await fs.appendFile(path.join(base, 'etc', 'passwd'), 'app:x:1000:1000:app:/home/app:/bin/sh\n');
  const layout = path.join(work, 'layout');
  const d = await writeImage(layout, {
    layers: [{ tar: await tarDir(base) }, { tar: await tarDir(upper) }],
    config: { Env: ['PATH=/bin', 'GREETING=hello'], Entrypoint: ['/bin/sh', '-c'], Cmd: ['cat /etc/marker'], WorkingDir: '/home/app', User: 'app', Volumes: { '/data': {} }, Labels: { 'dev.keel.e2e': 'yes' } },
  });
  await writeLayout(layout, { e2e: d });
  await skopeoCopy(`oci:${layout}:e2e`, `docker://${name()}`);
  await pullImage(dock, parseReference(name()));
});
after(async () => {
  if (skip) return;
  await dock?.close();
  await reg?.stop();
  await fs.rm(work, { recursive: true, force: true });
});

function runRuntime(bin: string, stateRoot: string, bundle: string, id: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(bin, ['--root', stateRoot, 'run', '--bundle', bundle, id], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function runWith(bin: string, label: string): Promise<void> {
  const id = `dock-e2e-${label}-${process.pid}`;
  const bundle = await createBundle(dock, name(), id, path.join(work, `bundle-${label}`), {
    args: ['echo "$(cat /etc/marker) $(id -u):$(id -g) $(pwd) $GREETING $HOSTNAME"; ls /etc; cat /data/seed'],
  });
  const state = path.join(work, `state-${label}`);
  try {
    const spec = bundle.spec;
    assert.deepEqual(spec.process.args.slice(0, 2), ['/bin/sh', '-c']);
    assert.deepEqual(spec.process.user, { uid: 1000, gid: 1000 });
    assert.equal(spec.process.cwd, '/home/app');
    assert.equal((spec.annotations as Record<string, string>)['dev.keel.e2e'], 'yes');
    const r = await runRuntime(bin, state, bundle.dir, id);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], `from-layer-2 1000:1000 /home/app hello ${id.slice(0, 12)}`);
    assert.ok(!lines.includes('group'), 'the whiteout hides /etc/group');
    assert.ok(lines.includes('passwd'));
    assert.equal(lines.at(-1), 'seeded', 'the volume starts with the image content at its path');
  } finally {
    await new Promise((r) => execFile(bin, ['--root', state, 'delete', '--force', id], () => r(undefined)));
    await bundle.remove();
  }
  // The container's writes went to its own snapshot, which is gone; the image layers are intact.
  assert.deepEqual((await dock.snapshotter.list()).map((s) => s.kind), ['committed', 'committed']);
}

test('busybox from the registry runs through runc from a dock bundle', { skip: skip ?? (!existsSync('/usr/sbin/runc') && 'runc not installed') }, async () => {
  await runWith('/usr/sbin/runc', 'runc');
});

test('busybox from the registry runs through bin/keel from a dock bundle', { skip: skip ?? keelSkipReason() }, async () => {
  await runWith(KEEL, 'keel');
});
