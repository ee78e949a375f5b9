// The in-daemon userland proxy (docker-proxy's job, without a process per port). Each published
// host port gets one listening socket: holding it reserves the port, so a clash is reported at
// publish time. It carries only what the kernel DNAT does not catch: IPv6 connections (containers
// have IPv4 addresses) and everything when iptables are off or loopback DNAT is disabled.
import * as dgram from 'node:dgram';
import * as net from 'node:net';

export type ProxyTarget = { ip: string; port: number };

export interface PortProxy {
  readonly proto: 'tcp' | 'udp';
  readonly hostIp: string;
  readonly hostPort: number;
  /** Points new connections/datagrams at another container address (re-attach). */
  retarget(t: ProxyTarget | undefined): void;
  close(): Promise<void>;
}

/** How long a UDP client mapping lives without traffic (docker-proxy's UDPConnTrackTimeout). */
const UDP_IDLE_MS = 90_000;

/** Binds hostIp:hostPort and forwards to target; rejects with the bind error (EADDRINUSE, ...). */
export function startProxy(proto: 'tcp' | 'udp', hostIp: string, hostPort: number, target: ProxyTarget | undefined): Promise<PortProxy> {
  return proto === 'tcp' ? startTcp(hostIp, hostPort, target) : startUdp(hostIp, hostPort, target);
}

function startTcp(hostIp: string, hostPort: number, target: ProxyTarget | undefined): Promise<PortProxy> {
  let to = target;
  const conns = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    if (!to) {
      client.destroy();
      return;
    }
    const upstream = net.connect({ host: to.ip, port: to.port, allowHalfOpen: true, noDelay: true });
    conns.add(client).add(upstream);
    const done = () => {
      conns.delete(client);
      conns.delete(upstream);
    };
    client.on('close', done);
    upstream.on('close', done);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: hostIp, port: hostPort, ipv6Only: hostIp.includes(':'), exclusive: true }, () => {
      server.off('error', reject);
      server.on('error', () => undefined);
      resolve({
        proto: 'tcp',
        hostIp,
        hostPort,
        retarget: (t) => (to = t),
        close: () =>
          new Promise((res) => {
            for (const c of conns) c.destroy();
            server.close(() => res());
          }),
      });
    });
  });
}

function startUdp(hostIp: string, hostPort: number, target: ProxyTarget | undefined): Promise<PortProxy> {
  let to = target;
  const v6 = hostIp.includes(':');
  const sock = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6 });
  const flows = new Map<string, { up: dgram.Socket; timer: NodeJS.Timeout }>();
  const drop = (key: string) => {
    const f = flows.get(key);
    if (!f) return;
    clearTimeout(f.timer);
    f.up.close();
    flows.delete(key);
  };
  sock.on('message', (msg, rinfo) => {
    if (!to) return;
    const key = `${rinfo.address}|${rinfo.port}`;
    let f = flows.get(key);
    if (!f) {
      const up = dgram.createSocket('udp4');
      up.on('message', (reply) => {
        const g = flows.get(key);
        if (g) g.timer.refresh();
        sock.send(reply, rinfo.port, rinfo.address);
      });
      up.on('error', () => drop(key));
      f = { up, timer: setTimeout(() => drop(key), UDP_IDLE_MS) };
      f.timer.unref();
      flows.set(key, f);
    } else f.timer.refresh();
    f.up.send(msg, to.port, to.ip);
  });
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ address: hostIp, port: hostPort, exclusive: true }, () => {
      sock.off('error', reject);
      sock.on('error', () => undefined);
      resolve({
        proto: 'udp',
        hostIp,
        hostPort,
        retarget: (t) => (to = t),
        close: () =>
          new Promise((res) => {
            for (const k of [...flows.keys()]) drop(k);
            sock.close(() => res());
          }),
      });
    });
  });
}
