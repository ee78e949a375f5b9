// Hostile input to docker cp and docker import on dock: archives with ".." or absolute names, entries
// through a symlink the archive made, hard links leaving the destination, device nodes; symlinks in
// the container naming host paths (absolute and relative) for writes and reads; a container swapping
// a directory for a symlink while copies run (CVE-2018-15664). Each is refused with one line or stays
// inside the container, and a fingerprint of a host directory every link names proves nothing
// outside changed or leaked. Afterwards: no mount, temp dir or frozen container left.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pack, type Header } from 'tar-stream';
import { apiCall, errorMessage } from './lib/api-call';
import { docker, type CliResult } from './lib/docker-cli';
import { dockSkipReason, startDock, type DockHandle } from './lib/dock';
import { importBusybox } from './lib/engines';

const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}`);

type E = Partial<Header> & { name: string; body?: string };

async function makeTar(entries: E[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c) => void chunks.push(c as Buffer));
  const done = new Promise<void>((r) => p.on('end', () => r()));
  for (const { body, ...h } of entries) {
    await new Promise<void>((resolve, reject) => p.entry({ mode: 0o644, ...h } as Header, body ?? '', (err) => (err ? reject(err) : resolve())));
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

function snapshot(dir: string): string {
  return execFileSync('sh', ['-c', `cd ${dir} && find . -printf '%p %y %m %s %T@\\n' | sort && find . -type f -exec cat {} +`], { encoding: 'utf8' });
}

describe('hostile copies and imports on dock', { skip: dockSkipReason() }, () => {
  let e: DockHandle;
  let work: string;
  let outside: string;
  let fingerprint: string;
  const d = (args: string[], o: { input?: string | Buffer } = {}) => docker(e, args, o);
  const up = '../../../../../../../../..';
  const put = (tar: Buffer, p = '/tmp') => apiCall(e, 'PUT', `/v1.41/containers/hc/archive?path=${encodeURIComponent(p)}&noOverwriteDirNonDir=true`, tar, { 'Content-Type': 'application/x-tar' });
  /** The refusal: a 4xx with one line naming what was wrong; nothing changed outside. */
  const refused = (r: Awaited<ReturnType<typeof put>>, re: RegExp) => {
    assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}: ${r.body.toString()}`);
    const m = errorMessage(r);
    assert.match(m, re);
    assert.ok(!m.includes('\n'), 'one line');
    assert.equal(snapshot(outside), fingerprint, 'nothing outside the container changed');
  };

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-hostile-'));
    outside = path.join(work, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'secret'), 'host secret\n');
    fingerprint = snapshot(outside);
    e = await startDock();
    await importBusybox(e);
    ok(await d(['run', '-d', '--name', 'hc', '--network', 'none', 'busybox', 'sleep', '1000']), 'run');
    ok(await d(['exec', 'hc', 'sh', '-c', `ln -s ${outside} /tmp/abs && ln -s ${up}${outside} /tmp/rel && ln -s ${outside}/secret /tmp/secretlink`]), 'links');
  });
  after(async () => {
    await e?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('archive entries with ".." or absolute names', async () => {
    refused(await put(await makeTar([{ name: `${up}${outside}/p1`, body: 'x' }])), /archive entry ".*p1": path leaves the destination/);
    refused(await put(await makeTar([{ name: `${outside}/p2`, body: 'x' }])), /archive entry ".*p2": absolute path/);
    assert.ok(!fs.existsSync(path.join(outside, 'p1')) && !fs.existsSync(path.join(outside, 'p2')));
  });

  test('entries through a symlink the archive made, hard links leaving it, device nodes', async () => {
    refused(await put(await makeTar([{ name: 'esc', type: 'symlink', linkname: outside }, { name: 'esc/p3', body: 'x' }])), /"esc\/p3": \/tmp\/esc is a symbolic link/);
    refused(await put(await makeTar([{ name: 'esc2', type: 'symlink', linkname: `${up}${outside}` }, { name: 'esc2/p4', body: 'x' }])), /\/tmp\/esc2 is a symbolic link/);
    refused(await put(await makeTar([{ name: 'hl', type: 'link', linkname: `${up}/etc/hostname` }])), /"hl": hard link target ".*": path leaves the destination/);
    refused(await put(await makeTar([{ name: 'hl2', type: 'link', linkname: `${outside}/secret` }])), /"hl2": hard link target ".*": absolute path/);
    refused(await put(await makeTar([{ name: 'null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 }])), /device nodes cannot be copied into a container/);
    refused(await put(await makeTar([{ name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 }])), /device nodes cannot be copied into a container/);
    const inside = await d(['exec', 'hc', 'sh', '-c', 'ls /tmp/null /tmp/sda /tmp/hl /tmp/hl2 2>&1; true']);
    assert.doesNotMatch(inside.stdout, /^\/tmp\/(null|sda|hl)/m, 'nothing was made');
  });

  test('symlinks already in the container never carry a write outside', async () => {
    refused(await put(await makeTar([{ name: 'abs/p5', body: 'x' }])), /\/tmp\/abs is a symbolic link/);
    refused(await put(await makeTar([{ name: 'rel/p6', body: 'x' }])), /\/tmp\/rel is a symbolic link/);
    const viaPath = await put(await makeTar([{ name: 'p7', body: 'x' }]), '/tmp/abs');
    assert.equal(viaPath.status, 404, 'the destination resolves inside the container, where it does not exist');
    assert.match(errorMessage(viaPath), /Could not find the file \/tmp\/abs in container hc/);
    const cli = await d(['cp', path.join(work, 'outside/secret'), 'hc:/tmp/rel/p8']);
    assert.equal(cli.code, 1);
    for (const p of ['p5', 'p6', 'p7', 'p8']) assert.ok(!fs.existsSync(path.join(outside, p)), p);
    assert.equal(snapshot(outside), fingerprint);
  });

  test('reads through container symlinks never return host files', async () => {
    const a = await d(['cp', 'hc:/tmp/abs/secret', path.join(work, 'r1')]);
    assert.equal(a.code, 1);
    assert.match(a.stderr, /Could not find the file \/tmp\/abs\/secret in container hc/);
    const b = await d(['cp', '-L', 'hc:/tmp/secretlink', path.join(work, 'r2')]);
    assert.equal(b.code, 1);
    const raw = await apiCall(e, 'GET', '/v1.41/containers/hc/archive?path=/tmp/secretlink');
    assert.equal(raw.status, 200);
    assert.ok(!raw.body.includes('host secret'), 'the link is archived as a link');
    const exp = await apiCall(e, 'GET', '/v1.41/containers/hc/export');
    assert.equal(exp.status, 200);
    assert.ok(!exp.body.includes('host secret'), 'export does not follow links');
    assert.ok(!fs.existsSync(path.join(work, 'r1')) && !fs.existsSync(path.join(work, 'r2')));
  });

  test('a container swapping a directory for a symlink while copies run', async () => {
    ok(await d(['exec', '-d', 'hc', 'sh', '-c', `mkdir -p /tmp/race; while [ ! -e /tmp/race-stop ]; do mkdir /tmp/race/d; rmdir /tmp/race/d; ln -s ${outside} /tmp/race/d; rm /tmp/race/d; ln -s / /tmp/race/d; rm /tmp/race/d; done 2>/dev/null`]), 'racer');
    const src = path.join(work, 'payload');
    fs.writeFileSync(src, 'payload\n');
    let landed = 0;
    for (let i = 0; i < 25; i++) {
      const r = await d(['cp', src, `hc:/tmp/race/d/p${i}`]);
      if (r.code === 0) landed++;
      const g = await d(['cp', 'hc:/tmp/race/d/secret', path.join(work, `g${i}`)]);
      if (g.code === 0) assert.doesNotMatch(fs.readFileSync(path.join(work, `g${i}`), 'utf8'), /host secret/);
    }
    assert.equal(snapshot(outside), fingerprint, 'no write reached the host directory');
    assert.ok(!fs.existsSync('/p0') && !fs.readdirSync('/').some((n) => /^p\d+$/.test(n)), 'nor the host root');
    void landed;
    assert.equal((await d(['inspect', '-f', '{{.State.Status}}', 'hc'])).stdout.trim(), 'running', 'not left frozen');
    ok(await d(['exec', 'hc', 'touch', '/tmp/race-stop']), 'stop the racer');
  });

  test('hostile archives to docker import are refused and make no image', async () => {
    const before1 = (await d(['images', '-q', '-a'])).stdout;
    const cases: [E[], RegExp][] = [
      [[{ name: `${up}/etc/pwned`, body: 'x' }], /path escapes the archive root/],
      [[{ name: '/etc/pwned', body: 'x' }], /absolute path/],
      [[{ name: 'l', type: 'symlink', linkname: '/etc' }, { name: 'l/pwned', body: 'x' }], /goes through the symbolic link "l"/],
      [[{ name: 'hl', type: 'link', linkname: '../../x' }], /hard link target.*path escapes/],
    ];
    for (const [entries, re] of cases) {
      const r = await d(['import', '-', 'hostile:1'], { input: await makeTar(entries) });
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr + r.stdout, re);
    }
    assert.equal((await d(['images', '-q', '-a'])).stdout, before1, 'no image was made');
  });

  test('a daemon killed in the middle of copies leaves no mount and no frozen container', async () => {
    ok(await d(['run', '-d', '--name', 'bigrun', '--network', 'none', 'busybox', 'sh', '-c', 'dd if=/dev/zero of=/big bs=1M count=32 2>/dev/null; touch /ready; sleep 1000']), 'run');
    ok(await d(['run', '--name', 'bigstop', '--network', 'none', 'busybox', 'dd', 'if=/dev/zero', 'of=/big', 'bs=1M', 'count=32']), 'run stopped');
    while ((await d(['exec', 'bigrun', 'test', '-f', '/ready'])).code !== 0) await new Promise((r) => setTimeout(r, 100));
    const views = path.join(e.execRoot, 'archive');
    const viewMounts = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(views));
    // Two copies whose client reads nothing: the daemon is blocked writing, the views stay open.
    const stalled = await Promise.all(
      ['bigrun', 'bigstop'].map(
        (c) =>
          new Promise<http.ClientRequest>((resolve, reject) => {
            const req = http.request({ socketPath: e.socket, path: `/v1.41/containers/${c}/archive?path=/big`, method: 'GET' }, (res) => {
              res.pause();
              resolve(req);
            });
            req.on('error', () => undefined);
            req.setTimeout(30_000, () => reject(new Error('no reply')));
            req.end();
          }),
      ),
    );
    assert.equal(viewMounts().length, 1, 'the stopped container is mounted for the copy');
    assert.ok(fs.readdirSync(views).some((n) => n.endsWith('.frozen')), 'the running one is frozen');
    await e.crash();
    for (const r of stalled) r.destroy();
    await e.restart();
    assert.deepEqual(viewMounts(), [], 'no view left mounted');
    assert.deepEqual(fs.readdirSync(views), [], 'nothing left in the views dir');
    assert.equal((await d(['inspect', '-f', '{{.State.Status}}', 'bigrun'])).stdout.trim(), 'running', 'thawed');
    assert.equal((await d(['exec', 'bigrun', 'echo', 'alive'])).stdout, 'alive\n');
    ok(await d(['rm', '-f', 'bigrun', 'bigstop']), 'rm');
  });

  test('nothing is left behind: no copy mount, no temp dir, the container still works', async () => {
    const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(path.join(e.execRoot, 'archive')));
    assert.deepEqual(mounts, []);
    const dir = path.join(e.execRoot, 'archive');
    assert.deepEqual(fs.existsSync(dir) ? fs.readdirSync(dir) : [], []);
    ok(await d(['stop', '-t', '1', 'hc']), 'stop');
    ok(await d(['cp', path.join(work, 'payload'), 'hc:/root/']), 'cp into the stopped container');
    assert.deepEqual(fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(path.join(e.execRoot, 'archive'))), []);
    ok(await d(['start', 'hc']), 'start');
    assert.equal((await d(['exec', 'hc', 'cat', '/root/payload'])).stdout, 'payload\n');
  });
});
