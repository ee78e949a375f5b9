// With iptables off (dockerd's --iptables=false) the in-daemon proxy carries every published port
// itself, TCP and UDP, on 127.0.0.1 and the host's addresses, and no rule of ours exists.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNetns } from '../lib/netns';
import { tcpProbe, tcpServer, udpEcho, udpProbe } from './lib/peers';
import { startController } from './lib/remote';

const skip = process.getuid?.() !== 0 ? 'needs root' : undefined;

test('iptables off: the proxy carries published ports', { skip }, async () => {
  const ns = createNetns('knetproxy');
  const c = await startController(ns, { iptables: false });
  const id = 'c'.repeat(64);
  const peers = [];
  try {
    await c.reconcile([]);
    await c.createNetwork({ name: 'p' });
    const { netnsPath } = await c.createSandbox(id, { name: 'web' });
    await c.attach(id, 'p');
    peers.push(await tcpServer(netnsPath, 80, 'web'), await udpEcho(netnsPath, 53, 'udp'));
    await c.publish(id, [
      { containerPort: 80, hostPort: '8080' },
      { containerPort: 53, proto: 'udp', hostPort: '5353' },
    ]);
    assert.equal(tcpProbe(ns.path, '127.0.0.1', 8080), 'web 172.18.0.1');
    assert.equal(tcpProbe(ns.path, '172.18.0.1', 8080), 'web 172.18.0.1');
    assert.equal(udpProbe(ns.path, '127.0.0.1', 5353), 'udp ping');
    assert.doesNotMatch(ns.run(['iptables-save']), /KEEL|keel/);
    await c.releaseSandbox(id);
    assert.equal(ns.run(['ss', '-H', '-lntu', 'sport', '=', ':8080']), '');
  } finally {
    for (const p of peers) p.stop();
    await c.stop();
    ns.remove();
  }
});
