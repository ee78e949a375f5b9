// dock's iptables rules: a pure function from networks and published ports to the full content of
// our own chains, and an applier that loads it with one `iptables-restore --noflush` per change.
// Declaring a chain in restore input flushes it, so every apply replaces our rules atomically and
// is idempotent; the builtin chains get only tagged jumps into ours (comment "keel"), which
// ensureJumps deletes and re-adds, so nothing of ours can pile up there.
//
// Shape (dockerd's with --userland-proxy=false, under KEEL names; README.md here):
//   nat    PREROUTING  -m addrtype --dst-type LOCAL -j KEEL
//          OUTPUT      -m addrtype --dst-type LOCAL -j KEEL        (127/8 included: route_localnet)
//          POSTROUTING -j KEEL-POSTROUTING
//          KEEL              [-d hostip] -p P --dport HP -j DNAT --to-destination CIP:CP
//          KEEL-POSTROUTING  -s SUBNET ! -o BR -j MASQUERADE          (not for --internal)
//                            -s SUBNET -o BR --ctstate DNAT -j MASQUERADE   (hairpin)
//                            -s 127.0.0.0/8 -o BR -j MASQUERADE        (loopback DNAT)
//   filter FORWARD -j KEEL-FORWARD;  INPUT -j KEEL-INPUT
//          KEEL-FORWARD  -j KEEL-ISOLATION-STAGE-1, then per bridge dockerd's four ACCEPT/KEEL rules
//          KEEL-ISOLATION-STAGE-1/2  dockerd's isolation between bridges; DNAT'd flows pass
//          KEEL          -d CIP ! -i BR -o BR -p P --dport CP -j ACCEPT
//          KEEL-INPUT    -i BR -d 127.0.0.0/8 ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
import type { NetExec } from './exec';
import { Mutex } from './exec';

export type RuleNetwork = { id: string; bridge: string; subnet: string; internal: boolean; icc: boolean; masquerade: boolean };
export type RulePort = { owner: string; bridge: string; containerIp: string; containerPort: number; proto: 'tcp' | 'udp'; hostIp: string; hostPort: number };

export const NAT_CHAINS = ['KEEL', 'KEEL-POSTROUTING'];
export const FILTER_CHAINS = ['KEEL-FORWARD', 'KEEL', 'KEEL-ISOLATION-STAGE-1', 'KEEL-ISOLATION-STAGE-2', 'KEEL-INPUT'];
export const TAG = 'keel';

const c = (owner: string) => `-m comment --comment ${TAG}:${owner.slice(0, 12)}`;

/** The builtin-chain jumps, in the order they are inserted. */
export function jumpRules(loopbackDnat: boolean): { nat: string[]; filter: string[] } {
  const tag = `-m comment --comment ${TAG}`;
  return {
    nat: [
      `-A PREROUTING -m addrtype --dst-type LOCAL ${tag} -j KEEL`,
      loopbackDnat ? `-A OUTPUT -m addrtype --dst-type LOCAL ${tag} -j KEEL` : `-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL ${tag} -j KEEL`,
      `-A POSTROUTING ${tag} -j KEEL-POSTROUTING`,
    ],
    filter: [`-I FORWARD 1 ${tag} -j KEEL-FORWARD`, `-I INPUT 1 ${tag} -j KEEL-INPUT`],
  };
}

/** Every rule of our chains for this state, as iptables-restore lines per table. */
export function buildRules(nets: RuleNetwork[], ports: RulePort[], loopbackDnat: boolean): { nat: string[]; filter: string[] } {
  const nat: string[] = [];
  const filter: string[] = ['-A KEEL-FORWARD -j KEEL-ISOLATION-STAGE-1', '-A KEEL-ISOLATION-STAGE-1 -m conntrack --ctstate DNAT -j RETURN'];
  for (const n of nets) {
    const br = n.bridge;
    const t = c(n.id);
    if (n.internal) {
      filter.push(`-A KEEL-FORWARD -i ${br} -o ${br} ${t} -j ACCEPT`);
      filter.push(`-A KEEL-ISOLATION-STAGE-1 ! -s ${n.subnet} -o ${br} ${t} -j DROP`);
      filter.push(`-A KEEL-ISOLATION-STAGE-1 ! -d ${n.subnet} -i ${br} ${t} -j DROP`);
    } else {
      filter.push(`-A KEEL-FORWARD -o ${br} -m conntrack --ctstate RELATED,ESTABLISHED ${t} -j ACCEPT`);
      filter.push(`-A KEEL-FORWARD -o ${br} ${t} -j KEEL`);
      filter.push(`-A KEEL-FORWARD -i ${br} ! -o ${br} ${t} -j ACCEPT`);
      if (n.icc) filter.push(`-A KEEL-FORWARD -i ${br} -o ${br} ${t} -j ACCEPT`);
      filter.push(`-A KEEL-ISOLATION-STAGE-1 -i ${br} ! -o ${br} ${t} -j KEEL-ISOLATION-STAGE-2`);
      filter.push(`-A KEEL-ISOLATION-STAGE-2 -o ${br} ${t} -j DROP`);
      if (n.masquerade) nat.push(`-A KEEL-POSTROUTING -s ${n.subnet} ! -o ${br} ${t} -j MASQUERADE`);
    }
    nat.push(`-A KEEL-POSTROUTING -s ${n.subnet} -o ${br} -m conntrack --ctstate DNAT ${t} -j MASQUERADE`);
    if (loopbackDnat) {
      nat.push(`-A KEEL-POSTROUTING -s 127.0.0.0/8 -o ${br} ${t} -j MASQUERADE`);
      filter.push(`-A KEEL-INPUT -i ${br} -d 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT ${t} -j DROP`);
    }
  }
  filter.push('-A KEEL-ISOLATION-STAGE-1 -j RETURN', '-A KEEL-ISOLATION-STAGE-2 -j RETURN');
  for (const p of ports) {
    if (p.hostIp.includes(':')) continue; // IPv6 bindings are carried by the proxy alone
    const t = c(p.owner);
    const dst = p.hostIp === '0.0.0.0' || p.hostIp === '' ? '' : `-d ${p.hostIp}/32 `;
    nat.push(`-A KEEL ${dst}-p ${p.proto} -m ${p.proto} --dport ${p.hostPort} ${t} -j DNAT --to-destination ${p.containerIp}:${p.containerPort}`);
    filter.push(`-A KEEL -d ${p.containerIp}/32 ! -i ${p.bridge} -o ${p.bridge} -p ${p.proto} -m ${p.proto} --dport ${p.containerPort} ${t} -j ACCEPT`);
  }
  return { nat, filter };
}

function table(name: string, chains: string[], lines: string[]): string {
  return [`*${name}`, ...chains.map((ch) => `:${ch} - [0:0]`), ...lines, 'COMMIT', ''].join('\n');
}

/** Lines of iptables-save that are our jumps in builtin chains (tagged exactly "keel"). */
export function ourJumps(save: string): string[] {
  return save.split('\n').filter((l) => /^-A (PREROUTING|OUTPUT|POSTROUTING|FORWARD|INPUT) /.test(l) && / --comment "?keel"? /.test(l));
}

export class Iptables {
  private readonly lock = new Mutex();
  private jumpsDone = false;

  constructor(
    private readonly x: NetExec,
    private readonly loopbackDnat: boolean,
  ) {}

  /** Replaces the content of our chains with rules for this state (creating the chains and jumps first). */
  apply(nets: RuleNetwork[], ports: RulePort[]): Promise<void> {
    return this.lock.run(async () => {
      if (!this.jumpsDone) await this.ensureJumps();
      const r = buildRules(nets, ports, this.loopbackDnat);
      await this.x.run(['iptables-restore', '-w', '--noflush'], table('nat', NAT_CHAINS, r.nat) + table('filter', FILTER_CHAINS, r.filter));
    });
  }

  /** Deletes every tagged jump in builtin chains and inserts the current set once. */
  private async ensureJumps(): Promise<void> {
    const j = jumpRules(this.loopbackDnat);
    const input: string[] = [];
    for (const [t, chains, adds] of [
      ['nat', NAT_CHAINS, j.nat],
      ['filter', FILTER_CHAINS, j.filter],
    ] as const) {
      const save = await this.x.run(['iptables-save', '-t', t]);
      const existing = new Set(save.split('\n').filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0]));
      const decl = chains.filter((ch) => !existing.has(ch)).map((ch) => `:${ch} - [0:0]`);
      const dels = ourJumps(save).map((l) => l.replace(/^-A /, '-D '));
      input.push(`*${t}`, ...decl, ...dels, ...adds, 'COMMIT');
    }
    await this.x.run(['iptables-restore', '-w', '--noflush'], input.join('\n') + '\n');
    this.jumpsDone = true;
  }

  /** Removes our jumps and chains entirely (used when the last network goes, and by tests). */
  removeAll(): Promise<void> {
    return this.lock.run(async () => {
      const input: string[] = [];
      for (const [t, chains] of [
        ['nat', NAT_CHAINS],
        ['filter', FILTER_CHAINS],
      ] as const) {
        const save = await this.x.run(['iptables-save', '-t', t]);
        const existing = new Set(save.split('\n').filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0]));
        const ours = chains.filter((ch) => existing.has(ch));
        input.push(`*${t}`, ...ourJumps(save).map((l) => l.replace(/^-A /, '-D ')), ...ours.map((ch) => `-F ${ch}`), ...ours.map((ch) => `-X ${ch}`), 'COMMIT');
      }
      await this.x.run(['iptables-restore', '-w', '--noflush'], input.join('\n') + '\n');
      this.jumpsDone = false;
    });
  }
}
