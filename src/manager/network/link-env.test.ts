import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linkEnv } from './link-env';

test('link env as dockerd 20.10 wrote it for --link src:al (ports 80/tcp 443/tcp 53/udp)', () => {
  const env = linkEnv({ parentName: 'lnk', alias: 'al', childIp: '172.17.0.2', exposedPorts: ['80/tcp', '443/tcp', '53/udp'], childEnv: ['PATH=/bin', 'FOO=bar', 'HOME=/x'] });
  // The reference daemon's output for this case (sorted, as `env | sort` showed it).
  assert.deepEqual([...env].sort(), [
    'AL_ENV_FOO=bar',
    'AL_NAME=/lnk/al',
    'AL_PORT=udp://172.17.0.2:53',
    'AL_PORT_443_TCP=tcp://172.17.0.2:443',
    'AL_PORT_443_TCP_ADDR=172.17.0.2',
    'AL_PORT_443_TCP_PORT=443',
    'AL_PORT_443_TCP_PROTO=tcp',
    'AL_PORT_53_UDP=udp://172.17.0.2:53',
    'AL_PORT_53_UDP_ADDR=172.17.0.2',
    'AL_PORT_53_UDP_PORT=53',
    'AL_PORT_53_UDP_PROTO=udp',
    'AL_PORT_80_TCP=tcp://172.17.0.2:80',
    'AL_PORT_80_TCP_ADDR=172.17.0.2',
    'AL_PORT_80_TCP_PORT=80',
    'AL_PORT_80_TCP_PROTO=tcp',
  ]);
});

test('link env: dashes become underscores, consecutive ports get _START/_END, no ports no _PORT', () => {
  const env = linkEnv({ parentName: 'p', alias: 'my-db', childIp: '10.0.0.2', exposedPorts: ['8000', '8001', '8002'], childEnv: [] });
  assert.ok(env.includes('MY_DB_PORT=tcp://10.0.0.2:8000'));
  assert.ok(env.includes('MY_DB_PORT_8000_TCP_START=tcp://10.0.0.2:8000'));
  assert.ok(env.includes('MY_DB_PORT_8000_TCP_END=tcp://10.0.0.2:8002'));
  assert.ok(env.includes('MY_DB_PORT_8000_TCP_PORT_END=8002'));
  assert.ok(env.includes('MY_DB_PORT_8001_TCP_ADDR=10.0.0.2'));
  assert.deepEqual(linkEnv({ parentName: 'p', alias: 'x', childIp: '1.2.3.4', exposedPorts: [], childEnv: [] }), ['X_NAME=/p/x']);
});
