// The classic builder's cache: a step hits when an earlier build recorded an image for the same
// parent image and an equal "container config" (Cmd, Entrypoint, Env, Labels, ExposedPorts, Volumes,
// User: the fields dockerd's image/cache compare() looks at; the instruction text and COPY/ADD source
// checksums enter through Cmd). BuildCache is the record store (contract: cache-testsuite.ts);
// explainMiss says what changed for a step that missed. No images here: records hold image ids.
import { createHash } from 'node:crypto';

/** What dockerd compares to find a cached child image. */
export type ProbeConfig = {
  Cmd: string[];
  Entrypoint: string[];
  Env: string[];
  Labels: Record<string, string>;
  ExposedPorts: string[];
  Volumes: string[];
  User: string;
};

/** One file of a COPY/ADD source set, as recorded for explanations. */
export type FileRecord = { path: string; type: string; mode: number; uid: number; gid: number; size: number; linkname: string; sum: string };

export type CacheRecord = {
  key: string;
  /** Parent image id ("" for scratch). */
  parent: string;
  /** The image this step produced. */
  image: string;
  /** RFC 3339 time of the record. */
  created: string;
  /** Stage name or index, and the instruction as written: what explanations match on. */
  stage: string;
  step: string;
  probe: ProbeConfig;
  /** COPY/ADD: the sources' checksum (`file:…`, `dir:…`, `multi:…`); its files via manifest(). */
  sources?: string;
};

/** Records of earlier build steps. Implementations must tolerate concurrent callers. */
export interface BuildCache {
  /** The record stored under key, or undefined. */
  get(key: string): Promise<CacheRecord | undefined>;
  /** Stores (or replaces: the newest wins) a record, with the file list of its sources when it has one. */
  put(record: CacheRecord, files?: readonly FileRecord[]): Promise<void>;
  /** Every record whose parent is parent. */
  children(parent: string): Promise<CacheRecord[]>;
  /** Every record of the same step (stage and instruction text), whatever its parent. */
  sameStep(stage: string, step: string): Promise<CacheRecord[]>;
  /** The file list stored for a sources checksum, or undefined. */
  manifest(sources: string): Promise<FileRecord[] | undefined>;
  /** Removes a record (its image is gone); no error when absent. */
  delete(key: string): Promise<void>;
  /** Every record. */
  list(): Promise<CacheRecord[]>;
}

function sortedEntries(o: Record<string, string>): [string, string][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The probe in canonical form: lists where order matters, sorted sets where it does not. */
export function canonicalProbe(p: ProbeConfig): unknown[] {
  return [p.Cmd, p.Entrypoint, p.Env, sortedEntries(p.Labels), [...p.ExposedPorts].sort(), [...p.Volumes].sort(), p.User];
}

/** The record key of (parent, probe). */
export function cacheKey(parent: string, probe: ProbeConfig): string {
  return createHash('sha256').update(JSON.stringify([parent, ...canonicalProbe(probe)])).digest('hex');
}

/** BuildCache in memory (tests, and builds with nothing to keep). */
export class MemoryBuildCache implements BuildCache {
  private readonly records = new Map<string, CacheRecord>();
  private readonly manifests = new Map<string, FileRecord[]>();

  async get(key: string): Promise<CacheRecord | undefined> {
    const r = this.records.get(key);
    return r && structuredClone(r);
  }
  async put(record: CacheRecord, files?: readonly FileRecord[]): Promise<void> {
    this.records.set(record.key, structuredClone(record));
    if (record.sources && files) this.manifests.set(record.sources, structuredClone([...files]));
  }
  async children(parent: string): Promise<CacheRecord[]> {
    return [...this.records.values()].filter((r) => r.parent === parent).map((r) => structuredClone(r));
  }
  async sameStep(stage: string, step: string): Promise<CacheRecord[]> {
    return [...this.records.values()].filter((r) => r.stage === stage && r.step === step).map((r) => structuredClone(r));
  }
  async manifest(sources: string): Promise<FileRecord[] | undefined> {
    const m = this.manifests.get(sources);
    return m && structuredClone(m);
  }
  async delete(key: string): Promise<void> {
    this.records.delete(key);
  }
  async list(): Promise<CacheRecord[]> {
    return [...this.records.values()].map((r) => structuredClone(r));
  }
}

/** What a missed step looked for. */
export type MissQuery = {
  parent: string;
  probe: ProbeConfig;
  stage: string;
  step: string;
  sources?: string;
  files?: readonly FileRecord[];
};

const short = (id: string) => (id === '' ? 'scratch' : id.replace(/^sha256:/, '').slice(0, 12));

/** "|N K=V …" build-arg prefix of a RUN Cmd, as a map. */
function runArgs(cmd: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const m = /^\|(\d+)$/.exec(cmd[0] ?? '');
  if (!m) return out;
  for (const kv of cmd.slice(1, 1 + Number(m[1]))) {
    const i = kv.indexOf('=');
    out.set(i < 0 ? kv : kv.slice(0, i), i < 0 ? '' : kv.slice(i + 1));
  }
  return out;
}

function envMap(env: readonly string[]): Map<string, string> {
  return new Map(env.map((e) => (e.includes('=') ? [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] : [e, ''])));
}

function diffMaps(what: string, before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of after) {
    if (!before.has(k)) out.push(`${what} ${k} added`);
    else if (before.get(k) !== v) out.push(`${what} ${k} changed`);
  }
  for (const k of before.keys()) if (!after.has(k)) out.push(`${what} ${k} removed`);
  return out;
}

/** Per-file differences between two source lists: content, mode, owner, type, added, removed. */
export function diffFiles(before: readonly FileRecord[], after: readonly FileRecord[]): string[] {
  const b = new Map(before.map((f) => [f.path, f]));
  const out: string[] = [];
  for (const f of after) {
    const o = b.get(f.path);
    const name = f.path === '' ? '.' : f.path;
    if (!o) {
      out.push(`file ${name} added`);
      continue;
    }
    b.delete(f.path);
    if (o.sum === f.sum) continue;
    const what: string[] = [];
    if (o.type !== f.type) what.push(`type ${o.type} → ${f.type}`);
    if (o.mode !== f.mode) what.push(`mode ${o.mode.toString(8).padStart(4, '0')} → ${f.mode.toString(8).padStart(4, '0')}`);
    if (o.uid !== f.uid || o.gid !== f.gid) what.push(`owner ${o.uid}:${o.gid} → ${f.uid}:${f.gid}`);
    if (o.linkname !== f.linkname) what.push('link target');
    if (what.length === 0 || o.size !== f.size) what.unshift('content');
    out.push(`file ${name} changed (${what.join(', ')})`);
  }
  for (const p of b.keys()) out.push(`file ${p === '' ? '.' : p} removed`);
  return out;
}

/**
 * Why a step missed, in one line: which file, build arg, variable, instruction or parent changed,
 * judged against the records of the same parent or, failing that, of the same step elsewhere.
 */
export async function explainMiss(cache: BuildCache, q: MissQuery): Promise<string> {
  const siblings = await cache.children(q.parent);
  const same = siblings.filter((r) => r.stage === q.stage && r.step === q.step).sort((a, b) => (a.created < b.created ? 1 : -1));
  const prev = same[0];
  if (prev) {
    const reasons: string[] = [];
    if (prev.sources !== undefined && q.sources !== undefined && prev.sources !== q.sources) {
      const old = await cache.manifest(prev.sources);
      const files = old && q.files ? diffFiles(old, q.files) : [];
      reasons.push(...(files.length ? files : ['source files changed']));
    }
    reasons.push(...diffMaps('build arg', runArgs(prev.probe.Cmd), runArgs(q.probe.Cmd)));
    reasons.push(...diffMaps('variable', envMap(prev.probe.Env), envMap(q.probe.Env)));
    if (prev.probe.User !== q.probe.User) reasons.push(`user ${JSON.stringify(prev.probe.User)} → ${JSON.stringify(q.probe.User)}`);
    if (JSON.stringify(canonicalProbe(prev.probe).slice(3)) !== JSON.stringify(canonicalProbe(q.probe).slice(3)) && reasons.length === 0) reasons.push('image metadata changed');
    if (reasons.length === 0 && JSON.stringify(prev.probe.Cmd) !== JSON.stringify(q.probe.Cmd)) reasons.push('the expanded instruction changed');
    if (reasons.length === 0) reasons.push('no matching record (removed or pruned)');
    const more = reasons.length > 3 ? ` and ${reasons.length - 3} more` : '';
    return reasons.slice(0, 3).join('; ') + more;
  }
  const elsewhere = (await cache.sameStep(q.stage, q.step)).sort((a, b) => (a.created < b.created ? 1 : -1))[0];
  if (elsewhere) return `parent image changed (was ${short(elsewhere.parent)}, now ${short(q.parent)})`;
  const kinds = siblings.filter((r) => r.stage === q.stage);
  if (kinds.length > 0) return `instruction changed (earlier builds ran ${JSON.stringify(kinds[0]!.step)} here)`;
  return 'no earlier build of this step';
}
