// After interpolation every substituted value is a string; compose-go casts the ones whose schema
// type is a number or a boolean back (loader/interpolate.go). YAML 1.1 words (yes/no/on/off) are
// accepted for booleans with a warning, as compose v2 does.
import { RuntimeError } from '../../errors/index';
import { pathString } from './interpolate';

type Kind = 'int' | 'float' | 'bool';

const S = 'services.*.';
const table: [string, Kind][] = [
  [`${S}blkio_config.weight`, 'int'],
  [`${S}cpu_count`, 'int'],
  [`${S}cpu_percent`, 'float'],
  [`${S}cpu_period`, 'int'],
  [`${S}cpu_quota`, 'int'],
  [`${S}cpu_shares`, 'int'],
  [`${S}cpus`, 'float'],
  [`${S}deploy.replicas`, 'int'],
  [`${S}deploy.restart_policy.max_attempts`, 'int'],
  [`${S}depends_on.*.required`, 'bool'],
  [`${S}depends_on.*.restart`, 'bool'],
  [`${S}healthcheck.retries`, 'int'],
  [`${S}healthcheck.disable`, 'bool'],
  [`${S}init`, 'bool'],
  [`${S}mem_swappiness`, 'int'],
  [`${S}oom_kill_disable`, 'bool'],
  [`${S}oom_score_adj`, 'int'],
  [`${S}pids_limit`, 'int'],
  [`${S}ports.[].target`, 'int'],
  [`${S}ports.[].published`, 'int'],
  [`${S}privileged`, 'bool'],
  [`${S}read_only`, 'bool'],
  [`${S}scale`, 'int'],
  [`${S}stdin_open`, 'bool'],
  [`${S}tty`, 'bool'],
  [`${S}ulimits.*`, 'int'],
  [`${S}ulimits.*.hard`, 'int'],
  [`${S}ulimits.*.soft`, 'int'],
  [`${S}volumes.[].read_only`, 'bool'],
  [`${S}volumes.[].volume.nocopy`, 'bool'],
  [`${S}volumes.[].bind.create_host_path`, 'bool'],
  ['networks.*.external', 'bool'],
  ['networks.*.internal', 'bool'],
  ['networks.*.attachable', 'bool'],
  ['networks.*.enable_ipv6', 'bool'],
  ['volumes.*.external', 'bool'],
];

// The patterns split once (castTypes visits every string of every file), kept by segment count.
const compiled = new Map<number, { segs: string[]; kind: Kind }[]>();
for (const [pattern, kind] of table) {
  const segs = pattern.split('.');
  compiled.set(segs.length, [...(compiled.get(segs.length) ?? []), { segs, kind }]);
}

function kindAt(path: (string | number)[]): Kind | undefined {
  const hit = compiled.get(path.length)?.find(({ segs }) => segs.every((s, i) => (s === '[]' ? typeof path[i] === 'number' : s === '*' ? typeof path[i] === 'string' : s === path[i])));
  return hit?.kind;
}

function cast(v: string, kind: Kind, path: (string | number)[], warn: (m: string) => void): unknown {
  const where = pathString(path);
  if (kind === 'bool') {
    const l = v.toLowerCase();
    if (l === 'true') return true;
    if (l === 'false') return false;
    if (['y', 'yes', 'on'].includes(l) || ['n', 'no', 'off'].includes(l)) {
      const b = ['y', 'yes', 'on'].includes(l);
      warn(`${where}: ${JSON.stringify(v)} for boolean is not supported by YAML 1.2, please use \`${b}\``);
      return b;
    }
    throw new RuntimeError('InvalidArgument', `${where}: invalid boolean ${JSON.stringify(v)}`);
  }
  const n = Number(v);
  if (v.trim() === '' || Number.isNaN(n) || (kind === 'int' && !Number.isInteger(n))) {
    throw new RuntimeError('InvalidArgument', `${where}: invalid ${kind === 'int' ? 'integer' : 'number'} ${JSON.stringify(v)}`);
  }
  return n;
}

/** Casts the strings at numeric and boolean paths of a parsed file, in place. */
export function castTypes(tree: unknown, warn: (m: string) => void, path: (string | number)[] = []): unknown {
  if (typeof tree === 'string') {
    const kind = kindAt(path);
    return kind ? cast(tree, kind, path, warn) : tree;
  }
  if (Array.isArray(tree)) {
    for (let i = 0; i < tree.length; i++) tree[i] = castTypes(tree[i], warn, [...path, i]);
  } else if (tree && typeof tree === 'object') {
    const o = tree as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = castTypes(o[k], warn, [...path, k]);
  }
  return tree;
}
