// The NetworkController for real, inside a namespace this test creates: networks and their errors,
// sandboxes with veths, addresses, MACs and routes, published ports (127.0.0.1, the host's own
// address, IPv6 through the proxy, a second namespace standing in for another machine, other
// sandboxes through the host address), clashes, and the embedded DNS server.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { createNetns, type Netns } from '../lib/netns';
import { dnsProbe, dnsTcpProbe, dnsUpstream, tcpProbe, tcpServer, udpEcho, udpProbe, type Peer } from './lib/peers';
import { countLeftovers, startController, type RemoteController } from './lib/remote';
import * as fs from 'node:fs';
import * as path from 'node:path';

const skip = process.getuid?.() !== 0 ? 'needs root' : undefined;
const cid = (c: string) => c.repeat(64).slice(0, 64);
const inNs = (p: string, argv: string[]) => execFileSync('nsenter', [`--net=${p}`, '--', ...argv], { encoding: 'utf8' });

describe('network controller in a test namespace', { skip }, () => {
  let ns: Netns;
  let other: Netns;
  let c: RemoteController;
  const peers: Peer[] = [];
  let baseline: ReturnType<typeof countLeftovers>;
  let rcDir: string | undefined;

  before(async () => {
    ns = createNetns('knet');
    other = createNetns('knetother');
    // The other "machine": a veth between the daemon's namespace and a second one.
    const a = `ko${process.pid % 100000}`;
    execFileSync('ip', ['-n', ns.name, 'link', 'add', a, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', other.name]);
    ns.run(['ip', 'addr', 'add', '192.0.2.1/24', 'dev', a]);
    ns.run(['ip', 'link', 'set', a, 'up']);
    other.run(['ip', 'addr', 'add', '192.0.2.2/24', 'dev', 'eth0']);
    other.run(['ip', 'link', 'set', 'eth0', 'up']);
    // The host's resolver: an upstream inside the namespace answering 203.0.113.7 for any name.
    rcDir = fs.mkdtempSync('/tmp/knet-rc-');
    const rc = path.join(rcDir, 'resolv.conf');
    fs.writeFileSync(rc, 'nameserver 127.0.0.1\nsearch corp.example\n');
    peers.push(await dnsUpstream(ns.path, '127.0.0.1', '203.0.113.7'));
    c = await startController(ns, { resolvConf: rc });
    await c.reconcile([]);
    baseline = countLeftovers(ns, c);
  });

  after(async () => {
    for (const p of peers) p.stop();
    await c?.stop();
    other?.remove();
    ns?.remove();
    if (rcDir) fs.rmSync(rcDir, { recursive: true, force: true });
  });

  test('predefined networks and the default bridge on 172.17.0.0/16', async () => {
    const list = await c.listNetworks();
    assert.deepEqual(list.map((n) => n.Name).sort(), ['bridge', 'host', 'none']);
    const b = await c.inspectNetwork('bridge');
    assert.deepEqual(b.IPAM.Config, [{ Subnet: '172.17.0.0/16', Gateway: '172.17.0.1' }]);
    assert.match(ns.run(['ip', '-4', 'addr', 'show', 'keel0']), /inet 172\.17\.0\.1\/16/);
    assert.equal(baseline.bridges, 1);
  });

  test('user networks: pool order, options, and dockerd errors that leave nothing behind', async () => {
    const { Id } = await c.createNetwork({ name: 'auto1', labels: { a: 'b' } });
    const n = await c.inspectNetwork('auto1');
    assert.equal(n.Id, Id);
    assert.deepEqual(n.IPAM.Config, [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }]);
    assert.deepEqual(n.Labels, { a: 'b' });
    assert.equal((await c.inspectNetwork(Id.slice(0, 5))).Name, 'auto1');
    await c.createNetwork({ name: 'n1', ipam: { config: [{ subnet: '10.10.0.0/24', gateway: '10.10.0.254', ipRange: '10.10.0.128/25' }] }, options: { 'com.docker.network.bridge.name': 'kbr-n1' } });
    assert.match(ns.run(['ip', '-4', 'addr', 'show', 'kbr-n1']), /inet 10\.10\.0\.254\/24/);
    // The bridge's MAC is set (not inherited from its ports), so joining veths never change it.
    assert.match(ns.run(['ip', '-d', 'link', 'show', 'kbr-n1']), /link\/ether 02:42:/);
    const links = ns.run(['ip', '-br', 'link']);
    await assert.rejects(c.createNetwork({ name: 'n2', ipam: { config: [{ subnet: '10.10.0.0/25' }] } }), { message: 'Pool overlaps with other one on this address space' });
    await assert.rejects(c.createNetwork({ name: 'n1' }), { message: 'network with name n1 already exists' });
    await assert.rejects(c.createNetwork({ name: 'n3', ipam: { config: [{ subnet: '10.11.0.0/24', gateway: '10.12.0.1' }] } }), { message: 'no matching subnet for gateway 10.12.0.1' });
    await assert.rejects(c.createNetwork({ name: 'n3', ipam: { config: [{ subnet: 'bogus' }] } }), { message: 'Invalid subnet bogus : invalid CIDR address: bogus' });
    await assert.rejects(c.createNetwork({ name: 'n3', options: { 'com.docker.network.bridge.name': 'kbr-n1' } }), { message: 'bridge name kbr-n1 is already in use' });
    await assert.rejects(c.removeNetwork('nosuch'), { message: 'network nosuch not found' });
    await assert.rejects(c.removeNetwork('bridge'), { message: 'bridge is a pre-defined network and cannot be removed' });
    assert.equal(ns.run(['ip', '-br', 'link']), links);
    await c.createNetwork({ name: 'int1', internal: true });
    assert.deepEqual((await c.inspectNetwork('int1')).IPAM.Config, [{ Subnet: '172.19.0.0/16', Gateway: '172.19.0.1' }]);
  });

  test('sandboxes: veths, 02:42 MACs, routes, --ip, --mac, several networks, detach', async () => {
    const a = cid('a');
    const { netnsPath } = await c.createSandbox(a, { name: 'web' });
    assert.equal(await c.sandboxPath(a), netnsPath);
    const e1 = await c.attach(a, 'n1', { aliases: ['www'] });
    assert.equal(e1.IPAddress, '10.10.0.128');
    assert.equal(e1.MacAddress, '02:42:0a:0a:00:80');
    assert.deepEqual(e1.Aliases, ['www', a.slice(0, 12)]);
    const e2 = await c.attach(a, 'bridge');
    assert.equal(e2.IPAddress, '172.17.0.2');
    assert.equal(e2.Aliases, null);
    const addrs = inNs(netnsPath, ['ip', '-o', '-4', 'addr']);
    assert.match(addrs, /eth0\s+inet 10\.10\.0\.128\/24/);
    assert.match(addrs, /eth1\s+inet 172\.17\.0\.2\/16/);
    assert.match(inNs(netnsPath, ['ip', 'route']), /^default via 10\.10\.0\.254 dev eth0/m);
    assert.match(inNs(netnsPath, ['ip', 'link', 'show', 'eth1']), /02:42:ac:11:00:02/);

    const b = cid('b');
    await c.createSandbox(b, { name: 'db' });
    await assert.rejects(c.attach(b, 'n1', { ipv4Address: '10.99.0.5' }), { message: "Invalid address 10.99.0.5: It does not belong to any of this network's subnets" });
    await assert.rejects(c.attach(b, 'n1', { ipv4Address: '10.10.0.128' }), { message: 'Address already in use' });
    await assert.rejects(c.attach(b, 'bridge', { ipv4Address: '172.17.0.50' }), { message: 'user specified IP address is supported on user defined networks only' });
    await assert.rejects(c.attach(b, 'auto1', { ipv4Address: '172.18.0.50' }), { message: 'user specified IP address is supported only when connecting to networks with user configured subnets' });
    const e3 = await c.attach(b, 'n1', { ipv4Address: '10.10.0.9', macAddress: '02:42:AA:BB:CC:DD' });
    assert.deepEqual(e3.IPAMConfig, { IPv4Address: '10.10.0.9' });
    assert.match(inNs((await c.sandboxPath(b))!, ['ip', 'link', 'show', 'eth0']), /02:42:aa:bb:cc:dd/);
    const n1 = (await c.inspectNetwork('n1')).Id;
    await assert.rejects(c.removeNetwork('n1'), { message: `error while removing network: network n1 id ${n1} has active endpoints` });
    assert.deepEqual(Object.keys((await c.inspectNetwork('n1')).Containers).sort(), [a, b]);

    // Detach moves the default route to the remaining network.
    await c.detach(a, 'n1');
    assert.match(inNs(netnsPath, ['ip', 'route']), /^default via 172\.17\.0\.1 dev eth1/m);
    assert.doesNotMatch(inNs(netnsPath, ['ip', '-o', 'link']), /eth0/);
    await c.attach(a, 'n1', { aliases: ['www'] });
    assert.match(inNs(netnsPath, ['ip', '-o', '-4', 'addr']), /eth0\s+inet 10\.10\.0\.128\/24/);
  });

  test('published ports: DNAT on 127.0.0.1 and host addresses, IPv6 through the proxy, another machine, other sandboxes', async () => {
    const a = cid('a');
    const pa = (await c.sandboxPath(a))!;
    peers.push(await tcpServer(pa, 80, 'web'), await udpEcho(pa, 53, 'web-udp'));
    const ports = await c.publish(a, [
      { containerPort: 80, hostPort: '8080' },
      { containerPort: 53, proto: 'udp', hostPort: '5353' },
      { containerPort: 80, hostIp: '127.0.0.1', hostPort: '' },
    ]);
    assert.deepEqual(ports['80/tcp']!.slice(0, 2), [
      { HostIp: '0.0.0.0', HostPort: '8080' },
      { HostIp: '::', HostPort: '8080' },
    ]);
    assert.deepEqual(ports['80/tcp']![2], { HostIp: '127.0.0.1', HostPort: '32768' });
    // The ports go to the endpoint that has the default route: bridge, since n1 was re-attached.
    // Loopback goes through the kernel DNAT (source masqueraded to the gateway), not the proxy.
    assert.equal(tcpProbe(ns.path, '127.0.0.1', 8080), 'web 172.17.0.1');
    assert.equal(tcpProbe(ns.path, '127.0.0.1', 32768), 'web 172.17.0.1');
    assert.equal(tcpProbe(ns.path, '192.0.2.1', 8080), 'web 192.0.2.1');
    // IPv6 has no DNAT here: the proxy carries it and connects from the bridge's address.
    assert.equal(tcpProbe(ns.path, '::1', 8080), 'web 172.17.0.1');
    assert.equal(udpProbe(ns.path, '127.0.0.1', 5353), 'web-udp ping');
    // Another machine keeps its source address.
    other.run(['ip', 'route', 'add', 'default', 'via', '192.0.2.1']);
    assert.equal(tcpProbe(other.path, '192.0.2.1', 8080), 'web 192.0.2.2');
    assert.equal(udpProbe(other.path, '192.0.2.1', 5353), 'web-udp ping');
    assert.doesNotMatch(tcpProbe(other.path, '192.0.2.1', 32768, 1500), /^web/, '127.0.0.1-only binding must not answer on other addresses');
    // Another sandbox, on the same network and on another bridge, through the host's address.
    const b = cid('b');
    assert.equal(tcpProbe((await c.sandboxPath(b))!, '192.0.2.1', 8080), 'web 172.17.0.1');
    const d = cid('d');
    const pd = (await c.createSandbox(d, { name: 'other' })).netnsPath;
    await c.attach(d, 'auto1');
    assert.equal(tcpProbe(pd, '192.0.2.1', 8080), 'web 172.17.0.1');
    const pb = (await c.sandboxPath(b))!;
    assert.equal(tcpProbe(pb, '172.17.0.1', 8080), 'web 172.17.0.1', 'the gateway address is a host address too');
    // ...but not directly across bridges (isolation).
    assert.equal(tcpProbe(pd, '172.17.0.2', 80, 1500), 'TIMEOUT');
  });

  test('port clashes: dockerd wording, holder named, nothing half-bound', async () => {
    const e = cid('e');
    await c.createSandbox(e, { name: 'web2' });
    await c.attach(e, 'bridge');
    const before = ns.run(['ss', '-H', '-lntu']);
    const err = await c.publish(e, [{ containerPort: 81, hostPort: '9000' }, { containerPort: 80, hostPort: '8080' }]).catch((x: unknown) => x as Error & { holder: string });
    assert.ok(err instanceof Error);
    const epId = (await c.endpoints(e)).bridge!.EndpointID;
    assert.equal(err.message, `driver failed programming external connectivity on endpoint web2 (${epId}): Bind for 0.0.0.0:8080 failed: port is already allocated`);
    assert.equal(err.holder, cid('a'));
    assert.equal(ns.run(['ss', '-H', '-lntu']), before, 'the 9000 binding of the failed call was released');
    // A port held by a process that is not ours: dockerd's userland-proxy words.
    peers.push(await tcpServer(ns.path, 9100, 'squatter'));
    await assert.rejects(c.publish(e, [{ containerPort: 80, hostPort: '9100' }]), {
      message: `driver failed programming external connectivity on endpoint web2 (${epId}): Error starting userland proxy: listen tcp4 0.0.0.0:9100: bind: address already in use`,
    });
    // Ranges take the first free port; random ports skip taken ones.
    const r = await c.publish(e, [{ containerPort: 80, hostPort: '8080-8082' }, { containerPort: 81 }]);
    assert.equal(r['80/tcp']![0]!.HostPort, '8081');
    assert.equal(r['81/tcp']![0]!.HostPort, '32769');
    assert.deepEqual(await c.ports(e, ['82/tcp']), { ...r, '82/tcp': null });
  });

  test('DNS: names, aliases, short ids and name.network on shared networks only; forwarding; internal networks', async () => {
    const a = cid('a');
    const b = cid('b');
    const pb = (await c.sandboxPath(b))!;
    assert.equal(dnsProbe(pb, '10.10.0.254', 'web'), '["10.10.0.128"]');
    assert.equal(dnsProbe(pb, '10.10.0.254', 'WWW'), '["10.10.0.128"]');
    assert.equal(dnsProbe(pb, '10.10.0.254', a.slice(0, 12)), '["10.10.0.128"]');
    assert.equal(dnsProbe(pb, '10.10.0.254', 'web.n1'), '["10.10.0.128"]');
    assert.equal(dnsProbe(pb, '10.10.0.254', '10.10.0.128', 'PTR'), '["web.n1"]');
    // Forwarded to the host's upstream (the fake one in the namespace).
    assert.equal(dnsProbe(pb, '10.10.0.254', 'example.org'), '["203.0.113.7"]');
    // The same over TCP, local and forwarded.
    assert.equal(dnsTcpProbe(pb, '10.10.0.254', 'www'), 'NOERROR ["10.10.0.128"]');
    assert.equal(dnsTcpProbe(pb, '10.10.0.254', 'example.org'), 'NOERROR ["203.0.113.7"]');
    // "other" is on auto1 only: it does not see web, which is not on auto1.
    const pd = (await c.sandboxPath(cid('d')))!;
    assert.equal(dnsProbe(pd, '172.18.0.1', 'db'), '["203.0.113.7"]', 'a name not shared is not answered locally');
    // A link alias is private to the linking container.
    const f = cid('f');
    const pf = (await c.createSandbox(f, { name: 'linker' })).netnsPath;
    await c.attach(f, 'n1', { links: ['db:database'] });
    assert.equal(dnsProbe(pf, '10.10.0.254', 'database'), '["10.10.0.9"]');
    assert.equal(dnsProbe(pb, '10.10.0.254', 'database'), '["203.0.113.7"]');
    // Internal network: names resolve, nothing is forwarded, no route out.
    const g = cid('g');
    const pg = (await c.createSandbox(g, { name: 'inside' })).netnsPath;
    await c.attach(g, 'int1', { aliases: ['in1'] });
    assert.equal(dnsProbe(pg, '172.19.0.1', 'in1'), '["172.19.0.2"]');
    assert.equal(dnsProbe(pg, '172.19.0.1', 'example.org'), 'ESERVFAIL');
    peers.push(await tcpServer(other.path, 7000, 'outside'));
    assert.equal(tcpProbe(pb, '192.0.2.2', 7000), 'outside 192.0.2.1', 'a normal network reaches out, masqueraded');
    assert.equal(tcpProbe(pg, '192.0.2.2', 7000, 1500), 'TIMEOUT');
    // resolv.conf and hosts for these containers.
    assert.equal(await c.resolvConf(b, {}), 'search corp.example\nnameserver 10.10.0.254\noptions ndots:0\n');
    assert.equal(await c.resolvConf(undefined, {}), 'search corp.example\n\nnameserver 8.8.8.8\nnameserver 8.8.4.4');
    const hosts = await c.hostsFile(f, { hostname: 'linker', extraHosts: ['gw:host-gateway'], links: [{ containerId: a, name: 'web', alias: 'w', hostname: 'webhost' }] });
    assert.match(hosts, /\n172\.17\.0\.1\tgw\n172\.17\.0\.2\tw webhost web\n10\.10\.0\.\d+\tlinker\n$/);
  });

  test('teardown of every sandbox and network leaves exactly the baseline', async () => {
    for (const p of peers.splice(1)) p.stop();
    for (const id of ['a', 'b', 'd', 'e', 'f', 'g']) await c.releaseSandbox(cid(id));
    await c.releaseSandbox(cid('a'));
    for (const n of ['n1', 'auto1', 'int1']) await c.removeNetwork(n);
    assert.deepEqual(countLeftovers(ns, c), baseline);
    assert.deepEqual(fs.readdirSync(path.join(c.execRoot, 'netns')), []);
  });
});
