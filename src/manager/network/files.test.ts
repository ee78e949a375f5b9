import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildHostsFile, buildResolvConf, containerUpstreams, parseExtraHosts, parseResolvConf } from './files';

test('hosts file in dockerd order: defaults, --add-host, links, own address', () => {
  const h = buildHostsFile({
    hostname: 'myhost',
    addresses: ['172.17.0.3'],
    extraHosts: parseExtraHosts(['h1:1.2.3.4', 'gw:host-gateway'], '172.17.0.1'),
    links: [{ ip: '172.17.0.2', alias: 'al', name: 'src', hostname: 'f24447a539d6' }],
  });
  assert.equal(
    h,
    '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n' +
      '1.2.3.4\th1\n172.17.0.1\tgw\n172.17.0.2\tal f24447a539d6 src\n172.17.0.3\tmyhost\n',
  );
  assert.match(buildHostsFile({ hostname: 'a', domainname: 'ex.com', addresses: ['10.0.0.2'] }), /10\.0\.0\.2\ta\.ex\.com a\n$/);
  assert.match(buildHostsFile({ hostname: 'a', addresses: [], links: [{ ip: '1.1.1.1', alias: 'db', name: 'db', hostname: 'abc' }] }), /1\.1\.1\.1\tdb abc\n$/);
  assert.deepEqual(parseExtraHosts(['v6:::1'], ''), [{ name: 'v6', ip: '::1' }]);
});

test('resolv.conf: host copy without loopback servers, defaults when none is left, overrides, embedded server', () => {
  const host = parseResolvConf('# comment\nnameserver 127.0.0.53\nnameserver 10.0.0.53\nsearch corp.example\noptions edns0\n');
  assert.equal(buildResolvConf({ host }), '# comment\nnameserver 10.0.0.53\nsearch corp.example\noptions edns0\n');
  const loop = parseResolvConf('nameserver 127.0.0.53\n');
  assert.equal(buildResolvConf({ host: loop }), '\nnameserver 8.8.8.8\nnameserver 8.8.4.4');
  assert.deepEqual(containerUpstreams(loop), ['8.8.8.8', '8.8.4.4']);
  assert.equal(buildResolvConf({ host, dns: ['9.9.9.9'], dnsSearch: ['ex.com'], dnsOptions: ['ndots:3'] }), 'search ex.com\nnameserver 9.9.9.9\noptions ndots:3\n');
  assert.equal(buildResolvConf({ host, dnsSearch: ['a.b'] }), 'search a.b\nnameserver 10.0.0.53\noptions edns0\n');
  assert.equal(buildResolvConf({ host: parseResolvConf('nameserver 1.1.1.1\n'), embeddedDns: '172.18.0.1' }), 'nameserver 172.18.0.1\noptions ndots:0\n');
  assert.equal(buildResolvConf({ host, embeddedDns: '172.18.0.1', dnsOptions: ['ndots:2'] }), 'search corp.example\nnameserver 172.18.0.1\noptions ndots:2\n');
});
