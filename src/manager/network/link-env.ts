// Environment variables that `--link name:alias` gives the linking container, as dockerd 20.10
// writes them (daemon/links): ALIAS_NAME, ALIAS_PORT, ALIAS_PORT_<p>_<PROTO>[_ADDR|_PORT|_PROTO],
// _START/_END for runs of consecutive ports, and ALIAS_ENV_<var>. Pure: no state, no I/O.

export type LinkEnvInput = {
  /** Name of the linking container, without the leading slash. */
  parentName: string;
  alias: string;
  /** The linked container's address on the shared (default bridge) network. */
  childIp: string;
  /** The linked container's exposed ports, "80/tcp" or "80". */
  exposedPorts: string[];
  /** The linked container's environment (image ENV plus -e), "K=V". */
  childEnv: string[];
};

type Port = { num: number; proto: string };

function parsePort(p: string): Port {
  const [n, proto] = p.split('/');
  return { num: Number(n), proto: (proto ?? 'tcp').toLowerCase() };
}

/** dockerd's link order: by number, and tcp before another protocol on the same number. */
function sortPorts(ports: Port[]): Port[] {
  return [...ports].sort((a, b) => a.num - b.num || (a.proto === 'tcp' ? -1 : b.proto === 'tcp' ? 1 : a.proto.localeCompare(b.proto)));
}

/** Index just past the run of consecutive port numbers that starts at index (protocol ignored, as dockerd). */
function nextContiguous(ports: Port[], index: number): number {
  let value = ports[index]!.num;
  for (let i = index + 1; i < ports.length; i++) {
    if (ports[i]!.num > value + 1) return i;
    value++;
  }
  return ports.length;
}

export function linkEnv(input: LinkEnvInput): string[] {
  const alias = input.alias.toUpperCase().replace(/-/g, '_');
  const ip = input.childIp;
  const ports = sortPorts(input.exposedPorts.map(parsePort));
  const env: string[] = [];
  if (ports.length > 0) env.push(`${alias}_PORT=${ports[0]!.proto}://${ip}:${ports[0]!.num}`);
  for (let i = 0; i < ports.length; ) {
    const p = ports[i]!;
    const j = nextContiguous(ports, i);
    const P = p.proto.toUpperCase();
    if (j > i + 1) {
      const q = ports[j - 1]!;
      env.push(`${alias}_PORT_${p.num}_${P}_START=${p.proto}://${ip}:${p.num}`);
      env.push(`${alias}_PORT_${p.num}_${P}_ADDR=${ip}`);
      env.push(`${alias}_PORT_${p.num}_${P}_PROTO=${p.proto}`);
      env.push(`${alias}_PORT_${p.num}_${P}_PORT_START=${p.num}`);
      env.push(`${alias}_PORT_${p.num}_${q.proto.toUpperCase()}_END=${q.proto}://${ip}:${q.num}`);
      env.push(`${alias}_PORT_${p.num}_${q.proto.toUpperCase()}_PORT_END=${q.num}`);
    }
    for (; i < j; i++) {
      const r = ports[i]!;
      const R = r.proto.toUpperCase();
      env.push(`${alias}_PORT_${r.num}_${R}=${r.proto}://${ip}:${r.num}`);
      env.push(`${alias}_PORT_${r.num}_${R}_ADDR=${ip}`);
      env.push(`${alias}_PORT_${r.num}_${R}_PORT=${r.num}`);
      env.push(`${alias}_PORT_${r.num}_${R}_PROTO=${r.proto}`);
    }
  }
  env.push(`${alias}_NAME=/${input.parentName}/${input.alias}`);
  for (const v of input.childEnv) {
    const eq = v.indexOf('=');
    if (eq < 0) continue;
    const k = v.slice(0, eq);
    // dockerd skips these two: they come from the image build and mean nothing to the linker.
    if (k === 'HOME' || k === 'PATH') continue;
    env.push(`${alias}_ENV_${k}=${v.slice(eq + 1)}`);
  }
  return dedupe(env);
}

/**
 * A run of ports repeats some keys (_ADDR, _PROTO of its first port); dockerd merges the list into
 * the environment key by key (a later value replaces an earlier one in place), so do we.
 */
function dedupe(env: string[]): string[] {
  const at = new Map<string, number>();
  const out: string[] = [];
  for (const kv of env) {
    const k = kv.slice(0, kv.indexOf('='));
    const i = at.get(k);
    if (i === undefined) {
      at.set(k, out.length);
      out.push(kv);
    } else out[i] = kv;
  }
  return out;
}
