// Bad input loses nothing and leaves nothing: each failing create or start is refused with one
// clear line, and afterwards no container record, writable layer, bundle, mount, cgroup, volume or
// process of it remains. dock only (the counts are of dock's own state).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { docker } from './lib/docker-cli';
import { dockSkipReason, startDock, type DockHandle } from './lib/dock';
import { importBusybox } from './lib/engines';

type Snapshot = { records: string[]; layers: string[]; bundles: string[]; mounts: string[]; cgroups: string[]; volumes: string[] };

function state(e: DockHandle): Snapshot {
  const ls = (d: string) => (fs.existsSync(d) ? fs.readdirSync(d).sort() : []);
  const cgroups: string[] = [];
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    const d = `/sys/fs/cgroup/${h}${e.cgroupParent}`;
    if (fs.existsSync(d)) for (const c of fs.readdirSync(d, { withFileTypes: true })) if (c.isDirectory()) cgroups.push(`${h}/${c.name}`);
  }
  return {
    records: ls(path.join(e.dataRoot, 'containers')),
    layers: ls(path.join(e.dataRoot, 'snapshots', 'snapshots')).length ? ls(path.join(e.dataRoot, 'snapshots', 'snapshots')) : ls(path.join(e.dataRoot, 'snapshots')),
    bundles: ls(path.join(e.execRoot, 'containers')),
    mounts: fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(e.execRoot) || m.startsWith(e.dataRoot)),
    cgroups: cgroups.sort(),
    volumes: ls(path.join(e.dataRoot, 'volumes')),
  };
}

describe('dock refuses bad input and leaves nothing behind', { skip: dockSkipReason() }, () => {
  let e: DockHandle;
  let clean: Snapshot;
  before(async () => {
    e = await startDock();
    await importBusybox(e);
    // Unpack the image once: its layer snapshot is the image's, not a leftover.
    assert.equal((await docker(e, ['run', '--rm', '--network', 'none', 'busybox', 'true'])).code, 0);
    clean = state(e);
  });
  after(async () => {
    await e?.stop();
  });

  const cases: { name: string; args: string[]; code: number; err: RegExp }[] = [
    { name: 'unknown image', args: ['run', '--rm', '--network', 'none', 'nosuch/image:1'], code: 125, err: /Unable to find image|pull access denied|no such host|failed to resolve|ENOTFOUND|connect/i },
    { name: 'bad restart policy', args: ['run', '--network', 'none', '--restart', 'sometimes', 'busybox', 'true'], code: 125, err: /invalid restart policy/ },
    { name: 'bind source missing (--mount)', args: ['run', '--network', 'none', '--mount', 'type=bind,src=/nonexistent/dir,dst=/x', 'busybox', 'true'], code: 125, err: /bind source path does not exist/ },
    { name: 'duplicate mount point', args: ['run', '--network', 'none', '-v', 'dupv1:/d', '-v', 'dupv2:/d', 'busybox', 'true'], code: 125, err: /Duplicate mount point/ },
    { name: 'unknown log option', args: ['run', '--network', 'none', '--log-opt', 'nope=1', 'busybox', 'true'], code: 125, err: /unknown log opt 'nope'/ },
    { name: 'invalid container name', args: ['run', '--network', 'none', '--name', 'bad name', 'busybox', 'true'], code: 125, err: /Invalid container name/ },
    { name: 'command not found', args: ['run', '--network', 'none', '--name', 'nf', 'busybox', 'no-such-command'], code: 127, err: /executable file not found/ },
    { name: 'missing device', args: ['run', '--rm', '--network', 'none', '--device', '/dev/nonexistent', 'busybox', 'true'], code: 127, err: /no such file or directory|not a device/ },
    { name: 'unknown network', args: ['run', '--rm', '--network', 'nosuchnet', 'busybox', 'true'], code: 125, err: /network nosuchnet not found/ },
    { name: 'bad seccomp profile', args: ['run', '--rm', '--network', 'none', '--security-opt', 'seccomp={bad json', 'busybox', 'true'], code: 125, err: /seccomp/i },
  ];

  for (const c of cases) {
    test(c.name, async () => {
      const r = await docker(e, c.args);
      assert.equal(r.code, c.code, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, c.err);
      // A container made before the failure stays visible as Docker keeps it (created); remove it.
      const leftover = (await docker(e, ['ps', '-aq'])).stdout.trim();
      if (leftover) assert.equal((await docker(e, ['rm', '-f', ...leftover.split('\n')])).code, 0);
      const vols = (await docker(e, ['volume', 'ls', '-q'])).stdout.trim();
      if (vols) await docker(e, ['volume', 'rm', ...vols.split('\n')]);
      assert.deepEqual(state(e), clean);
    });
  }

  test('malformed requests: a 400 naming the field, and nothing made', async () => {
    const http = await import('node:http');
    const send = (method: string, p: string, body: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({ socketPath: e.socket, path: p, method, headers: { 'Content-Type': 'application/json' } }, (res) => {
          let b = '';
          res.on('data', (c: Buffer) => (b += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const bad = await send('POST', '/v1.45/containers/create', '{"Image":');
    assert.equal(bad.status, 400);
    assert.match(bad.body, /invalid JSON/);
    const q = await send('GET', '/v1.45/containers/json?limit=abc', '');
    assert.equal(q.status, 400);
    assert.match(q.body, /limit/);
    assert.deepEqual(state(e), clean);
  });
});
