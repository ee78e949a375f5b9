// Real keel containers in controller sandboxes, inside a test namespace: a busybox httpd published
// on 8080, clients that resolve it by name, alias and id through the embedded DNS server (from the
// resolv.conf the controller wrote), a linked container on the default bridge, and a container on
// another network that does not see it. Then everything is torn down to the baseline.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createNetns, type Netns } from '../lib/netns';
import { Containers, type Files } from './lib/containers';
import { dnsUpstream, type Peer } from './lib/peers';
import { countLeftovers, startController, type RemoteController } from './lib/remote';

const skip = process.getuid?.() !== 0 ? 'needs root' : undefined;
const cid = (c: string) => c.repeat(64).slice(0, 64);

describe('containers on dock networks', { skip }, () => {
  let ns: Netns;
  let c: RemoteController;
  let ctrs: Containers;
  let upstream: Peer;
  let baseline: ReturnType<typeof countLeftovers>;
  let rcDir: string | undefined;
  const web = cid('1');

  async function files(id: string, hostname: string, extra: { links?: { containerId: string; name: string; alias: string; hostname: string }[] } = {}): Promise<Files> {
    return { hosts: await c.hostsFile(id, { hostname, links: extra.links }), resolv: await c.resolvConf(id, {}), hostname: `${hostname}\n` };
  }

  before(async () => {
    ns = createNetns('knetctr');
    rcDir = fs.mkdtempSync('/tmp/knet-rc-');
    const rc = path.join(rcDir, 'resolv.conf');
    fs.writeFileSync(rc, 'nameserver 127.0.0.1\n');
    upstream = await dnsUpstream(ns.path, '127.0.0.1', '203.0.113.7');
    c = await startController(ns, { resolvConf: rc });
    await c.reconcile([]);
    baseline = countLeftovers(ns, c);
    ctrs = new Containers();
  });

  after(async () => {
    await ctrs?.destroy();
    upstream?.stop();
    await c?.stop();
    ns?.remove();
    if (rcDir) fs.rmSync(rcDir, { recursive: true, force: true });
  });

  test('a published httpd answers on 127.0.0.1 and [::1]; a client resolves it by name, alias and id', async () => {
    await c.createNetwork({ name: 'app' });
    const { netnsPath } = await c.createSandbox(web, { name: 'web' });
    const ep = await c.attach(web, 'app', { aliases: ['www'] });
    await c.attach(web, 'bridge');
    await c.publish(web, [{ containerPort: 80, hostPort: '8080' }]);
    await ctrs.start(netnsPath, ['httpd', '-f', '-p', '80', '-h', '/etc'], await files(web, 'web'));
    assert.equal(ns.run(['curl', '-sf', 'http://127.0.0.1:8080/hostname']), 'web\n');
    assert.equal(ns.run(['curl', '-sf', 'http://[::1]:8080/hostname']), 'web\n');

    const cli = cid('2');
    const p = (await c.createSandbox(cli, { name: 'client' })).netnsPath;
    await c.attach(cli, 'app');
    const out = ctrs.run(
      p,
      ['sh', '-c', `cat /etc/resolv.conf; for n in web www ${web.slice(0, 12)} web.app example.org; do nslookup $n | grep -A1 '^Name'; done; printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc ${ep.IPAddress} 80`],
      await files(cli, 'client'),
    );
    assert.match(out, /^nameserver 172\.18\.0\.1\noptions ndots:0\n/);
    for (const n of ['web', 'www', web.slice(0, 12), 'web.app']) assert.match(out, new RegExp(`Name:\\s+${n}\\nAddress: ${ep.IPAddress.replace(/\./g, '\\.')}`));
    assert.match(out, /Name:\s+example\.org\nAddress: 203\.0\.113\.7/);
    assert.match(out, /\r\n\r\nweb\n$/);
  });

  test('--link on the default bridge: hosts entry, reachable by the linked address; another network sees nothing', async () => {
    const lnk = cid('3');
    const p = (await c.createSandbox(lnk, { name: 'lnk' })).netnsPath;
    await c.attach(lnk, 'bridge');
    const f = await files(lnk, 'lnk', { links: [{ containerId: web, name: 'web', alias: 'al', hostname: web.slice(0, 12) }] });
    assert.match(f.hosts, new RegExp(`\\n172\\.17\\.0\\.2\\tal ${web.slice(0, 12)} web\\n172\\.17\\.0\\.3\\tlnk\\n$`));
    // No embedded DNS on the default bridge: the host's upstreams minus loopback, so the defaults.
    assert.equal(f.resolv, '\nnameserver 8.8.8.8\nnameserver 8.8.4.4');
    const out = ctrs.run(p, ['sh', '-c', "printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc $(awk '$2 == \"al\" {print $1}' /etc/hosts) 80"], f);
    assert.match(out, /\r\n\r\nweb\n$/);

    await c.createNetwork({ name: 'elsewhere' });
    const o = cid('4');
    const po = (await c.createSandbox(o, { name: 'outsider' })).netnsPath;
    await c.attach(o, 'elsewhere');
    const seen = ctrs.run(po, ['sh', '-c', 'nslookup www | grep -A1 "^Name"'], await files(o, 'outsider'));
    assert.match(seen, /Address: 203\.0\.113\.7/, 'www is not on this network: the name goes upstream');
  });

  test('stopping the containers and releasing everything leaves the baseline', async () => {
    await ctrs.destroy();
    for (const id of ['1', '2', '3', '4']) await c.releaseSandbox(cid(id));
    for (const n of ['app', 'elsewhere']) await c.removeNetwork(n);
    assert.deepEqual(countLeftovers(ns, c), baseline);
  });
});
