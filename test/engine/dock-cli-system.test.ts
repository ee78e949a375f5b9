// Volumes, networks, published ports and the system commands of the dock CLI, against a real engine
// running inside a test network namespace (bridges, veths and NAT rules stay in there), compared with
// the docker CLI 28 on the same engine.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { both, dock, dockerCli, same } from './lib/dock-cli';
import type { Engine } from './lib/engine';
import { ENGINE_KINDS, engineSkipReason, importBusybox, startEngine } from './lib/engines';
import { createNetns, type Netns } from './lib/netns';

for (const kind of ENGINE_KINDS) {
  describe(`dock CLI vs docker CLI: volumes, networks, system on ${kind}`, { skip: engineSkipReason(kind) }, () => {
    const skip = undefined;
    let e: Engine;
    let ns: Netns;
    const P = `dcs${process.pid}`;

    before(async () => {
      if (skip) return;
      ns = createNetns('dcs');
      e = await startEngine(kind, { netns: ns });
      await importBusybox(e);
    });
    after(async () => {
      if (e) {
        const ids = (await dockerCli(e, ['ps', '-aq'])).stdout.split('\n').filter(Boolean);
        if (ids.length) await dockerCli(e, ['rm', '-f', ...ids]);
        await e.stop();
      }
      ns?.remove();
    });

    const ids = (s: string) => s.replace(/\b[a-f0-9]{64}\b/g, 'ID').replace(/\b[a-f0-9]{12}\b/g, 'SHORTID');

    test('volumes: create, ls, inspect, rm, prune, in use', { skip }, async () => {
      const vd = await dockerCli(e, ['volume', 'create', '--label', 'k=v', '-o', 'type=tmpfs', '-o', 'device=tmpfs', `${P}-v1`]);
      const vk = await dock(e, ['volume', 'create', '--label', 'k=v', '-o', 'type=tmpfs', '-o', 'device=tmpfs', `${P}-v2`]);
      assert.equal(vk.code, 0, vk.stderr);
      assert.equal(vk.stdout, `${P}-v2\n`);
      assert.equal(vd.stdout, `${P}-v1\n`);
      const anon = await dock(e, ['volume', 'create']);
      assert.match(anon.stdout, /^[a-f0-9]{64}\n$/);
      for (const argv of [
        ['volume', 'ls'],
        ['volume', 'ls', '-q'],
        ['volume', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Labels}} {{.Label "k"}} {{.Scope}} {{.Mountpoint}}'],
        ['volume', 'ls', '--format', 'json'],
        ['volume', 'ls', '-f', 'label=k=v'],
        ['volume', 'ls', '-f', 'bogus=1'],
        ['volume', 'inspect', `${P}-v1`, `${P}-v2`],
        ['volume', 'inspect', '-f', '{{.Name}} {{.Options.type}} {{.Labels.k}}', `${P}-v1`],
        ['volume', 'inspect', 'nosuch'],
        ['volume', 'rm', 'nosuch'],
        ['volume', 'rm', '-f', 'nosuch'],
        ['volume', 'create', '--name', 'a', 'b'],
      ]) {
        await same(assert, e, argv);
      }
      // In use: 409 with the holder named.
      await dockerCli(e, ['run', '-d', '--network', 'none', '--name', `${P}-vu`, '-v', `${P}-v1:/data`, '-v', `${P}-v2:/data2`, 'busybox', 'sleep', '300']);
      const inUse = await both(e, ['volume', 'rm', `${P}-v1`]);
      assert.equal(inUse.dock.code, 1);
      assert.equal(ids(inUse.dock.stderr), ids(inUse.docker.stderr));
      await dockerCli(e, ['rm', '-f', `${P}-vu`]);
      const rd = await dockerCli(e, ['volume', 'rm', `${P}-v1`]);
      const rk = await dock(e, ['volume', 'rm', `${P}-v2`]);
      assert.equal(rd.stdout, `${P}-v1\n`);
      assert.equal(rk.stdout, `${P}-v2\n`);
      await same(assert, e, ['volume', 'prune'], { input: 'n\n' });
      await dockerCli(e, ['volume', 'create', `${P}-named`]);
      const pr = await dock(e, ['volume', 'prune', '-f', '-a']);
      assert.equal(pr.code, 0, pr.stderr);
      assert.match(pr.stdout, new RegExp(`^Deleted Volumes:\\n(.+\\n)*${P}-named\\n(.+\\n)*\\nTotal reclaimed space: `));
      await same(assert, e, ['volume', 'prune', '-f']);
    });

    test('networks: create, ls, inspect, connect, disconnect, rm, prune', { skip }, async () => {
      const nd = await dockerCli(e, ['network', 'create', '--subnet', '10.77.1.0/24', '--label', 'k=v', `${P}-n1`]);
      const nk = await dock(e, ['network', 'create', '--subnet', '10.77.2.0/24', '--gateway', '10.77.2.254', '--label', 'k=v', `${P}-n2`]);
      assert.equal(nd.code, 0, nd.stderr);
      assert.equal(nk.code, 0, nk.stderr);
      assert.match(nk.stdout, /^[a-f0-9]{64}\n$/);
      const gw = await dockerCli(e, ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}} {{.Labels.k}}', `${P}-n2`]);
      assert.equal(gw.stdout, '10.77.2.0/24 10.77.2.254 v\n');
      for (const argv of [
        ['network', 'ls'],
        ['network', 'ls', '--no-trunc'],
        ['network', 'ls', '-q'],
        ['network', 'ls', '-f', 'label=k=v', '--format', '{{.Name}} {{.Driver}} {{.Scope}} {{.Internal}} {{.IPv6}} {{.Labels}}'],
        ['network', 'ls', '--format', 'json'],
        ['network', 'inspect', `${P}-n1`],
        ['network', 'inspect', 'nosuch'],
        ['network', 'create', `${P}-n1`],
        ['network', 'create', '--subnet', '10.77.3.0/24', '--ip-range', '10.78.0.0/24', 'bad'],
        ['network', 'create', '--subnet', 'zz', 'bad'],
        ['network', 'rm', 'nosuch'],
        ['network', 'rm', '-f', 'nosuch'],
        ['network', 'connect', 'nosuch', 'nosuch'],
      ]) {
        await same(assert, e, argv, { stdout: ids, stderr: ids });
      }
      for (const [who, n] of [['d', `${P}-n1`], ['k', `${P}-n2`]] as const) {
        await dockerCli(e, ['run', '-d', '--name', `${P}-c${who}`, 'busybox', 'sleep', '300']);
        const run = who === 'd' ? dockerCli : dock;
        const c = await run(e, ['network', 'connect', '--alias', 'svc', n, `${P}-c${who}`]);
        assert.equal(c.code, 0, c.stderr);
        const ins = await dockerCli(e, ['inspect', '-f', `{{json (index .NetworkSettings.Networks "${n}").Aliases}}`, `${P}-c${who}`]);
        assert.match(ins.stdout, /"svc"/);
        const dc = await run(e, ['network', 'disconnect', n, `${P}-c${who}`]);
        assert.equal(dc.code, 0, dc.stderr);
      }
      const rd = await dockerCli(e, ['network', 'rm', `${P}-n1`]);
      assert.equal(rd.stdout, `${P}-n1\n`);
      await same(assert, e, ['network', 'rm', `${P}-n1`]);
      const rk = await dock(e, ['network', 'rm', `${P}-n2`]);
      assert.equal(rk.stdout, `${P}-n2\n`);
      await dockerCli(e, ['network', 'create', `${P}-n3`]);
      const pr = await dock(e, ['network', 'prune', '-f']);
      assert.equal(pr.stdout, `Deleted Networks:\n${P}-n3\n\n`);
      await same(assert, e, ['network', 'prune', '-f']);
    });

    test('published ports: ps PORTS column and port', { skip }, async () => {
      await dockerCli(e, ['run', '-d', '--name', `${P}-p`, '-p', '127.0.0.1:18080:80', '-p', '9000-9001:9000-9001/udp', '-p', '7000', '--expose', '6000', 'busybox', 'sleep', '300']);
      for (const argv of [
        ['ps', '--format', '{{.Names}}\t{{.Ports}}'],
        ['ps', '-f', `name=${P}-p`],
        ['port', `${P}-p`],
        ['port', `${P}-p`, '80'],
        ['port', `${P}-p`, '9000/udp'],
        ['port', `${P}-p`, '6000'],
        ['inspect', '-f', '{{json .NetworkSettings.Ports}} {{.HostConfig.PortBindings}}', `${P}-p`],
      ]) {
        await same(assert, e, argv, { stdout: (s) => s.replace(/0\.0\.0\.0:\d+->7000/g, '0.0.0.0:P->7000').replace(/:::\d+->7000/g, ':::P->7000').replace(/7000\/tcp -> (.*):\d+/g, '7000/tcp -> $1:P') });
      }
    });

    test('version, info, system df, system prune', { skip }, async () => {
      const v = await both(e, ['version']);
      assert.equal(v.dock.code, 0, v.dock.stderr);
      const server = (s: string) => s.slice(s.indexOf('\nServer:'));
      assert.equal(server(v.dock.stdout), server(v.docker.stdout), 'the Server block is the engine\'s');
      // The client negotiates down to dockerd 20.10's API 1.41; the dock engine speaks 1.45 itself.
      const api = kind === 'dock' ? '1\\.45' : '\\d\\.\\d+ \\(downgraded from 1\\.45\\)';
      assert.match(v.dock.stdout, new RegExp(`^Client:\\n Version:           test\\n API version:       ${api}\\n Go version:        node v\\d+`));
      for (const argv of [
        ['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}} {{.Server.Os}}'],
        ['version', '--format', '{{.Nope'],
        ['info', '--format', '{{.Name}} {{.OSType}} {{.Containers}} {{json .Swarm}}'],
        ['info', '--format', '{{.Nope}}'],
        ['system', 'df'],
        ['system', 'df', '--format', '{{.Type}}: {{.TotalCount}} {{.Active}} {{.Size}}'],
        ['system', 'df', '--format', 'json'],
        ['system', 'prune'],
      ]) {
        await same(assert, e, argv, { input: 'n\n' });
      }
      // info: the Server section is printed from the engine's /info, field by field as docker does.
      const i = await both(e, ['info']);
      assert.equal(i.dock.code, 0, i.dock.stderr);
      // Runtimes come from a Go map: docker prints them in random order.
      const infoOut = (s: string) => server(s.replace(/\n Username: .*/, '')).replace(/( Runtimes:)(.*)/, (_m, a: string, b: string) => a + b.split(' ').sort().join(' '));
      assert.equal(infoOut(i.dock.stdout), infoOut(i.docker.stdout));
      assert.equal(i.dock.stderr, i.docker.stderr);
      await dockerCli(e, ['run', '--network', 'none', '--name', `${P}-stopped`, 'busybox', 'true']);
      const sp = await dock(e, ['system', 'prune', '-f']);
      assert.equal(sp.code, 0, sp.stderr);
      assert.match(sp.stdout, /^Deleted Containers:\n[a-f0-9]{64}\n\n(.|\n)*Total reclaimed space: \S+\n$/);
      await same(assert, e, ['system', 'prune', '-f', '--volumes', '--filter', 'until=1h']);
    });
  });
}
