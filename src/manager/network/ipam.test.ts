import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allocateAddress, checkRequestedAddress, macFromIp, normalizeMac, parseCidr, pickPool, planIpam, cidrString } from './ipam';

const used = (...ips: string[]) => new Set(ips);

test('pools follow dockerd: 172.17/16 first, then 172.18..31/16, then 192.168.x.0/20', () => {
  assert.equal(cidrString(pickPool([])), '172.17.0.0/16');
  const inUse = [parseCidr('172.17.0.0/16')!, parseCidr('172.18.0.0/16')!];
  assert.equal(cidrString(pickPool(inUse)), '172.19.0.0/16');
  const all172 = Array.from({ length: 15 }, (_, i) => parseCidr(`172.${17 + i}.0.0/16`)!);
  assert.equal(cidrString(pickPool(all172)), '192.168.0.0/20');
  assert.equal(cidrString(pickPool([...all172, parseCidr('192.168.0.0/20')!])), '192.168.16.0/20');
  // A host route over 172.17/16 pushes the choice on.
  assert.equal(cidrString(pickPool([], undefined, [parseCidr('172.17.5.0/24')!])), '172.18.0.0/16');
});

test('planIpam: defaults, user subnet, gateway and range checks in dockerd words', () => {
  assert.deepEqual(planIpam({}, []), { subnet: '172.17.0.0/16', gateway: '172.17.0.1', ipRange: undefined, userSubnet: false });
  assert.deepEqual(planIpam({ subnet: '10.10.0.0/24', gateway: '10.10.0.254', ipRange: '10.10.0.128/25' }, []), {
    subnet: '10.10.0.0/24',
    gateway: '10.10.0.254',
    ipRange: '10.10.0.128/25',
    userSubnet: true,
  });
  assert.throws(() => planIpam({ subnet: '10.10.0.0/25' }, [parseCidr('10.10.0.0/24')!]), /^RuntimeError: Pool overlaps with other one on this address space$/);
  assert.throws(() => planIpam({ subnet: 'bogus' }, []), /Invalid subnet bogus : invalid CIDR address: bogus/);
  assert.throws(() => planIpam({ subnet: '10.11.0.0/33' }, []), /Invalid subnet 10.11.0.0\/33 : invalid CIDR address: 10.11.0.0\/33/);
  assert.throws(() => planIpam({ subnet: '10.11.0.0/24', gateway: '10.12.0.1' }, []), /no matching subnet for gateway 10.12.0.1/);
  assert.throws(() => planIpam({ subnet: '10.11.0.0/24', ipRange: '10.12.0.0/28' }, []), /no matching subnet for range 10.12.0.0\/28/);
});

test('addresses: lowest free, skipping network, gateway, broadcast; the range bounds; requests checked', () => {
  assert.equal(allocateAddress('10.0.0.0/24', undefined, used('10.0.0.1'), 'n'), '10.0.0.2');
  assert.equal(allocateAddress('10.0.0.0/24', undefined, used('10.0.0.1', '10.0.0.2'), 'n'), '10.0.0.3');
  assert.equal(allocateAddress('10.0.0.0/24', '10.0.0.128/25', used('10.0.0.1'), 'n'), '10.0.0.128');
  assert.throws(() => allocateAddress('10.0.0.0/30', undefined, used('10.0.0.1', '10.0.0.2'), 'n'), /no available IPv4 addresses/);
  assert.throws(() => checkRequestedAddress('10.0.0.0/24', '10.99.0.5', used()), /^RuntimeError: Invalid address 10.99.0.5: It does not belong to any of this network's subnets$/);
  assert.throws(() => checkRequestedAddress('10.0.0.0/24', '10.0.0.1', used('10.0.0.1')), /Address already in use/);
  checkRequestedAddress('10.0.0.0/24', '10.0.0.9', used('10.0.0.1'));
});

test('MAC addresses: 02:42 + the IPv4 bytes; user ones normalised, multicast refused', () => {
  assert.equal(macFromIp('172.17.0.3'), '02:42:ac:11:00:03');
  assert.equal(normalizeMac('02-42-AA-bb-cc-dd'), '02:42:aa:bb:cc:dd');
  assert.throws(() => normalizeMac('01:00:5e:00:00:01'), /invalid MAC address/);
  assert.throws(() => normalizeMac('zz'), /invalid MAC address/);
});
