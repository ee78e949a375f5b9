// The embedded DNS server: one UDP and one TCP listener on a user-defined network's gateway, :53
// (aardvark-dns's model, not dockerd's per-netns 127.0.0.11; README.md here). Answers come from a
// Resolver that decides by the querier's source address; other names are relayed unchanged to the
// upstreams the resolver names for that querier. No container state lives here.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import dnsPacket from 'dns-packet';

export type Answer = { ips: string[] } | { ptr: string } | 'nodata';

export interface Resolver {
  /** A/PTR data for qname as seen from src; undefined when the name is not a container's. */
  resolve(src: string, qname: string, qtype: string): Answer | undefined;
  /** Upstream servers for this querier; empty = do not forward (internal networks only). */
  upstreams(src: string): string[];
}

const TTL = 600;
const FORWARD_TIMEOUT_MS = 3000;
const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 };

/** Builds the reply to one query packet, or returns undefined when it must be forwarded. */
export function answerLocally(resolver: Resolver, src: string, query: Buffer): Buffer | undefined {
  let q: dnsPacket.Packet;
  try {
    q = dnsPacket.decode(query);
  } catch {
    return undefined;
  }
  const question = q.questions?.[0];
  if (!question) return undefined;
  const a = resolver.resolve(src, question.name, question.type);
  if (a === undefined) return undefined;
  const answers: dnsPacket.Answer[] = [];
  if (a !== 'nodata' && 'ips' in a) for (const ip of a.ips) answers.push({ type: 'A', name: question.name, ttl: TTL, class: 'IN', data: ip });
  if (a !== 'nodata' && 'ptr' in a) answers.push({ type: 'PTR', name: question.name, ttl: TTL, class: 'IN', data: a.ptr });
  return reply(q, RCODE.NOERROR, answers);
}

function reply(q: dnsPacket.Packet, rcode: number, answers: dnsPacket.Answer[] = []): Buffer {
  const rd = (q.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
  return dnsPacket.encode({
    type: 'response',
    id: q.id,
    flags: rd | dnsPacket.RECURSION_AVAILABLE | rcode,
    questions: q.questions,
    answers,
  });
}

function failure(query: Buffer, rcode: number): Buffer | undefined {
  try {
    return reply(dnsPacket.decode(query), rcode);
  } catch {
    return undefined;
  }
}

/** Sends the query over UDP to each upstream in turn until one answers. */
function forwardUdp(query: Buffer, upstreams: string[]): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    let i = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (b: Buffer | undefined) => {
      if (timer) clearTimeout(timer);
      sock.close();
      resolve(b);
    };
    const next = () => {
      if (i >= upstreams.length) return finish(undefined);
      const host = upstreams[i++]!;
      sock.send(query, 53, host, (err) => (err ? next() : undefined));
      timer = setTimeout(next, FORWARD_TIMEOUT_MS);
    };
    sock.on('message', (m) => finish(m));
    sock.on('error', () => finish(undefined));
    next();
  });
}

/** Sends the query over TCP to the first upstream that accepts and answers. */
async function forwardTcp(query: Buffer, upstreams: string[]): Promise<Buffer | undefined> {
  for (const host of upstreams) {
    const r = await new Promise<Buffer | undefined>((resolve) => {
      const s = net.connect({ host, port: 53 });
      const chunks: Buffer[] = [];
      s.setTimeout(FORWARD_TIMEOUT_MS, () => s.destroy());
      s.on('connect', () => s.write(frame(query)));
      s.on('data', (d) => {
        chunks.push(d);
        const all = Buffer.concat(chunks);
        if (all.length >= 2 && all.length >= 2 + all.readUInt16BE(0)) {
          s.end();
          resolve(all.subarray(2, 2 + all.readUInt16BE(0)));
        }
      });
      s.on('error', () => resolve(undefined));
      s.on('close', () => resolve(undefined));
    });
    if (r) return r;
  }
  return undefined;
}

function frame(b: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

async function handle(resolver: Resolver, src: string, query: Buffer, tcp: boolean): Promise<Buffer | undefined> {
  const local = answerLocally(resolver, src, query);
  if (local) return local;
  const ups = resolver.upstreams(src);
  if (ups.length === 0) return failure(query, RCODE.SERVFAIL);
  const r = tcp ? await forwardTcp(query, ups) : await forwardUdp(query, ups);
  return r ?? failure(query, RCODE.SERVFAIL);
}

export class DnsServer {
  private constructor(
    readonly address: string,
    private readonly udp: dgram.Socket,
    private readonly tcp: net.Server,
    private readonly conns: Set<net.Socket>,
  ) {}

  /** Listens on address:port (UDP and TCP); rejects with the bind error. */
  static async start(address: string, resolver: Resolver, port = 53): Promise<DnsServer> {
    const udp = dgram.createSocket('udp4');
    udp.on('message', (msg, rinfo) => {
      void handle(resolver, rinfo.address, msg, false).then((r) => {
        if (r) udp.send(r, rinfo.port, rinfo.address);
      });
    });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind({ address, port, exclusive: true }, () => {
        udp.off('error', reject);
        udp.on('error', () => undefined);
        resolve();
      });
    });
    const conns = new Set<net.Socket>();
    const tcp = net.createServer((s) => {
      conns.add(s);
      s.on('close', () => conns.delete(s));
      s.on('error', () => s.destroy());
      s.setTimeout(10_000, () => s.destroy());
      let buf = Buffer.alloc(0);
      s.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
          buf = buf.subarray(2 + msg.length);
          void handle(resolver, s.remoteAddress?.replace(/^::ffff:/, '') ?? '', msg, true).then((r) => {
            if (r && !s.destroyed) s.write(frame(r));
          });
        }
      });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host: address, port, exclusive: true }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      udp.close();
      throw e;
    }
    return new DnsServer(address, udp, tcp, conns);
  }

  close(): Promise<void> {
    for (const c of this.conns) c.destroy();
    return new Promise((resolve) => {
      this.udp.close(() => this.tcp.close(() => resolve()));
    });
  }
}
