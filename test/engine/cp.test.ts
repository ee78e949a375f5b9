// docker cp, export and import through the real docker CLI 28, with the same assertions against
// dock and dockerd 20.10: files and directories both ways, "-" as a tar stream both ways, running
// and stopped containers, volumes, symlinks resolved inside the container (one naming a host path
// finds nothing on the host), the path-stat header, noOverwriteDirNonDir; export of the merged
// rootfs; import of a file, of stdin and of an http URL with changes and a message.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { apiCall, errorMessage } from './lib/api-call';
import { busyboxTar } from './lib/busybox';
import { docker, type CliResult } from './lib/docker-cli';
import type { Engine } from './lib/engine';
import { ENGINE_KINDS, engineSkipReason, importBusybox, startEngine } from './lib/engines';

const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}`);
const lines = (s: string) => s.split('\n').filter(Boolean);
const tarList = (file: string) => lines(execFileSync('tar', ['-tf', file], { encoding: 'utf8' }));

/** Every file under dir with its content (a fingerprint to prove nothing changed). */
function snapshot(dir: string): string {
  return execFileSync('sh', ['-c', `cd ${dir} && find . -printf '%p %y %m %s\\n' | sort && find . -type f -exec cat {} +`], { encoding: 'utf8' });
}

for (const kind of ENGINE_KINDS) {
  describe(`cp, export and import on ${kind}`, { skip: engineSkipReason(kind) }, () => {
    let e: Engine;
    let work: string;
    let outside: string;
    let before0: string;
    const d = (args: string[], o: { input?: string | Buffer; cwd?: string } = {}) => docker(e, args, o);
    const exec = async (c: string, cmd: string) => (await d(['exec', c, 'sh', '-c', cmd])).stdout;
    before(async () => {
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-eng-'));
      // A host directory container symlinks will name: nothing may ever change in it.
      outside = path.join(work, 'outside');
      fs.mkdirSync(outside);
      fs.writeFileSync(path.join(outside, 'secret'), 'host secret\n');
      before0 = snapshot(outside);
      fs.mkdirSync(path.join(work, 'src/sub'), { recursive: true });
      fs.writeFileSync(path.join(work, 'src/a.txt'), 'alpha\n');
      fs.writeFileSync(path.join(work, 'src/sub/b.txt'), 'beta\n');
      fs.chmodSync(path.join(work, 'src/a.txt'), 0o640);
      fs.chownSync(path.join(work, 'src/sub/b.txt'), 1234, 4321);
      fs.symlinkSync('a.txt', path.join(work, 'src/link'));
      e = await startEngine(kind);
      await importBusybox(e);
      ok(await d(['run', '-d', '--name', 'cp', '--network', 'none', '-v', `cpvol-${kind}:/vol`, 'busybox', 'sleep', '1000']), 'run');
    });
    after(async () => {
      await e?.stop();
      fs.rmSync(work, { recursive: true, force: true });
    });

    test('a file and a directory into a running container, owners and modes kept', async () => {
      ok(await d(['cp', path.join(work, 'src/a.txt'), 'cp:/tmp/']), 'cp file into dir');
      ok(await d(['cp', path.join(work, 'src/a.txt'), 'cp:/tmp/renamed.txt']), 'cp file to a new name');
      ok(await d(['cp', path.join(work, 'src'), 'cp:/tmp/']), 'cp dir');
      ok(await d(['cp', path.join(work, 'src'), 'cp:/tmp/newdir']), 'cp dir to a new name');
      const out = await exec('cp', 'cat /tmp/a.txt /tmp/renamed.txt /tmp/src/sub/b.txt /tmp/newdir/a.txt; stat -c "%a %u:%g" /tmp/a.txt /tmp/src/sub/b.txt; readlink /tmp/src/link');
      assert.equal(out, 'alpha\nalpha\nbeta\nalpha\n640 0:0\n644 1234:4321\na.txt\n');
    });

    test('a file, a directory and "-" out of a running container; the stat header', async () => {
      ok(await d(['exec', 'cp', 'sh', '-c', 'mkdir -p /tmp/out/deep && echo gamma > /tmp/out/deep/c.txt && ln -s deep/c.txt /tmp/out/cl']), 'exec');
      const f = path.join(work, `out-${kind}.txt`);
      ok(await d(['cp', 'cp:/tmp/out/deep/c.txt', f]), 'cp file out');
      assert.equal(fs.readFileSync(f, 'utf8'), 'gamma\n');
      const dir = path.join(work, `outdir-${kind}`);
      ok(await d(['cp', 'cp:/tmp/out', dir]), 'cp dir out');
      assert.equal(fs.readFileSync(path.join(dir, 'deep/c.txt'), 'utf8'), 'gamma\n');
      assert.equal(fs.readlinkSync(path.join(dir, 'cl')), 'deep/c.txt');
      const contents = path.join(work, `outcontents-${kind}`);
      ok(await d(['cp', 'cp:/tmp/out/.', contents]), 'cp dir/. out');
      assert.deepEqual(fs.readdirSync(contents).sort(), ['cl', 'deep']);
      const root = await d(['cp', 'cp:/', '-']);
      ok(root, 'cp of /');
      const t = await d(['cp', 'cp:/tmp/out', '-']);
      ok(t, 'cp to -');
      const tf = path.join(work, `out-${kind}.tar`);
      fs.writeFileSync(tf, t.stdout, 'latin1');
      const r = await apiCall(e, 'GET', '/v1.41/containers/cp/archive?path=/tmp/out');
      assert.equal(r.status, 200);
      fs.writeFileSync(tf, r.body);
      assert.deepEqual(tarList(tf).sort(), ['out/', 'out/cl', 'out/deep/', 'out/deep/c.txt']);
      const stat = JSON.parse(Buffer.from(String(r.headers['x-docker-container-path-stat']), 'base64').toString()) as { name: string; mode: number; linkTarget: string };
      assert.equal(stat.name, 'out');
      assert.equal(stat.mode, 2 ** 31 + 0o755, 'a directory is Go FileMode bit 31');
      const head = await apiCall(e, 'HEAD', '/v1.41/containers/cp/archive?path=/tmp/out/cl');
      const ls = JSON.parse(Buffer.from(String(head.headers['x-docker-container-path-stat']), 'base64').toString()) as { name: string; mode: number; linkTarget: string };
      assert.equal(ls.mode, 2 ** 27 + 0o777, 'a symlink is bit 27');
      assert.equal(ls.linkTarget, '/tmp/out/deep/c.txt');
      const missing = await d(['cp', 'cp:/nonexistent', path.join(work, 'x')]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /Could not find the file \/nonexistent in container cp/);
    });

    test('"-" as a tar stream into a container', async () => {
      const tar = execFileSync('tar', ['-C', path.join(work, 'src'), '-cf', '-', 'a.txt', 'sub']);
      ok(await d(['exec', 'cp', 'mkdir', '/tmp/fromstdin']), 'mkdir');
      ok(await d(['cp', '-', 'cp:/tmp/fromstdin'], { input: tar }), 'cp -');
      assert.equal(await exec('cp', 'cat /tmp/fromstdin/a.txt /tmp/fromstdin/sub/b.txt'), 'alpha\nbeta\n');
    });

    test('symlinks are resolved inside the container, never on the host', async () => {
      ok(await d(['exec', 'cp', 'sh', '-c', `ln -s /etc /tmp/etclink && ln -s ${outside} /tmp/esc && ln -s ../../../../../../..${outside}/secret /tmp/escfile`]), 'links');
      const g = path.join(work, `group-${kind}`);
      ok(await d(['cp', 'cp:/tmp/etclink/group', g]), 'cp through a link to /etc');
      assert.match(fs.readFileSync(g, 'utf8'), /^root:x:0:/);
      ok(await d(['cp', path.join(work, 'src/a.txt'), 'cp:/tmp/etclink/']), 'cp into a link to /etc');
      assert.equal(await exec('cp', 'cat /etc/a.txt'), 'alpha\n');
      const viaLink = await d(['cp', path.join(work, 'src/a.txt'), 'cp:/tmp/esc/planted']);
      assert.notEqual(viaLink.code, 0, 'the container has no such directory');
      const follow = await d(['cp', '-L', 'cp:/tmp/escfile', path.join(work, `leak-${kind}`)]);
      assert.notEqual(follow.code, 0, 'the host file is not reachable');
      assert.ok(!fs.existsSync(path.join(work, `leak-${kind}`)));
      ok(await d(['exec', 'cp', 'mkdir', '-p', outside]), 'the same path inside');
      ok(await d(['cp', path.join(work, 'src/a.txt'), 'cp:/tmp/esc/planted']), 'cp through the link');
      assert.equal(await exec('cp', `cat ${outside}/planted`), 'alpha\n', 'it landed inside the container');
      assert.equal(snapshot(outside), before0, 'nothing changed on the host');
    });

    test('volumes, stopped containers, and dir/non-dir conflicts', async () => {
      ok(await d(['cp', path.join(work, 'src/a.txt'), 'cp:/vol/']), 'cp into a volume');
      assert.equal(await exec('cp', 'cat /vol/a.txt'), 'alpha\n');
      ok(await d(['stop', '-t', '1', 'cp']), 'stop');
      ok(await d(['cp', path.join(work, 'src/sub'), 'cp:/vol/']), 'cp into a volume of a stopped container');
      ok(await d(['cp', path.join(work, 'src/sub'), 'cp:/root/']), 'cp into a stopped container');
      const out = path.join(work, `stopped-${kind}`);
      ok(await d(['cp', 'cp:/tmp/a.txt', out]), 'cp out of a stopped container');
      assert.equal(fs.readFileSync(out, 'utf8'), 'alpha\n');
      ok(await d(['create', '--name', 'never', '--network', 'none', 'busybox', 'true']), 'create');
      ok(await d(['cp', path.join(work, 'src/a.txt'), 'never:/a.txt']), 'cp into a created container');
      const n = await d(['cp', 'never:/a.txt', '-']);
      assert.match(n.stdout, /alpha/);
      ok(await d(['rm', 'never']), 'rm');
      ok(await d(['start', 'cp']), 'start');
      assert.equal(await exec('cp', 'cat /vol/sub/b.txt /root/sub/b.txt'), 'beta\nbeta\n');
      const tar = execFileSync('tar', ['-C', path.join(work, 'src'), '-cf', '-', 'sub']);
      ok(await d(['exec', 'cp', 'sh', '-c', 'mkdir -p /tmp/conflict && touch /tmp/conflict/sub']), 'a file where the tar has a dir');
      const r = await apiCall(e, 'PUT', '/v1.41/containers/cp/archive?path=/tmp/conflict&noOverwriteDirNonDir=true', tar, { 'Content-Type': 'application/x-tar' });
      assert.ok(r.status >= 400, `status ${r.status}`);
      assert.match(errorMessage(r), /cannot overwrite non-directory/);
      const notDir = await apiCall(e, 'PUT', '/v1.41/containers/cp/archive?path=/etc/passwd', tar, { 'Content-Type': 'application/x-tar' });
      assert.ok(notDir.status >= 400, `status ${notDir.status}`);
      assert.match(errorMessage(notDir), /extraction point is not a directory/);
    });

    test('-a gives the container user ownership; read-only rootfs and volumes refuse', async () => {
      ok(await d(['run', '-d', '--name', 'usr', '--network', 'none', '-u', 'nobody', '--read-only', '-v', `rovol-${kind}:/ro:ro`, '-v', `rwvol-${kind}:/rw`, 'busybox', 'sleep', '1000']), 'run');
      ok(await d(['cp', '-a', path.join(work, 'src/a.txt'), 'usr:/rw/owned.txt']), 'cp -a');
      ok(await d(['cp', path.join(work, 'src/sub/b.txt'), 'usr:/rw/kept.txt']), 'cp');
      assert.equal(await exec('usr', 'stat -c "%u:%g" /rw/owned.txt /rw/kept.txt'), '65534:65534\n1234:4321\n');
      const ro = await d(['cp', path.join(work, 'src/a.txt'), 'usr:/tmp/']);
      assert.equal(ro.code, 1);
      assert.match(ro.stderr, /container rootfs is marked read-only/);
      const rov = await d(['cp', path.join(work, 'src/a.txt'), 'usr:/ro/']);
      assert.equal(rov.code, 1);
      assert.match(rov.stderr, /mounted volume is marked read-only/);
      ok(await d(['rm', '-f', 'usr']), 'rm');
    });

    test('export writes the merged rootfs without volumes', async () => {
      ok(await d(['exec', 'cp', 'sh', '-c', 'echo exported > /exported && rm /bin/vi']), 'exec');
      const f = path.join(work, `export-${kind}.tar`);
      ok(await d(['export', '-o', f, 'cp']), 'export');
      const names = tarList(f).map((n) => n.replace(/^\.\//, ''));
      for (const n of ['bin/busybox', 'etc/passwd', 'exported', 'tmp/a.txt']) assert.ok(names.includes(n), `${n} in the export`);
      assert.ok(!names.includes('bin/vi'), 'deleted files are not exported');
      assert.ok(names.includes('vol/'), 'the mount point is');
      assert.deepEqual(names.filter((n) => n.startsWith('vol/') && n !== 'vol/'), [], 'volume contents are not exported');
      assert.equal(execFileSync('tar', ['-xOf', f, names.includes('exported') ? 'exported' : './exported'], { encoding: 'utf8' }), 'exported\n');
    });

    test('import of a file, of stdin and of an http URL, with changes and a message', async () => {
      const tar = busyboxTar();
      const a = await d(['import', '-c', 'CMD ["echo", "from-file"]', '-m', 'from a file', tar, 'imp:file']);
      ok(a, 'import file');
      assert.match(a.stdout, /^sha256:[a-f0-9]{64}\n$/);
      assert.equal((await d(['run', '--rm', '--network', 'none', 'imp:file'])).stdout, 'from-file\n');
      assert.equal(lines((await d(['history', '--format', '{{.Comment}}', 'imp:file'])).stdout)[0], 'from a file');
      const gz = execFileSync('gzip', ['-c', tar]);
      ok(await d(['import', '-c', 'ENV IMPORTED=stdin', '-', 'imp:stdin'], { input: gz }), 'import - (gzip)');
      assert.equal((await d(['run', '--rm', '--network', 'none', 'imp:stdin', 'sh', '-c', 'echo $IMPORTED'])).stdout, 'stdin\n');
      const server = http.createServer((req, res) => {
        if (req.url !== '/rootfs.tar') {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/x-tar', 'Content-Length': fs.statSync(tar).size });
        fs.createReadStream(tar).pipe(res);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as AddressInfo).port;
      try {
        const u = await d(['import', '-c', 'CMD ["echo", "from-url"]', '-m', 'from a url', `http://127.0.0.1:${port}/rootfs.tar`, 'imp:url']);
        ok(u, 'import URL');
        assert.match(lines(u.stdout).at(-1)!, /^sha256:[a-f0-9]{64}$/);
        assert.equal((await d(['run', '--rm', '--network', 'none', 'imp:url'])).stdout, 'from-url\n');
        assert.equal(lines((await d(['history', '--format', '{{.Comment}}', 'imp:url'])).stdout)[0], 'from a url');
        const bad = await d(['import', `http://127.0.0.1:${port}/missing.tar`, 'imp:missing']);
        assert.equal(bad.code, 1);
        assert.match(bad.stderr + bad.stdout, /404/);
      } finally {
        server.close();
      }
    });
  });
}
