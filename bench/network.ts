// `node --import tsx bench/network.ts`: dock networking costs in one run, inside test namespaces.
//   1. sandbox + bridge attach + release against a sandbox with no network (--network none), with
//      the median of each step (a start without -p still calls publish with no bindings);
//   2. TCP connect rate and throughput from the host to a published port, over the kernel DNAT
//      (127.0.0.1) and over our userland proxy ([::1]), against the raw veth path (the container's
//      address) and against dockerd 20.10's docker-proxy (127.0.0.1 with its default proxy on);
//   3. DNS lookup latency of a container name: our gateway server against dockerd's 127.0.0.11.
// Interleaved rounds, medians, ratios. Measures; asserts nothing.
import { spawn, spawnSync } from 'node:child_process';
import { median } from './lib';
import { createNetns, type Netns } from '../test/engine/lib/netns';
import { startController } from '../test/engine/network/lib/remote';
import { dockerdSkipReason, startDockerd } from '../test/engine/lib/dockerd';
import { docker } from '../test/engine/lib/docker-cli';
import { busyboxTar, BUSYBOX_CHANGES } from '../test/engine/lib/busybox';
import type { Engine } from '../test/engine/lib/engine';

const ROUNDS = Number(process.env.BENCH_RUNS ?? 7);
const MB = Number(process.env.BENCH_MB ?? 256);
const CONNS = Number(process.env.BENCH_CONNS ?? 400);

/** Sink on :5001 (reads everything, answers "ok" at the end) and closer on :5002 (accept, close). */
const SERVER = `
const net = require('net');
net.createServer((s) => { s.on('data', () => {}); s.on('end', () => s.end('ok')); s.on('error', () => {}); }).listen(5001, '0.0.0.0');
net.createServer((s) => { s.on('error', () => {}); s.end(); }).listen(5002, '0.0.0.0', () => console.log('ready'));`;

/** argv: host sinkPort closePort mb conns → prints {mbps, cps}. */
const CLIENT = `
const net = require('net'); const [host, p1, p2, mb, conns] = process.argv.slice(1);
function throughput() { return new Promise((res, rej) => { const buf = Buffer.alloc(1 << 20, 7); let left = +mb;
  const t0 = process.hrtime.bigint(); const s = net.connect({ host, port: +p1 }, () => { const pump = () => { while (left > 0) { left--; if (!s.write(buf)) return s.once('drain', pump); } s.end(); }; pump(); });
  s.on('data', () => {}); s.on('end', () => res(+mb / (Number(process.hrtime.bigint() - t0) / 1e9))); s.on('error', rej); }); }
async function rate() { const t0 = process.hrtime.bigint(); for (let i = 0; i < +conns; i++) await new Promise((res, rej) => {
  const s = net.connect({ host, port: +p2 }); s.on('data', () => {}); s.on('end', res); s.on('error', rej); });
  return +conns / (Number(process.hrtime.bigint() - t0) / 1e9); }
(async () => { const mbps = await throughput(); const cps = await rate(); console.log(JSON.stringify({ mbps, cps })); })().catch((e) => { console.log(JSON.stringify({ error: e.code || e.message })); });`;

/** argv: server name n → median lookup ms. */
const DNS_CLIENT = `
const { Resolver } = require('dns').promises; const [server, name, n] = process.argv.slice(1);
const r = new Resolver({ timeout: 2000, tries: 1 }); r.setServers([server]); const xs = [];
(async () => { for (let i = 0; i < +n; i++) { const t0 = process.hrtime.bigint(); await r.resolve4(name); xs.push(Number(process.hrtime.bigint() - t0) / 1e6); }
  xs.sort((a, b) => a - b); console.log(JSON.stringify({ ms: xs[xs.length >> 1] })); })().catch((e) => console.log(JSON.stringify({ error: e.code })));`;

function inNs(nsPath: string, src: string, args: string[]): Record<string, number> {
  const r = spawnSync('nsenter', [`--net=${nsPath}`, '--', process.execPath, '-e', src, ...args], { encoding: 'utf8', timeout: 300_000 });
  const out = JSON.parse(r.stdout.trim() || '{"error":"no output"}') as Record<string, number>;
  if ('error' in out) throw new Error(`${args.join(' ')}: ${String(out.error)} ${r.stderr}`);
  return out;
}

function serve(nsPath: string): Promise<() => void> {
  const p = spawn('nsenter', [`--net=${nsPath}`, '--', process.execPath, '-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    p.stdout.on('data', (d: Buffer) => String(d).includes('ready') && resolve(() => p.kill('SIGKILL')));
    p.on('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
}

type Path = { name: string; ns: string; host: string; p1: number; p2: number };
const fmt = (x: number) => x.toFixed(1);

async function main(): Promise<void> {
  const ns: Netns = createNetns('kbench');
  const c = await startController(ns);
  const stops: (() => void)[] = [];
  let engine: Engine | undefined;
  let dns: Netns | undefined;
  try {
    await c.reconcile([]);
    await c.createNetwork({ name: 'bench' });

    // 1. Attach cost.
    const none: number[] = [];
    const bridge: number[] = [];
    const step = { create: [] as number[], attach: [] as number[], noPorts: [] as number[], release: [] as number[] };
    const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
    for (let i = 0; i < ROUNDS * 3; i++) {
      const id = `${i}`.padStart(64, 'f');
      let t0 = process.hrtime.bigint();
      await c.createSandbox(id, { name: `n${i}` });
      await c.releaseSandbox(id);
      none.push(ms(t0));
      t0 = process.hrtime.bigint();
      await c.createSandbox(id, { name: `b${i}` });
      step.create.push(ms(t0));
      let t1 = process.hrtime.bigint();
      await c.attach(id, 'bench');
      step.attach.push(ms(t1));
      t1 = process.hrtime.bigint();
      await c.publish(id, []);
      step.noPorts.push(ms(t1));
      t1 = process.hrtime.bigint();
      await c.releaseSandbox(id);
      step.release.push(ms(t1));
      // Same span as before the steps were timed (publish of no ports is reported on its own).
      bridge.push(ms(t0) - step.noPorts[step.noPorts.length - 1]!);
    }
    const pub: number[] = [];
    for (let i = 0; i < ROUNDS * 3; i++) {
      const id = `${i}`.padStart(64, 'e');
      await c.createSandbox(id, { name: `p${i}` });
      await c.attach(id, 'bench');
      const t0 = process.hrtime.bigint();
      await c.publish(id, [{ containerPort: 80, hostPort: '' }]);
      pub.push(Number(process.hrtime.bigint() - t0) / 1e6);
      await c.releaseSandbox(id);
    }
    // The floor every figure above sits on: one process launch from the daemon (iproute2, iptables).
    const launch: number[] = [];
    for (let i = 0; i < ROUNDS * 3; i++) {
      const t0 = process.hrtime.bigint();
      spawnSync('true');
      launch.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    console.log(`one process launch on this machine now (true)        ${fmt(median(launch))} ms`);
    console.log(`sandbox lifecycle, --network none (create+release)   ${fmt(median(none))} ms`);
    console.log(`sandbox lifecycle, bridge (create+attach+release)    ${fmt(median(bridge))} ms   bridge adds ${fmt(median(bridge) - median(none))} ms`);
    console.log(`  steps: create ${fmt(median(step.create))}, attach ${fmt(median(step.attach))}, publish of no ports ${fmt(median(step.noPorts))}, release ${fmt(median(step.release))} ms`);
    console.log(`publish one port (proxy bind + iptables-restore)     ${fmt(median(pub))} ms   (median of ${ROUNDS * 3})`);

    // 2. Data paths.
    const sb = 'a'.repeat(64);
    const { netnsPath } = await c.createSandbox(sb, { name: 'sink' });
    const ep = await c.attach(sb, 'bench');
    await c.publish(sb, [
      { containerPort: 5001, hostPort: '15001' },
      { containerPort: 5002, hostPort: '15002' },
    ]);
    stops.push(await serve(netnsPath));
    const paths: Path[] = [
      { name: 'raw veth (container address)', ns: ns.path, host: ep.IPAddress, p1: 5001, p2: 5002 },
      { name: 'dock DNAT (127.0.0.1:published)', ns: ns.path, host: '127.0.0.1', p1: 15001, p2: 15002 },
      { name: 'dock proxy ([::1]:published)', ns: ns.path, host: '::1', p1: 15001, p2: 15002 },
    ];
    const skip = dockerdSkipReason();
    if (!skip) {
      dns = createNetns('kbenchref');
      engine = await startDockerd({ netns: dns });
      await docker(engine, ['import', ...BUSYBOX_CHANGES.flatMap((x) => ['-c', x]), busyboxTar(), 'busybox:latest']);
      await docker(engine, ['network', 'create', 'bench']);
      await docker(engine, ['run', '-d', '--name', 'sink', '--network', 'bench', '-p', '15001:5001', '-p', '15002:5002', 'busybox', 'sleep', '3600']);
      await docker(engine, ['run', '-d', '--name', 'peer', '--network', 'bench', 'busybox', 'sleep', '3600']);
      const pid = (await docker(engine, ['inspect', '-f', '{{.State.Pid}}', 'sink'])).stdout.trim();
      const ip = (await docker(engine, ['inspect', '-f', '{{.NetworkSettings.Networks.bench.IPAddress}}', 'sink'])).stdout.trim();
      stops.push(await serve(`/proc/${pid}/ns/net`));
      paths.push({ name: 'dockerd raw veth', ns: dns.path, host: ip, p1: 5001, p2: 5002 });
      paths.push({ name: 'dockerd docker-proxy (127.0.0.1)', ns: dns.path, host: '127.0.0.1', p1: 15001, p2: 15002 });
    } else console.log(`dockerd reference skipped: ${skip}`);
    const res = new Map<string, { mbps: number[]; cps: number[] }>(paths.map((p) => [p.name, { mbps: [], cps: [] }]));
    for (let r = 0; r < ROUNDS; r++)
      for (const p of paths) {
        const o = inNs(p.ns, CLIENT, [p.host, String(p.p1), String(p.p2), String(MB), String(CONNS)]);
        res.get(p.name)!.mbps.push(o.mbps!);
        res.get(p.name)!.cps.push(o.cps!);
      }
    const raw = res.get(paths[0]!.name)!;
    console.log(`\nhost -> container, ${MB} MB per run, ${CONNS} connections per run, median of ${ROUNDS} interleaved rounds`);
    for (const p of paths) {
      const x = res.get(p.name)!;
      const base = p.name.startsWith('dockerd') ? res.get('dockerd raw veth')! : raw;
      console.log(
        `${p.name.padEnd(36)} ${fmt(median(x.mbps)).padStart(8)} MB/s (${(median(x.mbps) / median(base.mbps)).toFixed(2)}x raw)  ${fmt(median(x.cps)).padStart(8)} conn/s (${(median(x.cps) / median(base.cps)).toFixed(2)}x raw)`,
      );
    }
    if (engine) {
      const ours = median(res.get('dock DNAT (127.0.0.1:published)')!.mbps);
      const theirs = median(res.get('dockerd docker-proxy (127.0.0.1)')!.mbps);
      console.log(`dock 127.0.0.1 published / docker-proxy 127.0.0.1: ${(ours / theirs).toFixed(2)}x throughput, ${(median(res.get('dock DNAT (127.0.0.1:published)')!.cps) / median(res.get('dockerd docker-proxy (127.0.0.1)')!.cps)).toFixed(2)}x connect rate`);
    }

    // 3. DNS latency of a container name.
    const q = 'b'.repeat(64);
    const qp = (await c.createSandbox(q, { name: 'asker' })).netnsPath;
    await c.attach(q, 'bench');
    const ourDns: number[] = [];
    const refDns: number[] = [];
    let refPid: string | undefined;
    if (engine) refPid = (await docker(engine, ['inspect', '-f', '{{.State.Pid}}', 'peer'])).stdout.trim();
    for (let r = 0; r < ROUNDS; r++) {
      ourDns.push(inNs(qp, DNS_CLIENT, [ep.Gateway, 'sink', '200']).ms!);
      if (refPid) refDns.push(inNs(`/proc/${refPid}/ns/net`, DNS_CLIENT, ['127.0.0.11', 'sink', '200']).ms!);
    }
    console.log(`\nDNS lookup of a container name: dock ${median(ourDns).toFixed(3)} ms` + (refPid ? `  dockerd ${median(refDns).toFixed(3)} ms  ratio ${(median(ourDns) / median(refDns)).toFixed(2)}x` : ''));
  } finally {
    for (const s of stops) s();
    for (const id of ['a'.repeat(64), 'b'.repeat(64)]) await c.releaseSandbox(id).catch(() => undefined);
    if (engine) {
      await docker(engine, ['rm', '-f', 'sink', 'peer']);
      await engine.stop();
    }
    await c.stop();
    dns?.remove();
    ns.remove();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
