// config.json generation from image configs: args from Entrypoint/Cmd, env merging, USER lookup in the
// rootfs (never through a symlink to the host), workdir, volumes and labels.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { ImageConfig } from '../images/manifest';
import { generateSpec, mergeEnv } from './spec';

let rootfs: string;
before(async () => {
  rootfs = await fs.mkdtemp(path.join(tmpdir(), 'dock-spec-'));
  await fs.mkdir(path.join(rootfs, 'etc'));
  await fs.writeFile(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nweb:x:33:33:www:/var/www:/bin/false\n');
  await fs.writeFile(path.join(rootfs, 'etc/group'), 'root:x:0:\nwww:x:33:\nlog:x:4:web\nstaff:x:50:web,other\n');
});
after(() => fs.rm(rootfs, { recursive: true, force: true }));

const img = (config: ImageConfig['config']): ImageConfig => ({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config });

test('spec: runc defaults without a terminal, args from Entrypoint + Cmd', async () => {
  const s = await generateSpec(img({ Entrypoint: ['/ep'], Cmd: ['a', 'b'] }), { rootfs });
  assert.equal(s.ociVersion, '1.0.2-dev');
  assert.deepEqual(s.process.args, ['/ep', 'a', 'b']);
  assert.equal(s.process.terminal, false);
  assert.deepEqual(s.root, { path: 'rootfs', readonly: false });
  assert.deepEqual((s.mounts as { destination: string }[]).map((m) => m.destination), ['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup']);
  assert.deepEqual((await generateSpec(img({ Entrypoint: ['/ep'], Cmd: ['a'] }), { rootfs, args: ['x'] })).process.args, ['/ep', 'x']);
  assert.deepEqual((await generateSpec(img({ Entrypoint: ['/ep'], Cmd: ['a'] }), { rootfs, entrypoint: ['/other'] })).process.args, ['/other']);
  await assert.rejects(generateSpec(img({}), { rootfs }), /no command specified/);
});

test('spec: env merging, HOSTNAME, HOME, default PATH', async () => {
  assert.deepEqual(mergeEnv(['A=1', 'B=2'], ['A=3']), ['A=3', 'B=2']);
  const s = await generateSpec(img({ Cmd: ['sh'], Env: ['FOO=bar'] }), { rootfs, hostname: 'h1', env: ['FOO=baz', 'X=y'] });
  assert.deepEqual(s.process.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=h1', 'FOO=baz', 'X=y', 'HOME=/root']);
});

test('spec: USER by name, uid, name:group; supplementary groups; unknown users refused', async () => {
  const u = async (User: string) => (await generateSpec(img({ Cmd: ['sh'], User }), { rootfs })).process;
  assert.deepEqual((await u('web')).user, { uid: 33, gid: 33, additionalGids: [4, 50] });
  assert.ok((await u('web')).env.includes('HOME=/var/www'));
  assert.deepEqual((await u('33:4')).user, { uid: 33, gid: 4 });
  assert.deepEqual((await u('web:staff')).user, { uid: 33, gid: 50 });
  assert.deepEqual((await u('1234')).user, { uid: 1234, gid: 0 });
  await assert.rejects(u('nobody-here'), /unable to find user nobody-here/);
  await assert.rejects(u('web:nogroup'), /unable to find group nogroup/);
});

test('spec: /etc/passwd symlinked to the host is resolved inside the rootfs', async () => {
  const evil = await fs.mkdtemp(path.join(tmpdir(), 'dock-spec-evil-'));
  try {
    await fs.mkdir(path.join(evil, 'host-etc'), { recursive: true });
    await fs.writeFile(path.join(evil, 'host-etc', 'passwd'), 'web:x:77:77::/:/bin/sh\n');
    await fs.symlink('/host-etc', path.join(evil, 'etc'));
    const s = await generateSpec(img({ Cmd: ['sh'], User: 'web' }), { rootfs: evil });
    assert.deepEqual(s.process.user, { uid: 77, gid: 77 });
    await fs.rm(path.join(evil, 'etc'));
    await fs.symlink('../../../../etc', path.join(evil, 'etc'));
    // Inside the rootfs that target is the symlink itself (a loop): the host's /etc/passwd is never read.
    await assert.rejects(generateSpec(img({ Cmd: ['sh'], User: 'root' }), { rootfs: evil }), /too many symlinks/);
  } finally {
    await fs.rm(evil, { recursive: true, force: true });
  }
});

test('spec: workdir, volumes, labels and stop signal', async () => {
  const s = await generateSpec(img({ Cmd: ['sh'], WorkingDir: '/srv', Volumes: { '/data': {}, '/cache': {} }, Labels: { a: 'b' }, StopSignal: 'SIGQUIT' }), {
    rootfs,
    volumeSource: (p) => `/vol${p}`,
  });
  assert.equal(s.process.cwd, '/srv');
  const vols = (s.mounts as { destination: string; source: string; type: string }[]).filter((m) => m.type === 'bind');
  assert.deepEqual(vols.map((m) => [m.destination, m.source]), [['/cache', '/vol/cache'], ['/data', '/vol/data']]);
  assert.deepEqual(s.annotations, { a: 'b', 'org.opencontainers.image.stopSignal': 'SIGQUIT' });
  await assert.rejects(generateSpec(img({ Cmd: ['sh'], WorkingDir: 'rel' }), { rootfs }), /needs to be an absolute path/);
});
