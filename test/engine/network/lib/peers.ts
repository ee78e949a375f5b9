// Small servers and clients run inside a namespace (nsenter --net=PATH node -e ...): a TCP server
// that answers with its tag and the peer address it saw, a UDP echo, a fake upstream DNS server,
// and one-shot TCP/UDP/DNS clients. They stand in for container workloads where the scenario needs
// no container.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

const TCP_SERVER = `
const net = require('net');
const [port, tag] = process.argv.slice(1);
net.createServer((s) => s.end(tag + ' ' + s.remoteAddress.replace('::ffff:', '') + '\\n')).listen(+port, '0.0.0.0', () => console.log('ready'));`;

const UDP_ECHO = `
const d = require('dgram').createSocket('udp4');
const [port, tag] = process.argv.slice(1);
d.on('message', (m, r) => d.send(tag + ' ' + m, r.port, r.address));
d.bind(+port, '0.0.0.0', () => console.log('ready'));`;

const DNS_UPSTREAM = `
const dgram = require('dgram'); const p = require(process.argv[3]);
const [addr, answer] = process.argv.slice(1);
const d = dgram.createSocket('udp4');
d.on('message', (m, r) => { let q; try { q = p.decode(m); } catch (e) { console.error('upstream: ' + e.message); return; }
  d.send(p.encode({ type: 'response', id: q.id, flags: p.RECURSION_AVAILABLE, questions: q.questions,
    answers: [{ type: 'A', name: q.questions[0].name, ttl: 60, data: answer }] }), r.port, r.address); });
const answerOf = (m) => { const q = p.decode(m); return p.encode({ type: 'response', id: q.id, flags: p.RECURSION_AVAILABLE, questions: q.questions,
    answers: [{ type: 'A', name: q.questions[0].name, ttl: 60, data: answer }] }); };
require('net').createServer((s) => { let b = Buffer.alloc(0); s.on('error', () => {}); s.on('data', (x) => { b = Buffer.concat([b, x]);
  if (b.length >= 2 && b.length >= 2 + b.readUInt16BE(0)) { const r = answerOf(b.subarray(2, 2 + b.readUInt16BE(0))); const l = Buffer.alloc(2); l.writeUInt16BE(r.length); s.end(Buffer.concat([l, r])); } }); })
  .listen(53, addr, () => d.bind(53, addr, () => console.log('ready')));`;

const TCP_CLIENT = `
const net = require('net'); const [host, port, ms] = process.argv.slice(1);
const s = net.connect({ host, port: +port }); let out = '';
s.setTimeout(+ms, () => { console.log('TIMEOUT'); process.exit(0); });
s.on('data', (d) => (out += d)); s.on('end', () => { process.stdout.write(out); process.exit(0); });
s.on('error', (e) => { console.log('ERROR ' + e.code); process.exit(0); });`;

const UDP_CLIENT = `
const d = require('dgram').createSocket(process.argv[1].includes(':') ? 'udp6' : 'udp4'); const [host, port, ms] = process.argv.slice(1);
setTimeout(() => { console.log('TIMEOUT'); process.exit(0); }, +ms);
d.on('message', (m) => { console.log(String(m)); process.exit(0); });
d.send('ping', +port, host);`;

const DNS_CLIENT = `
const { Resolver } = require('dns').promises; const [server, name, type] = process.argv.slice(1);
const r = new Resolver({ timeout: 5000, tries: 2 }); r.setServers([server]);
(type === 'PTR' ? r.reverse(name) : r.resolve4(name)).then((a) => console.log(JSON.stringify(a)), (e) => console.log(e.code));`;

const DNS_TCP_CLIENT = `
const p = require(process.argv[3]); const [server, name] = [process.argv[1], process.argv[2]];
const q = p.encode({ type: 'query', id: 7, flags: p.RECURSION_DESIRED, questions: [{ type: 'A', name }] });
const l = Buffer.alloc(2); l.writeUInt16BE(q.length); let b = Buffer.alloc(0);
const s = require('net').connect({ host: server, port: 53 }, () => s.write(Buffer.concat([l, q])));
s.setTimeout(10000, () => { console.log('TIMEOUT'); process.exit(0); });
s.on('data', (x) => { b = Buffer.concat([b, x]); if (b.length >= 2 && b.length >= 2 + b.readUInt16BE(0)) { const r = p.decode(b.subarray(2));
  console.log(r.rcode + ' ' + JSON.stringify(r.answers.map((a) => a.data))); process.exit(0); } });
s.on('error', (e) => { console.log('ERROR ' + e.code); process.exit(0); });`;

export type Peer = { proc: ChildProcess; stop(): void };

function start(nsPath: string, src: string, args: string[]): Promise<Peer> {
  const proc = spawn('nsenter', [`--net=${nsPath}`, '--', process.execPath, '-e', src, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d;
      if (out.includes('ready')) resolve({ proc, stop: () => proc.kill('SIGKILL') });
    });
    proc.on('exit', (code) => reject(new Error(`peer exited ${code} before ready`)));
  });
}

export const tcpServer = (nsPath: string, port: number, tag: string) => start(nsPath, TCP_SERVER, [String(port), tag]);
export const udpEcho = (nsPath: string, port: number, tag: string) => start(nsPath, UDP_ECHO, [String(port), tag]);
export const dnsUpstream = (nsPath: string, addr: string, answer: string) => start(nsPath, DNS_UPSTREAM, [addr, answer, require.resolve('dns-packet')]);

function run(nsPath: string, src: string, args: string[]): string {
  const r = spawnSync('nsenter', [`--net=${nsPath}`, '--', process.execPath, '-e', src, ...args], { encoding: 'utf8', timeout: 60_000 });
  return r.stdout.trim() || `no output (status ${r.status}, ${r.error?.message ?? ''}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`;
}

/** Connects and returns what the server sent ("tag peer-address"), "ERROR <code>" or "TIMEOUT". */
export const tcpProbe = (nsPath: string, host: string, port: number, ms = 10_000) => run(nsPath, TCP_CLIENT, [host, String(port), String(ms)]);
export const udpProbe = (nsPath: string, host: string, port: number, ms = 10_000) => run(nsPath, UDP_CLIENT, [host, String(port), String(ms)]);
/** A query over TCP: "<rcode> <JSON array of answers>". */
export const dnsTcpProbe = (nsPath: string, server: string, name: string) => run(nsPath, DNS_TCP_CLIENT, [server, name, require.resolve('dns-packet')]);
/** A JSON array of addresses, or the resolver's error code (ENOTFOUND, ESERVFAIL, ...). */
export const dnsProbe = (nsPath: string, server: string, name: string, type: 'A' | 'PTR' = 'A') => run(nsPath, DNS_CLIENT, [server, name, type]);
