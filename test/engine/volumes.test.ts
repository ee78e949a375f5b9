// Volumes through the docker CLI, the same assertions against dock and dockerd 20.10: create with
// labels and driver options (a tmpfs volume), ls filters, inspect, copy-up of image content into a
// new named volume, anonymous volumes from the image's VOLUME, rm -v, prune.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { docker, type CliResult } from './lib/docker-cli';
import type { Engine } from './lib/engine';
import { ENGINE_KINDS, engineSkipReason, importBusybox, startEngine } from './lib/engines';
import { busyboxTar } from './lib/busybox';

const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}`);

for (const kind of ENGINE_KINDS) {
  describe(`volumes on ${kind}`, { skip: engineSkipReason(kind) }, () => {
    let e: Engine;
    const d = (args: string[]) => docker(e, args);
    before(async () => {
      e = await startEngine(kind);
      await importBusybox(e);
      // An image with a VOLUME holding content.
      ok(await docker(e, ['import', '-c', 'ENV PATH=/bin', '-c', 'VOLUME /etc', '-c', 'CMD ["sh"]', busyboxTar(), 'withvol:1']), 'import');
    });
    after(async () => {
      await e?.stop();
    });

    test('create, inspect, ls with filters, a tmpfs volume, rm', async () => {
      const c = await d(['volume', 'create', '--label', 'team=x', 'vlab']);
      assert.equal(c.stdout, 'vlab\n');
      ok(await d(['volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=1m', 'vtmp']), 'create tmpfs');
      const insp = JSON.parse((await d(['volume', 'inspect', 'vlab'])).stdout) as { Name: string; Driver: string; Labels: Record<string, string>; Mountpoint: string; Scope: string }[];
      assert.equal(insp[0]!.Name, 'vlab');
      assert.equal(insp[0]!.Driver, 'local');
      assert.deepEqual(insp[0]!.Labels, { team: 'x' });
      assert.equal(insp[0]!.Scope, 'local');
      assert.match(insp[0]!.Mountpoint, /\/volumes\/vlab\/_data$/);
      assert.equal((await d(['volume', 'ls', '-q', '--filter', 'label=team=x'])).stdout, 'vlab\n');
      assert.equal((await d(['volume', 'ls', '-q', '--filter', 'name=vt'])).stdout, 'vtmp\n');
      const t = await d(['run', '--rm', '--network', 'none', '-v', 'vtmp:/t', 'busybox', 'sh', '-c', 'grep " /t " /proc/mounts | cut -d" " -f3; echo x > /t/f; cat /t/f']);
      assert.equal(t.stdout, 'tmpfs\nx\n');
      ok(await d(['volume', 'rm', 'vlab', 'vtmp']), 'rm');
      const gone = await d(['volume', 'inspect', 'vlab']);
      assert.equal(gone.code, 1);
      assert.match(gone.stderr, /no such volume/);
    });

    test("a new named volume starts as a copy of the image's content there", async () => {
      const r = await d(['run', '--rm', '--network', 'none', '-v', 'cu:/etc', 'busybox', 'head', '-1', '/etc/passwd']);
      assert.equal(r.stdout, 'root:x:0:0:root:/root:/bin/sh\n');
      const again = await d(['run', '--rm', '--network', 'none', '-v', 'cu:/mnt', 'busybox', 'ls', '/mnt']);
      assert.match(again.stdout, /passwd/);
      ok(await d(['volume', 'rm', 'cu']), 'rm');
    });

    test("the image's VOLUME gets an anonymous volume; rm -v removes it, prune removes unused ones", async () => {
      ok(await d(['create', '--name', 'av', '--network', 'none', 'withvol:1', 'true']), 'create');
      const mounts = JSON.parse((await d(['inspect', '-f', '{{json .Mounts}}', 'av'])).stdout) as { Type: string; Name: string; Destination: string; RW: boolean }[];
      assert.equal(mounts.length, 1);
      assert.equal(mounts[0]!.Type, 'volume');
      assert.equal(mounts[0]!.Destination, '/etc');
      assert.match(mounts[0]!.Name, /^[a-f0-9]{64}$/);
      ok(await d(['rm', '-v', 'av']), 'rm -v');
      assert.doesNotMatch((await d(['volume', 'ls', '-q'])).stdout, new RegExp(mounts[0]!.Name));
      ok(await d(['create', '--name', 'av2', '--network', 'none', 'withvol:1', 'true']), 'create');
      ok(await d(['rm', 'av2']), 'rm without -v');
      ok(await d(['volume', 'create', 'named-keep']), 'create named');
      const pr = await d(['volume', 'prune', '-f']);
      ok(pr, 'prune');
      assert.match(pr.stdout, /Deleted Volumes:\n(named-keep\n)?[a-f0-9]{64}\n/);
      // API 1.42 made prune keep named volumes; dockerd 20.10 speaks 1.41 and removes them too.
      if (kind === 'dock') {
        assert.equal((await d(['volume', 'ls', '-q'])).stdout, 'named-keep\n');
        ok(await d(['volume', 'rm', 'named-keep']), 'rm');
      } else assert.equal((await d(['volume', 'ls', '-q'])).stdout, '');
    });
  });
}
