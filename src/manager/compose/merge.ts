// Merging of several compose files (-f a -f b) with compose v2's rules (compose-go override/):
// mappings merge key by key, sequences append, scalars override; command, entrypoint and
// healthcheck.test are replaced; environment, labels, sysctls... merge by key; then redefinitions
// in sequences (ports, volumes by target, environment by name...) collapse to the last one.

type Tree = Record<string, unknown>;
type Merger = (base: unknown, over: unknown, path: string[]) => unknown;

const isMap = (v: unknown): v is Tree => !!v && typeof v === 'object' && !Array.isArray(v);

/** A path pattern: "*" matches one segment. */
function matches(path: string[], pattern: string): boolean {
  const p = pattern.split('.');
  return p.length === path.length && p.every((s, i) => s === '*' || s === path[i]);
}

/** A mapping as a KEY=VALUE list, in key order (compose-go convertIntoSequence). */
function toSequence(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [v];
  if (!isMap(v)) return [];
  const out: string[] = [];
  for (const [k, val] of Object.entries(v)) {
    if (val === null || val === undefined) out.push(k);
    else if (Array.isArray(val)) for (const x of val) out.push(`${k}=${String(x)}`);
    else out.push(`${k}=${String(val)}`);
  }
  return out.sort();
}

/** A list of names as a mapping (depends_on, networks); each name gets a copy of dflt. */
function toMapping(v: unknown, dflt: Tree | null): Tree {
  if (isMap(v)) return v;
  const out: Tree = {};
  if (Array.isArray(v)) for (const s of v) out[String(s)] = dflt ? { ...dflt } : null;
  return out;
}

const toSeq: Merger = (a, b) => [...toSequence(a), ...toSequence(b)];
const replace: Merger = (_a, b) => b;

const specials: [string, Merger][] = [
  ['networks.*.labels', toSeq],
  ['volumes.*.labels', toSeq],
  ['services.*.build', (a, b, p) => mergeMappings(buildMap(a), buildMap(b), p)],
  ['services.*.build.args', toSeq],
  ['services.*.build.labels', toSeq],
  ['services.*.command', replace],
  ['services.*.entrypoint', replace],
  ['services.*.healthcheck.test', replace],
  ['services.*.depends_on', (a, b, p) => mergeMappings(toMapping(a, DEPENDS_DEFAULT), toMapping(b, DEPENDS_DEFAULT), p)],
  ['services.*.networks', (a, b, p) => mergeMappings(toMapping(a, null), toMapping(b, null), p)],
  ['services.*.dns', toSeq],
  ['services.*.dns_opt', toSeq],
  ['services.*.dns_search', toSeq],
  ['services.*.env_file', toSeq],
  ['services.*.environment', toSeq],
  ['services.*.labels', toSeq],
  ['services.*.sysctls', toSeq],
  ['services.*.tmpfs', toSeq],
  ['services.*.extra_hosts', (a, b) => {
    const left = toSequence(a);
    return [...left, ...toSequence(b).filter((x) => !left.includes(x))];
  }],
  ['services.*.logging', (a, b, p) => {
    // Options merge only when both files name the same driver (or none).
    if (isMap(a) && isMap(b) && (!a.driver || !b.driver || a.driver === b.driver)) return mergeMappings(a, b, p);
    return b;
  }],
  ['services.*.ulimits.*', (a, b, p) => (isMap(a) && isMap(b) ? mergeMappings(a, b, p) : b)],
];

const DEPENDS_DEFAULT: Tree = { condition: 'service_started', required: true };

function buildMap(v: unknown): Tree {
  if (typeof v === 'string') return { context: v };
  return isMap(v) ? v : {};
}

function mergeMappings(base: Tree, over: Tree, path: string[]): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? mergeValue(out[k], v, [...path, k]) : v;
  return out;
}

function mergeValue(base: unknown, over: unknown, path: string[]): unknown {
  for (const [pattern, fn] of specials) if (matches(path, pattern)) return fn(base, over, path);
  if (over === null || over === undefined) return base;
  if (isMap(base) && isMap(over)) return mergeMappings(base, over, path);
  if (Array.isArray(base) && Array.isArray(over)) return [...base, ...over];
  return over;
}

/** Merges parsed files in order (later files override earlier ones) and removes redefinitions. */
export function mergeFiles(files: Tree[]): Tree {
  let out: Tree = {};
  for (const f of files) out = mergeMappings(out, f, []);
  return enforceUnicity(out, []) as Tree;
}

type Indexer = (entry: unknown) => string;

const keyOf: Indexer = (e) => (typeof e === 'string' ? e.split('=')[0]! : JSON.stringify(e));
const volumeTarget: Indexer = (e) => {
  if (isMap(e)) return String(e.target ?? '');
  const parts = String(e).split(':');
  // source:target[:mode] or target alone (Windows drive letters are not a concern here).
  return parts.length === 1 ? parts[0]! : parts[1]!;
};
const portKey: Indexer = (e) => {
  if (isMap(e)) return `${String(e.host_ip ?? '0.0.0.0')}:${String(e.published ?? '')}:${String(e.target)}/${String(e.protocol ?? 'tcp')}`;
  return String(e);
};
const envFileKey: Indexer = (e) => (isMap(e) ? String(e.path) : String(e));

const unique: [string, Indexer][] = [
  ['services.*.build.args', keyOf],
  ['services.*.build.labels', keyOf],
  ['services.*.cap_add', keyOf],
  ['services.*.cap_drop', keyOf],
  ['services.*.dns', keyOf],
  ['services.*.dns_opt', keyOf],
  ['services.*.dns_search', keyOf],
  ['services.*.environment', keyOf],
  ['services.*.env_file', envFileKey],
  ['services.*.expose', (e) => String(e)],
  ['services.*.labels', keyOf],
  ['services.*.links', keyOf],
  ['services.*.networks.*.aliases', keyOf],
  ['services.*.ports', portKey],
  ['services.*.profiles', keyOf],
  ['services.*.sysctls', keyOf],
  ['services.*.tmpfs', keyOf],
  ['services.*.volumes', volumeTarget],
  ['networks.*.labels', keyOf],
  ['volumes.*.labels', keyOf],
];

function enforceUnicity(v: unknown, path: string[]): unknown {
  if (isMap(v)) {
    for (const k of Object.keys(v)) v[k] = enforceUnicity(v[k], [...path, k]);
    return v;
  }
  if (Array.isArray(v)) {
    const idx = unique.find(([p]) => matches(path, p));
    if (!idx) return v;
    const seq: unknown[] = [];
    const at = new Map<string, number>();
    for (const e of v) {
      const k = idx[1](e);
      const j = at.get(k);
      if (j !== undefined) seq[j] = e;
      else {
        at.set(k, seq.length);
        seq.push(e);
      }
    }
    return seq;
  }
  return v;
}
