// dock daemon's own flags: -G (socket group, mode 0660), --pidfile (refused while a live daemon
// holds it), one daemon per data root, --default-ulimit, --log-driver/--log-opt defaults, and a
// clean SIGTERM that leaves running containers to the next daemon.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { docker } from './lib/docker-cli';
import { DOCK_BIN, dockSkipReason, startDock, type DockHandle } from './lib/dock';
import { stopPid } from './lib/engine';
import { importBusybox } from './lib/engines';

const GROUP = `dockt${process.pid % 100000}`;

describe('dock daemon flags', { skip: dockSkipReason() }, () => {
  let e: DockHandle;
  before(async () => {
    execFileSync('groupadd', [GROUP]);
    e = await startDock({ args: ['-G', GROUP, '--default-ulimit', 'nofile=321:654', '--log-opt', 'max-size=1m'] });
    await importBusybox(e);
  });
  after(async () => {
    await e?.stop();
    spawnSync('groupdel', [GROUP]);
  });

  test('-G gives the socket to the group, mode 0660', () => {
    const st = fs.statSync(e.socket);
    const gid = Number(fs.readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith(`${GROUP}:`))!.split(':')[2]);
    assert.equal(st.gid, gid);
    assert.equal(st.mode & 0o777, 0o660);
  });

  test('the pid file names the daemon; a second daemon on the same roots is refused', () => {
    const pid = Number(fs.readFileSync(path.join(e.execRoot, 'dock.pid'), 'utf8'));
    assert.equal(pid, e.pid);
    const r = spawnSync(process.execPath, [DOCK_BIN, 'daemon', '--data-root', e.dataRoot, '--exec-root', e.execRoot, '-H', `unix://${e.socket}.2`], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /another dock daemon is using|pid file found/);
    assert.ok(!fs.existsSync(`${e.socket}.2`));
  });

  test('--default-ulimit and default log options apply to new containers', async () => {
    const r = await docker(e, ['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ulimit -n; ulimit -Hn']);
    assert.equal(r.stdout, '321\n654\n');
    const c = await docker(e, ['create', '--network', 'none', 'busybox', 'true']);
    const opts = await docker(e, ['inspect', '-f', '{{json .HostConfig.LogConfig}}', c.stdout.trim()]);
    assert.deepEqual(JSON.parse(opts.stdout), { Type: 'json-file', Config: { 'max-size': '1m' } });
    await docker(e, ['rm', c.stdout.trim()]);
  });

  test('SIGTERM stops the daemon and leaves containers running; the next one adopts them', async () => {
    assert.equal((await docker(e, ['run', '-d', '--name', 'lives', '--network', 'none', 'busybox', 'sleep', '60'])).code, 0);
    const pid = Number((await docker(e, ['inspect', '-f', '{{.State.Pid}}', 'lives'])).stdout);
    await stopPid(e.pid, 'SIGTERM');
    assert.ok(!fs.existsSync(path.join(e.execRoot, 'dock.pid')), 'pid file removed');
    assert.ok(fs.existsSync(`/proc/${pid}`), 'the container runs on');
    await e.restart();
    assert.equal((await docker(e, ['inspect', '-f', '{{.State.Running}} {{.State.Pid}}', 'lives'])).stdout, `true ${pid}\n`);
    assert.equal((await docker(e, ['rm', '-f', 'lives'])).code, 0);
  });

  test('a malformed flag value is refused at start with one line', () => {
    const r = spawnSync(process.execPath, [DOCK_BIN, 'daemon', '--data-root', '/tmp/never-made', '--default-ulimit', 'nofile=abc'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /invalid ulimit argument: nofile=abc/);
    assert.ok(!fs.existsSync('/tmp/never-made'));
  });
});
