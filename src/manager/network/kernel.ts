// Kernel objects of dock's networking. The per-container path (netns bind mount, veth pair, address,
// default route, veth delete) is rtnetlink through the addon, run on the libuv pool (NetSys); bridges,
// detach and reconcile go through long-lived iproute2 batches (see README.md here, "Decisions").
// Every link we create carries an ifalias "keel:..." so reconcile can find leftovers.
// No policy here: the controller decides names and addresses.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { realNetSys, realShimSys, type NetSys } from '../../native';
import { ExecError, type NetExec } from './exec';
import { IpBatch } from './ip-batch';

const MNT_DETACH = 2;

export const ALIAS = 'keel:';
export const bridgeAlias = (netId: string) => `${ALIAS}n:${netId}`;
export const vethAlias = (containerId: string, netId: string) => `${ALIAS}e:${containerId}:${netId}`;

/** A link of ours as `ip -j link` reports it. */
export type OwnedLink = { ifname: string; alias: string; kind: 'bridge' | 'veth' | string };

export type VethSpec = {
  hostIf: string;
  ifname: string;
  mac: string;
  netnsPath: string;
  bridge: string;
  alias: string;
  /** a.b.c.d/n inside the sandbox. */
  address: string;
  /** Make this endpoint's gateway the sandbox's default route (in the same batch). */
  defaultVia?: string;
};

function isGone(e: unknown): boolean {
  if ((e as { code?: string }).code === 'ENODEV') return true;
  const s = e instanceof ExecError ? e.stderr : String(e);
  return /Cannot find device|does not exist|No such device|not found/i.test(s);
}

/** How long an `ip` entered into a sandbox stays after its last command (detach, reconcile). */
const SANDBOX_IP_IDLE_MS = 10_000;
const IP_BATCH = ['ip', '-force', '-batch', '-'];

export class Kernel {
  private hostIp: IpBatch | undefined;
  private readonly sandboxIp = new Map<string, IpBatch>();
  /** veth deletes left running after a sandbox was released (see releaseVeths). */
  private readonly deleting = new Set<Promise<void>>();

  constructor(
    private readonly x: NetExec,
    /** /proc/sys/net of the daemon's namespace (a seam for unit tests). */
    private readonly procSysNet = '/proc/sys/net',
    private readonly net: NetSys = realNetSys,
  ) {}

  /** A bridge with its gateway address, up, hairpin-capable, route_localnet on when asked. */
  async createBridge(name: string, gatewayCidr: string, alias: string, routeLocalnet: boolean): Promise<void> {
    // An explicit MAC (02:42 + random, as dockerd): a bridge without one takes the lowest MAC of its
    // ports and changes it when a veth with a lower one joins, which leaves the gateway's old MAC in
    // every container's neighbour table, and their packets to the gateway (DNS) lost for seconds.
    const mac = ['02', '42', ...crypto.randomBytes(4).toString('hex').match(/../g)!].join(':');
    await this.host([`link add name ${name} address ${mac} type bridge`, `addr add ${gatewayCidr} dev ${name}`, `link set dev ${name} alias ${alias} up`]);
    // route_localnet lets the nat OUTPUT DNAT send 127.0.0.1-sourced packets into the bridge, which
    // is what carries -p traffic to 127.0.0.1 in the kernel instead of a userland proxy (docker's
    // --userland-proxy=false). INPUT drops 127/8 arriving on the bridge (CVE-2020-8558).
    if (routeLocalnet) this.sysctl(`ipv4/conf/${name}/route_localnet`, '1');
  }

  /** Runs commands in the daemon's namespace through the long-lived `ip -batch` (restarted if it died). */
  private host(cmds: string[]): Promise<void> {
    if (!this.hostIp?.alive) this.hostIp = new IpBatch(IP_BATCH);
    return this.hostIp.run(cmds);
  }

  /** Deletes links (one already gone does not stop the others, and is fine). */
  async deleteLinks(names: string[]): Promise<void> {
    const r = await Promise.allSettled(names.map((n) => this.net.linkDel(n)));
    const failed = r.find((x): x is PromiseRejectedResult => x.status === 'rejected' && !isGone(x.reason));
    if (failed) throw failed.reason;
  }

  /**
   * Releases the host ends of a sandbox's veths: off the bridge now, deleted later. Unregistering a
   * netdev waits for RCU grace periods (27 ms median measured, against 2 ms for this whole release),
   * which no caller needs to sit through: the names are random and never reused, and the netns is
   * already gone. Leaving the bridge is what must not wait: the next endpoint on the network gets
   * the same lowest free address, so the same MAC (macFromIp), and the bridge would keep forwarding
   * it to the old port. If the daemon dies before the delete, reconcile finds the link by its
   * ifalias. settle() waits for the deletes.
   */
  async releaseVeths(names: string[]): Promise<void> {
    const r = await Promise.allSettled(names.map((n) => this.net.linkUnbridge(n)));
    const p: Promise<void> = this.deleteLinks(names)
      .catch(() => undefined)
      .finally(() => this.deleting.delete(p));
    this.deleting.add(p);
    const failed = r.find((x): x is PromiseRejectedResult => x.status === 'rejected' && !isGone(x.reason));
    if (failed) throw failed.reason;
  }

  /** Waits for the deletes releaseVeths started. */
  async settle(): Promise<void> {
    while (this.deleting.size > 0) await Promise.all([...this.deleting]);
  }

  /**
   * Deletes a link whose name may be used again (a bridge): iproute2 keeps a name → index cache for
   * the life of the process, so the long-lived `ip` is replaced afterwards rather than trusted with
   * a stale index. veth names are random and never come back.
   */
  async deleteLink(name: string): Promise<void> {
    await this.deleteLinks([name]);
    this.hostIp?.close();
    this.hostIp = undefined;
  }

  /** After an interface inside the sandbox went (detach): its `ip` may cache the old index. */
  forgetSandbox(netnsPath: string): void {
    const b = this.sandboxIp.get(netnsPath);
    this.sandboxIp.delete(netnsPath);
    b?.close();
  }

  /** Links whose ifalias marks them as ours. */
  async ownedLinks(): Promise<OwnedLink[]> {
    await this.settle();
    const out = await this.x.run(['ip', '-d', '-j', 'link', 'show']);
    const links = JSON.parse(out || '[]') as { ifname: string; ifalias?: string; linkinfo?: { info_kind?: string } }[];
    return links
      .filter((l) => l.ifalias?.startsWith(ALIAS))
      .map((l) => ({ ifname: l.ifname, alias: l.ifalias!, kind: l.linkinfo?.info_kind ?? '' }));
  }

  /** A new network namespace bind-mounted at file, with lo up (util-linux unshare's persistent ns). */
  async createNetns(file: string): Promise<void> {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.closeSync(fs.openSync(file, 'w', 0o444));
    try {
      await this.net.netnsCreate(file);
    } catch (e) {
      fs.rmSync(file, { force: true });
      throw e;
    }
  }

  /** Unmounts and removes a netns file; absent or unmounted is fine. */
  async removeNetns(file: string): Promise<void> {
    const b = this.sandboxIp.get(file);
    this.sandboxIp.delete(file);
    if (b) {
      // Its process is a member of the namespace: gone first, so the namespace dies with the mount.
      b.close();
      await b.exited();
    }
    try {
      // umount2 through the addon: no process for the most frequent teardown step, and no read of
      // mountinfo (which grows with every container) first: EINVAL is "not a mount point".
      realShimSys.umount2(file, MNT_DETACH);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== 'EINVAL' && code !== 'ENOENT' && isMounted(file))
        await this.x.run(['umount', '-l', file]).catch((err: unknown) => {
          if (isMounted(file)) throw err;
        });
    }
    fs.rmSync(file, { force: true });
  }

  /**
   * A veth pair: host end on the bridge (hairpin on, tagged), peer created directly inside the
   * sandbox with its name and MAC, then addressed and brought up there.
   */
  async addVeth(v: VethSpec): Promise<void> {
    const [address, prefix] = v.address.split('/');
    // One pool job, undone by itself on failure (native/src/sys/netns.c).
    await this.net.vethAdd({
      hostIf: v.hostIf,
      bridge: v.bridge,
      alias: v.alias,
      ifname: v.ifname,
      netns: v.netnsPath,
      mac: Buffer.from(v.mac.split(':').map((h) => parseInt(h, 16))),
      address: address!,
      prefix: Number(prefix),
      gateway: v.defaultVia,
    });
    // An `ip` kept inside this sandbox caches interface indexes from before the new one.
    this.forgetSandbox(v.netnsPath);
  }

  /** Sets (or removes, with no gateway) the sandbox's default route. */
  async setDefaultRoute(netnsPath: string, gw: { ip: string; ifname: string } | undefined): Promise<void> {
    if (gw) await this.inNetns(netnsPath, [`route replace default via ${gw.ip} dev ${gw.ifname}`]);
    else
      try {
        await this.inNetns(netnsPath, ['route del default']);
      } catch (e) {
        if (!/No such process|Cannot find/i.test(String(e))) throw e;
      }
  }

  /**
   * Runs ip commands inside a sandbox: through the `ip` left there by createNetns while it lives,
   * else a new one entered with nsenter (`ip -n` takes only /run/netns names).
   */
  async inNetns(netnsPath: string, cmds: string[]): Promise<void> {
    let b = this.sandboxIp.get(netnsPath);
    if (!b?.alive) {
      b = new IpBatch(['nsenter', `--net=${netnsPath}`, ...IP_BATCH], SANDBOX_IP_IDLE_MS);
      this.sandboxIp.set(netnsPath, b);
    }
    await b.run(cmds);
  }

  /** Ends every `ip` we keep (daemon stop). */
  async close(): Promise<void> {
    await this.settle();
    const all = [...this.sandboxIp.values(), ...(this.hostIp ? [this.hostIp] : [])];
    this.sandboxIp.clear();
    this.hostIp = undefined;
    for (const b of all) b.close();
    await Promise.all(all.map((b) => b.exited()));
  }

  /** Writes a sysctl of the daemon's own network namespace. */
  sysctl(key: string, value: string): void {
    fs.writeFileSync(path.join(this.procSysNet, key), value);
  }

  readSysctl(key: string): string {
    return fs.readFileSync(path.join(this.procSysNet, key), 'utf8').trim();
  }

  /**
   * IPv4 routes of the daemon's namespace (for picking pools that do not shadow them): the main
   * table as /proc/self/net/route lists it, which is what `ip -4 route show table main` prints,
   * read without starting a process (that took 10-25 ms of every network create).
   */
  async routes(): Promise<string[]> {
    return parseProcNetRoute(await fs.promises.readFile('/proc/self/net/route', 'utf8'));
  }
}

/**
 * The destinations of /proc/net/route (the main table; addresses and masks are hex in host byte
 * order, i.e. little-endian here), written as ip(8) writes them: "a.b.c.d/n", a /32 without its
 * length; the default route is left out.
 */
export function parseProcNetRoute(text: string): string[] {
  const quad = (hex: string) => {
    const n = Number.parseInt(hex, 16);
    return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.');
  };
  const out: string[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || !/^[0-9A-Fa-f]{8}$/.test(f[1]!) || !/^[0-9A-Fa-f]{8}$/.test(f[7]!)) continue;
    let len = 0;
    for (let m = Number.parseInt(f[7]!, 16) >>> 0; m; m >>>= 1) len += m & 1;
    if (len === 0) continue;
    out.push(len === 32 ? quad(f[1]!) : `${quad(f[1]!)}/${len}`);
  }
  return out;
}

/** True when file is a mount point in our mount namespace. */
export function isMounted(file: string): boolean {
  let info = '';
  try {
    info = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return false;
  }
  for (const line of info.split('\n')) {
    const mp = line.split(' ')[4];
    if (mp && unescapeMount(mp) === file) return true;
  }
  return false;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}
