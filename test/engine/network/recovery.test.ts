// Failure scenarios: a kill -9 of the process holding the controller (with ports, sandboxes and
// networks live, and in the middle of operations), leaks planted the way a crash leaves them, and
// a restart whose reconcile must remove every leftover, keep the live containers working and
// restore their port proxies. Each kind of leftover is counted against the first baseline.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createNetns, type Netns } from '../lib/netns';
import { tcpProbe, tcpServer, type Peer } from './lib/peers';
import { countLeftovers, startController, type RemoteController } from './lib/remote';

const skip = process.getuid?.() !== 0 ? 'needs root' : undefined;
const cid = (c: string) => c.repeat(64).slice(0, 64);

describe('recovery after kill -9', { skip }, () => {
  let ns: Netns;
  let roots: { dataRoot: string; execRoot: string };
  let c: RemoteController | undefined;
  let baseline: ReturnType<typeof countLeftovers>;
  const peers: Peer[] = [];

  before(async () => {
    ns = createNetns('knetrec');
    roots = { dataRoot: fs.mkdtempSync('/tmp/knet-data-'), execRoot: fs.mkdtempSync('/tmp/knet-exec-') };
    c = await startController(ns, roots);
    await c.reconcile([]);
    baseline = countLeftovers(ns, roots);
  });

  after(async () => {
    for (const p of peers) p.stop();
    await c?.stop();
    ns?.remove();
    for (const d of Object.values(roots ?? {})) fs.rmSync(d, { recursive: true, force: true });
  });

  test('kill -9 with live state: the kernel keeps forwarding; restart reconciles leaks and restores proxies', async () => {
    await c!.createNetwork({ name: 'n1' });
    await c!.createNetwork({ name: 'n2' });
    const n3 = (await c!.createNetwork({ name: 'n3' })).Id;
    const s1 = cid('1');
    const p1 = (await c!.createSandbox(s1, { name: 's1' })).netnsPath;
    await c!.attach(s1, 'n1');
    await c!.publish(s1, [{ containerPort: 80, hostPort: '8080' }]);
    const s2 = cid('2');
    await c!.createSandbox(s2, { name: 's2' });
    await c!.attach(s2, 'n2');
    await c!.publish(s2, [{ containerPort: 80, hostPort: '8081' }]);
    const s3 = cid('3');
    await c!.createSandbox(s3, { name: 's3' });
    await c!.attach(s3, 'n1');
    await c!.attach(s3, 'bridge');
    peers.push(await tcpServer(p1, 80, 's1'));
    assert.match(tcpProbe(ns.path, '::1', 8080), /^s1 /);

    await c!.kill();
    c = undefined;
    // The DNAT path needs no daemon; the proxy-only path (IPv6) is down with it.
    assert.match(tcpProbe(ns.path, '127.0.0.1', 8080), /^s1 /);
    assert.equal(tcpProbe(ns.path, '::1', 8080), 'ERROR ECONNREFUSED');

    // What a crash in the middle of other operations leaves: a veth and a bridge of ours that no
    // record names, a netns mount without a sandbox, and a network whose record went but whose bridge stayed.
    ns.run(['ip', 'link', 'add', 'vethdead0', 'type', 'veth', 'peer', 'name', 'vethdead1']);
    ns.run(['ip', 'link', 'set', 'vethdead0', 'alias', `keel:e:${cid('9')}:${n3}`]);
    ns.run(['ip', 'link', 'add', 'br-gone', 'type', 'bridge']);
    ns.run(['ip', 'link', 'set', 'br-gone', 'alias', `keel:n:${cid('8')}`]);
    const stray = path.join(roots.execRoot, 'netns', cid('7'));
    fs.writeFileSync(stray, '');
    execFileSync('unshare', [`--net=${stray}`, 'true']);
    fs.rmSync(path.join(roots.dataRoot, 'network', 'networks', `${n3}.json`));

    c = await startController(ns, roots);
    const report = await c.reconcile([s1, s3]);
    assert.equal(report.sandboxes, 1, 's2 is not live: torn down');
    assert.equal(report.veths, 1);
    assert.equal(report.bridges, 2, 'br-gone and the bridge of the vanished n3');
    assert.equal(report.netns, 1);
    assert.equal(report.restoredPorts, 2, '8080 on 0.0.0.0 and ::');
    assert.deepEqual(report.lostPorts, []);
    assert.match(tcpProbe(ns.path, '::1', 8080), /^s1 /);
    assert.match(tcpProbe(ns.path, '127.0.0.1', 8080), /^s1 /);
    assert.doesNotMatch(tcpProbe(ns.path, '127.0.0.1', 8081, 1500), /^s/);
    assert.deepEqual((await c.listNetworks()).map((n) => n.Name).sort(), ['bridge', 'host', 'n1', 'n2', 'none']);
    assert.deepEqual(Object.keys((await c.inspectNetwork('n1')).Containers).sort(), [s1, s3]);
    // A second reconcile finds nothing more to do.
    const again = await c.reconcile([s1, s3]);
    assert.deepEqual({ ...again, restoredPorts: 0 }, { sandboxes: 0, veths: 0, bridges: 0, netns: 0, restoredPorts: 0, lostPorts: [] });
    // A new container gets an address the dead one freed, not a leaked lease.
    const s4 = cid('4');
    await c.createSandbox(s4, { name: 's4' });
    assert.equal((await c.attach(s4, 'n2')).IPAddress, '172.19.0.2');

    for (const s of [s1, s3, s4]) await c.releaseSandbox(s);
    for (const n of ['n1', 'n2']) await c.removeNetwork(n);
    assert.deepEqual(countLeftovers(ns, roots), baseline);
  });

  test('kill -9 in the middle of operations, then reconcile with nothing live: back to the baseline', async () => {
    await c!.createNetwork({ name: 'busy' });
    for (let round = 0; round < 3; round++) {
      const ids = ['a', 'b', 'c'].map((x) => cid(`${x}${round}`));
      // Fire operations without waiting and kill the process while they run.
      const ops = ids.map(async (id, i) => {
        await c!.createSandbox(id, { name: `x${i}` });
        await c!.attach(id, 'busy');
        await c!.publish(id, [{ containerPort: 80, hostPort: String(9000 + i) }]);
      });
      await new Promise((r) => setTimeout(r, 40 * (round + 1)));
      await c!.kill();
      await Promise.allSettled(ops);
      c = await startController(ns, roots);
      await c.reconcile([]);
    }
    await c!.removeNetwork('busy');
    assert.deepEqual(countLeftovers(ns, roots), baseline);
    assert.deepEqual(fs.readdirSync(path.join(roots.execRoot, 'netns')), []);
  });

  // Sandbox records are written without fsync (store.ts, saveSandbox): a machine crash can lose or
  // tear one. Even with its netns, veth and rules alive, and the container claimed live, start-up
  // must remove them all and free its ports and addresses.
  test('a lost or torn sandbox record: restart removes its netns, veths, rules and port', async () => {
    await c!.createNetwork({ name: 'rec' });
    const [torn, lost, empty] = [cid('t'), cid('l'), cid('e')];
    for (const [i, id] of [torn, lost].entries()) {
      await c!.createSandbox(id, { name: `r${i}` });
      await c!.attach(id, 'rec');
      await c!.attach(id, 'bridge');
      await c!.publish(id, [{ containerPort: 80, hostPort: String(9100 + i) }]);
    }
    await c!.createSandbox(empty, { name: 'r2' });
    await c!.attach(empty, 'rec');
    const owners = (t: string) => [torn, lost, empty].filter((id) => t.includes(`keel:${id.slice(0, 12)}`)).length;
    assert.equal(owners(ns.run(['iptables-save'])), 2, 'the published ports have rules to lose');

    await c!.kill();
    c = undefined;
    const dir = path.join(roots.dataRoot, 'network', 'sandboxes');
    const tornFile = path.join(dir, `${torn}.json`);
    fs.writeFileSync(tornFile, fs.readFileSync(tornFile, 'utf8').slice(0, 200));
    fs.rmSync(path.join(dir, `${lost}.json`));
    fs.writeFileSync(path.join(dir, `${empty}.json`), '');
    const ourVeths = () => (JSON.parse(ns.run(['ip', '-d', '-j', 'link', 'show'])) as { ifalias?: string; linkinfo?: { info_kind?: string } }[]).filter((l) => l.ifalias?.startsWith('keel:e:') && l.linkinfo?.info_kind === 'veth').length;
    assert.equal(ourVeths() - baseline.veths, 5);

    c = await startController(ns, roots);
    const report = await c.reconcile([torn, lost, empty]);
    assert.equal(report.veths, 5, 'two per published sandbox, one for the third');
    assert.equal(report.netns, 3);
    assert.equal(owners(ns.run(['iptables-save'])), 0);
    assert.deepEqual(fs.readdirSync(dir), []);
    assert.deepEqual(fs.readdirSync(path.join(roots.execRoot, 'netns')), []);
    // The ports and the first address of the network are free again.
    const again = cid('n');
    await c.createSandbox(again, { name: 'r3' });
    assert.equal((await c.attach(again, 'rec')).IPAddress, (await c.inspectNetwork('rec')).IPAM.Config[0]!.Gateway!.replace(/\.1$/, '.2'));
    await c.publish(again, [{ containerPort: 80, hostPort: '9100' }, { containerPort: 81, hostPort: '9101' }]);
    await c.releaseSandbox(again);
    await c.removeNetwork('rec');
    assert.deepEqual(countLeftovers(ns, roots), baseline);
  });
});
