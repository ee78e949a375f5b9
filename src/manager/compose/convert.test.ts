import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerName, createRequest, networkRequest, networksByPriority, volumeRequest, type CreateContext } from './convert';
import { container, projectOf } from './fixtures';
import { serviceHash } from './hash';
import type { Project } from './model';

const YAML = `
name: shop
services:
  web:
    image: busybox
    command: httpd -f -p 80
    environment: {A: "1", UNSET: null}
    ports: ["8080:80", "127.0.0.1::443/udp"]
    expose: ["9000-9001"]
    volumes: ["./site:/www:ro", "data:/data", "/anon", {type: tmpfs, target: /scratch}]
    networks:
      front: {aliases: [shopfront], ipv4_address: 10.5.0.5}
      back: {priority: 10}
    labels: {team: a}
    restart: on-failure:3
    healthcheck: {test: "wget -q localhost", interval: 30s, retries: 2}
    stop_grace_period: 1m
    stop_signal: SIGUSR1
    ulimits: {nofile: {soft: 10, hard: 20}, nproc: 5}
    tmpfs: ["/run:size=1m"]
    extra_hosts: ["h:1.2.3.4"]
    cap_add: [NET_ADMIN]
    init: true
    mem_limit: 64m
    depends_on: {db: {condition: service_healthy}}
  db:
    image: busybox
volumes:
  data: {}
networks:
  front: {ipam: {config: [{subnet: 10.5.0.0/24}]}}
  back: {internal: true, labels: [x=y]}
`;

function ctx(p: Project, o: Partial<CreateContext> = {}): CreateContext {
  return { project: p, service: p.services.web!, number: 1, name: 'shop-web-1', apiVersion: '1.41', links: [], containerOf: (s) => `shop-${s}-1`, useAliases: true, ...o };
}

test('container create body: config, host config, labels', () => {
  const p = projectOf(YAML, { dirName: 'shop' });
  const { body, connectAfter } = createRequest(ctx(p, { imageId: 'sha256:abc' }));
  const host = body.HostConfig as Record<string, unknown>;
  assert.equal(body.Image, 'busybox');
  assert.deepEqual(body.Cmd, ['httpd', '-f', '-p', '80']);
  assert.deepEqual(body.Env, ['A=1', 'UNSET']);
  assert.deepEqual(body.ExposedPorts, { '80/tcp': {}, '443/udp': {}, '9000/tcp': {}, '9001/tcp': {} });
  assert.deepEqual(host.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '443/udp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
  assert.deepEqual(host.Binds, [`${p.workingDir}/site:/www:ro`, 'shop_data:/data:rw']);
  assert.deepEqual(host.Mounts, [{ Type: 'volume', Source: '', Target: '/anon', ReadOnly: false }, { Type: 'tmpfs', Target: '/scratch', ReadOnly: false }]);
  assert.deepEqual(host.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(body.Healthcheck, { Test: ['CMD-SHELL', 'wget -q localhost'], Interval: 30e9, Retries: 2 });
  assert.equal(body.StopTimeout, 60);
  assert.equal(body.StopSignal, 'SIGUSR1');
  assert.deepEqual(host.Ulimits, [{ Name: 'nofile', Soft: 10, Hard: 20 }, { Name: 'nproc', Soft: 5, Hard: 5 }]);
  assert.deepEqual(host.Tmpfs, { '/run': 'size=1m' });
  assert.deepEqual(host.ExtraHosts, ['h:1.2.3.4']);
  assert.deepEqual(host.CapAdd, ['NET_ADMIN']);
  assert.equal(host.Init, true);
  assert.equal(host.Memory, 64 * 1024 * 1024);
  const labels = body.Labels as Record<string, string>;
  assert.deepEqual(labels, {
    team: 'a',
    'com.docker.compose.project': 'shop',
    'com.docker.compose.service': 'web',
    'com.docker.compose.version': labels['com.docker.compose.version'],
    'com.docker.compose.oneoff': 'False',
    'com.docker.compose.project.working_dir': p.workingDir,
    'com.docker.compose.project.config_files': p.configFiles.join(','),
    'com.docker.compose.config-hash': serviceHash(p.services.web!),
    'com.docker.compose.container-number': '1',
    'com.docker.compose.depends_on': 'db:service_healthy:false',
    'com.docker.compose.image': 'sha256:abc',
  });
  // Highest priority first; before API 1.44 only that one goes in the create body.
  assert.deepEqual(networksByPriority(p.services.web!), ['back', 'front']);
  assert.equal(host.NetworkMode, 'shop_back');
  assert.deepEqual(body.NetworkingConfig, { EndpointsConfig: { shop_back: { Aliases: ['shop-web-1', 'web'] } } });
  assert.deepEqual(connectAfter, [{ network: 'shop_front', endpoint: { Aliases: ['shop-web-1', 'web', 'shopfront'], IPAMConfig: { IPv4Address: '10.5.0.5', IPv6Address: '' } } }]);
});

test('API 1.44 and later take every network at create', () => {
  const p = projectOf(YAML, { dirName: 'shop' });
  const r = createRequest(ctx(p, { apiVersion: '1.44' }));
  assert.deepEqual(Object.keys((r.body.NetworkingConfig as { EndpointsConfig: object }).EndpointsConfig), ['shop_back', 'shop_front']);
  assert.deepEqual(r.connectAfter, []);
});

test('one-off containers: no number, no aliases, slug label, ports only when asked', () => {
  const p = projectOf(YAML, { dirName: 'shop' });
  const r = createRequest(ctx(p, { number: 0, name: 'shop-web-run-abc', useAliases: false, oneoff: { slug: 'abc' }, publishPorts: false }));
  const labels = r.body.Labels as Record<string, string>;
  assert.equal(labels['com.docker.compose.oneoff'], 'True');
  assert.equal(labels['com.docker.compose.slug'], 'abc');
  assert.equal(labels['com.docker.compose.container-number'], undefined);
  assert.deepEqual((r.body.HostConfig as Record<string, unknown>).PortBindings, {});
  assert.deepEqual((r.body.NetworkingConfig as { EndpointsConfig: Record<string, unknown> }).EndpointsConfig.shop_back, { Aliases: ['shop-web-run-abc'] });
});

test('a recreated container keeps its anonymous volume', () => {
  const p = projectOf(YAML, { dirName: 'shop' });
  const old = container(p, 'web', 1);
  old.mounts = [{ Type: 'volume', Name: 'anonvol', Source: '/var/lib/x', Destination: '/anon', RW: true }];
  const r = createRequest(ctx(p, { inherit: old, replaces: old.name }));
  assert.deepEqual((r.body.HostConfig as { Mounts: unknown[] }).Mounts[0], { Type: 'volume', Source: 'anonvol', Target: '/anon', ReadOnly: false });
  assert.equal((r.body.Labels as Record<string, string>)['com.docker.compose.replace'], 'shop-web-1');
});

test('v1 layout: default bridge, legacy links, service: modes resolved', () => {
  const p = projectOf('web: {image: w, links: ["db:database"], volumes_from: [db]}\ndb: {image: d}\nside: {image: s, net: "container:web"}\n');
  const r = createRequest({ ...ctx(p), service: p.services.web!, name: containerName(p.name, p.services.web!, 1), links: ['proj-db-1:database'] });
  const host = r.body.HostConfig as Record<string, unknown>;
  assert.equal(host.NetworkMode, 'bridge');
  assert.deepEqual(host.Links, ['proj-db-1:database']);
  assert.deepEqual(host.VolumesFrom, ['shop-db-1']);
  assert.equal(r.body.NetworkingConfig, undefined);
});

test('network and volume create bodies carry the compose labels', () => {
  const p = projectOf(YAML, { dirName: 'shop' });
  assert.deepEqual(networkRequest('shop', 'back', p.networks.back!), {
    Name: 'shop_back', CheckDuplicate: true, Driver: 'bridge', Options: {}, Internal: true, Attachable: false, EnableIPv6: false,
    Labels: { x: 'y', 'com.docker.compose.network': 'back', 'com.docker.compose.project': 'shop', 'com.docker.compose.version': (networkRequest('shop', 'back', p.networks.back!).Labels as Record<string, string>)['com.docker.compose.version'] },
  });
  assert.deepEqual((networkRequest('shop', 'front', p.networks.front!).IPAM as { Config: unknown[] }).Config, [{ Subnet: '10.5.0.0/24' }]);
  assert.deepEqual(volumeRequest('shop', 'data', p.volumes.data!).Labels, { 'com.docker.compose.volume': 'data', 'com.docker.compose.project': 'shop', 'com.docker.compose.version': (volumeRequest('shop', 'data', p.volumes.data!).Labels as Record<string, string>)['com.docker.compose.version'] });
});
