// dock's networking against the reference dockerd 20.10, each in its own test namespace: the same
// mistakes give the same words, the same containers get the same /etc/hosts, resolv.conf and
// --link environment, and the iptables rules have dockerd's shape (names mapped, comments dropped).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { busyboxTar, BUSYBOX_CHANGES } from '../lib/busybox';
import { docker } from '../lib/docker-cli';
import { dockerdSkipReason, startDockerd } from '../lib/dockerd';
import type { Engine } from '../lib/engine';
import { createNetns, type Netns } from '../lib/netns';
import { buildHostsFile, buildResolvConf, linkEnv, parseExtraHosts, readHostResolvConf } from '../../../src/manager/network/index';
import { startController, type RemoteController } from './lib/remote';

const skip = dockerdSkipReason();
const cid = (c: string) => c.repeat(64).slice(0, 64);
const daemonError = (stderr: string) => stderr.replace(/^(docker: )?Error response from daemon: /m, '').split('\n')[0]!.trim();

describe('dock networking against dockerd 20.10', { skip }, () => {
  let dns: Netns;
  let ons: Netns;
  let e: Engine;
  let c: RemoteController;
  const d = async (...argv: string[]) => docker(e, argv);

  before(async () => {
    dns = createNetns('knetref');
    ons = createNetns('knetours');
    e = await startDockerd({ netns: dns });
    const imp = await d('import', ...BUSYBOX_CHANGES.flatMap((x) => ['-c', x]), busyboxTar(), 'busybox:latest');
    assert.equal(imp.code, 0, imp.stderr);
    c = await startController(ons);
    await c.reconcile([]);
  });

  after(async () => {
    if (e) {
      await d('rm', '-f', 'web', 'src', 'web2');
      await e.stop();
    }
    await c?.stop();
    dns?.remove();
    ons?.remove();
  });

  test('the same mistakes give the same words', async () => {
    const ref = async (...argv: string[]) => {
      const r = await d(...argv);
      assert.notEqual(r.code, 0, `dockerd accepted ${argv.join(' ')}`);
      return daemonError(r.stderr);
    };
    const ours = (p: Promise<unknown>) => p.then(() => assert.fail('dock accepted it'), (x: Error) => x.message);
    assert.equal((await d('network', 'create', '--subnet', '10.10.0.0/24', 'n1')).code, 0);
    await c.createNetwork({ name: 'n1', ipam: { config: [{ subnet: '10.10.0.0/24' }] } });
    assert.equal(await ours(c.createNetwork({ name: 'n2', ipam: { config: [{ subnet: '10.10.0.0/25' }] } })), await ref('network', 'create', '--subnet', '10.10.0.0/25', 'n2'));
    assert.equal(await ours(c.createNetwork({ name: 'n1' })), await ref('network', 'create', 'n1'));
    assert.equal(await ours(c.createNetwork({ name: 'n3', ipam: { config: [{ subnet: 'bogus' }] } })), await ref('network', 'create', '--subnet', 'bogus', 'n3'));
    assert.equal(await ours(c.removeNetwork('nosuch')), await ref('network', 'rm', 'nosuch'));
    // A container on n1, then the errors that need one.
    assert.equal((await d('run', '-d', '--name', 'web', '--network', 'n1', '-p', '8080:80', 'busybox', 'sleep', '600')).code, 0);
    const refId = (await d('network', 'inspect', '-f', '{{.Id}}', 'n1')).stdout.trim();
    const ourId = (await c.inspectNetwork('n1')).Id;
    await c.createSandbox(cid('a'), { name: 'web' });
    await c.attach(cid('a'), 'n1');
    await c.publish(cid('a'), [{ containerPort: 80, hostPort: '8080' }]);
    assert.equal((await ours(c.removeNetwork('n1'))).replace(ourId, 'ID'), (await ref('network', 'rm', 'n1')).replace(refId, 'ID'));
    await c.createSandbox(cid('b'), { name: 'src' });
    assert.equal(await ours(c.attach(cid('b'), 'n1', { ipv4Address: '10.99.0.5' })), await ref('run', '-d', '--name', 'src', '--network', 'n1', '--ip', '10.99.0.5', 'busybox', 'true'));
    await d('rm', '-f', 'src');
    // The port clash: same words up to the endpoint id.
    await c.attach(cid('b'), 'bridge');
    const refClash = await ref('run', '-d', '--name', 'web2', '-p', '8080:80', 'busybox', 'sleep', '600');
    await d('rm', '-f', 'web2');
    const ourClash = await ours(c.publish(cid('b'), [{ containerPort: 80, hostPort: '8080' }]));
    const norm = (s: string) => s.replace(/endpoint \S+ \([0-9a-f]{64}\)/, 'endpoint X (ID)');
    assert.equal(norm(ourClash).replace('endpoint src', 'endpoint web2'), norm(refClash));
    await c.releaseSandbox(cid('a'));
    await c.releaseSandbox(cid('b'));
  });

  test('the same /etc/hosts, resolv.conf and --link environment', async () => {
    assert.equal((await d('run', '-d', '--name', 'src', '-e', 'FOO=bar', '-e', 'HOME=/x', '--expose', '80', '--expose', '8000-8002', '--expose', '53/udp', 'busybox', 'sleep', '600')).code, 0);
    const srcId = (await d('inspect', '-f', '{{.Id}}', 'src')).stdout.trim();
    const srcIp = (await d('inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'src')).stdout.trim();
    const r = await d('run', '--rm', '--name', 'lnk', '--link', 'src:al', '--add-host', 'h1:1.2.3.4', '--add-host', 'gw:host-gateway', '--hostname', 'myhost', 'busybox', 'sh', '-c', "env; echo @@; cat /etc/hosts; echo @@; cat /etc/resolv.conf; echo @@; ip -4 -o addr show eth0 | awk '{print $4}'");
    assert.equal(r.code, 0, r.stderr);
    const [env, hosts, resolv, addr] = r.stdout.split('@@\n');
    const ownIp = addr!.trim().split('/')[0]!;
    assert.equal(
      buildHostsFile({ hostname: 'myhost', addresses: [ownIp], extraHosts: parseExtraHosts(['h1:1.2.3.4', 'gw:host-gateway'], '172.17.0.1'), links: [{ ip: srcIp, alias: 'al', name: 'src', hostname: srcId.slice(0, 12) }] }),
      hosts,
    );
    const refLink = env!.split('\n').filter((l) => l.startsWith('AL_')).sort();
    const ourLink = linkEnv({ parentName: 'lnk', alias: 'al', childIp: srcIp, exposedPorts: ['80/tcp', '8000/tcp', '8001/tcp', '8002/tcp', '53/udp'], childEnv: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'FOO=bar', 'HOME=/x'] }).sort();
    assert.deepEqual(ourLink, refLink);
    // The default bridge copies the host's resolv.conf (both daemons read this machine's file).
    assert.equal(buildResolvConf({ host: readHostResolvConf() }), resolv);
    // User networks: dockerd's 127.0.0.11 is our gateway address; the rest is the same.
    const u = await d('run', '--rm', '--network', 'n1', '--dns-search', 'ex.com', '--dns-option', 'timeout:2', 'busybox', 'cat', '/etc/resolv.conf');
    const ours = buildResolvConf({ host: readHostResolvConf(), dnsSearch: ['ex.com'], dnsOptions: ['timeout:2'], embeddedDns: '10.10.0.1' });
    assert.equal(ours.replace('nameserver 10.10.0.1', 'nameserver 127.0.0.11'), u.stdout);
  });

  test('iptables: dockerd’s forward, isolation and masquerade rules, under KEEL names', async () => {
    assert.equal((await d('network', 'create', '--internal', 'int1')).code, 0);
    await c.createNetwork({ name: 'int1', internal: true });
    const refBr = (n: string) => d('network', 'inspect', '-f', '{{.Id}}', n).then((r) => `br-${r.stdout.trim().slice(0, 12)}`);
    const ourBr = async (n: string) => (await c.inspectNetwork(n)).Options['com.docker.network.bridge.name'] ?? `br-${(await c.inspectNetwork(n)).Id.slice(0, 12)}`;
    const names: [string, string][] = [
      [await refBr('n1'), 'BR_N1'],
      [await refBr('int1'), 'BR_INT1'],
      ['docker0', 'BR_DEFAULT'],
      [await ourBr('n1'), 'BR_N1'],
      [await ourBr('int1'), 'BR_INT1'],
      ['keel0', 'BR_DEFAULT'],
    ];
    const normalize = (save: string, ours: boolean) =>
      save
        .split('\n')
        .filter((l) => l.startsWith('-A '))
        .map((l) => l.replace(/ -m comment --comment \S+/g, ''))
        .map((l) => names.reduce((s, [from, to]) => s.split(from).join(to), l))
        .map((l) => (ours ? l.replace(/KEEL/g, 'DOCKER').replace(/^-A DOCKER-FORWARD /, '-A FORWARD ') : l))
        .filter((l) => / (FORWARD|DOCKER-ISOLATION-STAGE-[12]) /.test(l) && !/-j (DOCKER-USER|DOCKER-FORWARD|DOCKER-ISOLATION-STAGE-1)$/.test(l) && !/ctstate DNAT -j RETURN/.test(l))
        .sort();
    const ref = normalize(dns.run(['iptables-save', '-t', 'filter']), false);
    const ours = normalize(ons.run(['iptables-save', '-t', 'filter']), true);
    assert.deepEqual(ours, ref);
    const masq = (save: string, ours: boolean) =>
      save
        .split('\n')
        .filter((l) => l.includes('MASQUERADE') && l.includes(' ! -o '))
        .map((l) => names.reduce((s, [from, to]) => s.split(from).join(to), l.replace(/ -m comment --comment \S+/g, '')))
        .map((l) => (ours ? l.replace('KEEL-POSTROUTING', 'POSTROUTING') : l))
        .map((l) => l.replace(/-s \S+/, '-s SUBNET'))
        .sort();
    assert.deepEqual(masq(ons.run(['iptables-save', '-t', 'nat']), true), masq(dns.run(['iptables-save', '-t', 'nat']), false));
  });
});
