import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildRules, jumpRules, ourJumps } from './iptables';

const net = { id: 'n'.repeat(64), bridge: 'br-x', subnet: '10.0.0.0/24', internal: false, icc: true, masquerade: true };

test('rules: dockerd shape per bridge and port, every rule tagged with its owner', () => {
  const r = buildRules([net], [{ owner: 'c'.repeat(64), bridge: 'br-x', containerIp: '10.0.0.2', containerPort: 80, proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080 }], true);
  assert.ok(r.nat.includes('-A KEEL -p tcp -m tcp --dport 8080 -m comment --comment keel:cccccccccccc -j DNAT --to-destination 10.0.0.2:80'));
  assert.ok(r.nat.includes('-A KEEL-POSTROUTING -s 10.0.0.0/24 ! -o br-x -m comment --comment keel:nnnnnnnnnnnn -j MASQUERADE'));
  assert.ok(r.filter.includes('-A KEEL -d 10.0.0.2/32 ! -i br-x -o br-x -p tcp -m tcp --dport 80 -m comment --comment keel:cccccccccccc -j ACCEPT'));
  for (const l of [...r.nat, ...r.filter]) if (!/-j RETURN$|-j KEEL-ISOLATION-STAGE-1$/.test(l)) assert.match(l, /--comment keel:/);
});

test('internal networks: no masquerade, dockerd isolation drops; specific host addresses; IPv6 left to the proxy', () => {
  const r = buildRules(
    [{ ...net, internal: true }],
    [
      { owner: 'c', bridge: 'br-x', containerIp: '10.0.0.2', containerPort: 53, proto: 'udp', hostIp: '127.0.0.1', hostPort: 5353 },
      { owner: 'c', bridge: 'br-x', containerIp: '10.0.0.2', containerPort: 53, proto: 'udp', hostIp: '::', hostPort: 5353 },
    ],
    false,
  );
  assert.ok(!r.nat.some((l) => /! -o br-x .*MASQUERADE/.test(l)));
  assert.ok(r.filter.some((l) => l.startsWith('-A KEEL-ISOLATION-STAGE-1 ! -s 10.0.0.0/24 -o br-x')));
  assert.equal(r.nat.filter((l) => l.includes('DNAT --to')).length, 1);
  assert.ok(r.nat.some((l) => l.startsWith('-A KEEL -d 127.0.0.1/32 -p udp -m udp --dport 5353')));
  assert.ok(!r.filter.some((l) => l.includes('KEEL-INPUT')));
});

test('jumps: loopback DNAT decides the OUTPUT match; ourJumps finds only tagged builtin rules', () => {
  assert.match(jumpRules(true).nat[1]!, /^-A OUTPUT -m addrtype/);
  assert.match(jumpRules(false).nat[1]!, /^-A OUTPUT ! -d 127.0.0.0\/8/);
  const save = '-A PREROUTING -m addrtype --dst-type LOCAL -m comment --comment keel -j KEEL\n-A PREROUTING -j DOCKER\n-A KEEL -p tcp -m comment --comment "keel:abc" -j DNAT\n';
  assert.deepEqual(ourJumps(save), ['-A PREROUTING -m addrtype --dst-type LOCAL -m comment --comment keel -j KEEL']);
});
