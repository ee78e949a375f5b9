// The route reader of kernel.ts: /proc/net/route parsed as ip(8) prints the main table, checked on
// a fixture and against `ip -4 -j route show table main` in this process's own namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { parseProcNetRoute } from './kernel';

test('parseProcNetRoute: default left out, prefixes counted, host routes without /32', () => {
  const text = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
    'br0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    'tun0\t0100000A\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0',
    'eth1\t0000000A\t00000000\t0001\t0\t0\t100\t000000FF\t0\t0\t0',
    '',
  ].join('\n');
  assert.deepEqual(parseProcNetRoute(text), ['192.0.2.0/24', '172.17.0.0/16', '10.0.0.1', '10.0.0.0/8']);
  assert.deepEqual(parseProcNetRoute(''), []);
});

test('parseProcNetRoute of this namespace lists what ip -4 route show table main lists', { skip: spawnSync('ip', ['-V']).status !== 0 && 'no iproute2' }, () => {
  const ip = spawnSync('ip', ['-4', '-j', 'route', 'show', 'table', 'main'], { encoding: 'utf8' });
  assert.equal(ip.status, 0, ip.stderr);
  const want = (JSON.parse(ip.stdout || '[]') as { dst: string }[]).map((r) => r.dst).filter((d) => d !== 'default');
  assert.deepEqual(parseProcNetRoute(fs.readFileSync('/proc/self/net/route', 'utf8')).sort(), want.sort());
});
