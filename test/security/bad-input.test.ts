// Bad input never crashes keel: the runtime-spec corpus's bad configs and a seeded corpus of
// mutated configs each end in exit 1 with one clear error line and no stack trace (or, when a
// mutation happens to stay valid, a normal create), and leave nothing behind: no state dir, cgroup,
// mount or process. KEEL_FUZZ_CASES / KEEL_FUZZ_SEED change the generated corpus.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { cgroupDirsNamed, cleanupTemplate, makeBundle, mountsUnder } from '../helpers/bundle';
import { errorMessage, isRoot, keel, repoRoot, tempDir } from '../helpers/keel';
import { hasStackTrace } from './lib/attacker';

const skip = !isRoot && 'needs root';
const tmp = tempDir('keel-bad-');
const root = path.join(tmp.dir, 'root');
const CASES = Number(process.env.KEEL_FUZZ_CASES ?? 240);
const SEED = Number(process.env.KEEL_FUZZ_SEED ?? 0x5eed);
let n = 0;
const uid = () => `sbad-${process.pid}-${++n}`;
const k = (args: string[]) => keel(['--root', root, ...args]);

after(() => {
  for (const id of k(['list', '-q']).stdout.split('\n').filter(Boolean)) k(['delete', '--force', id]);
  cleanupTemplate();
  tmp.cleanup();
});

/** One bundle reused by every case: only config.json changes. */
let bundleDir: string | undefined;
function bundleWith(config: string): string {
  if (!bundleDir) bundleDir = makeBundle(path.join(tmp.dir, 'bundle'), (s) => (s.process!.args = ['true']));
  fs.writeFileSync(path.join(bundleDir, 'config.json'), config);
  return bundleDir;
}

/** Processes whose root or cwd lies in our temp dir: an init left behind. */
function ourProcesses(): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    for (const link of ['root', 'cwd']) {
      try {
        if (fs.readlinkSync(`/proc/${e}/${link}`).startsWith(tmp.dir)) out.push(Number(e));
      } catch {
        /* gone or not ours to read */
      }
    }
  }
  return out;
}

/** Runs `keel create` on config; checks the outcome and that nothing is left. Returns the exit code. */
function check(config: string, label: string): number {
  const id = uid();
  const b = bundleWith(config);
  const r = k(['create', '--bundle', b, id]);
  assert.ok(!hasStackTrace(r.stderr), `${label}: stack trace\n${r.stderr.slice(0, 2000)}`);
  if (r.code === 0) {
    // The mutation kept the config valid: a normal container, removed normally.
    const d = k(['delete', '--force', id]);
    assert.equal(d.code, 0, `${label}: delete: ${d.stderr}`);
  } else {
    assert.equal(r.code, 1, `${label}: exit ${r.code}\n${r.stderr.slice(0, 2000)}`);
    const errors = r.stderr.split('\n').filter((l) => /level=error/.test(l));
    assert.equal(errors.length, 1, `${label}: one error line\n${r.stderr.slice(0, 2000)}`);
    const msg = errorMessage(r);
    // Non-empty, one line. Offending values are quoted in full, as runc does (a 1 MiB argv[0]
    // gives a 1 MiB "executable file not found" line), so no length limit is asserted.
    assert.ok(msg.length > 0 && !msg.includes('\n'), `${label}: a clear message: ${msg.slice(0, 300)}`);
  }
  assert.ok(!fs.existsSync(path.join(root, id)), `${label}: state dir left`);
  assert.deepEqual(cgroupDirsNamed(id), [], `${label}: cgroup left`);
  assert.deepEqual(mountsUnder(tmp.dir), [], `${label}: mount left`);
  assert.deepEqual(ourProcesses(), [], `${label}: process left`);
  return r.code;
}

/** Every directory at depth 1-2 of each cgroup hierarchy (a leak with any name shows up). */
function cgroupTree(): Set<string> {
  const out = new Set<string>();
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    const base = path.join('/sys/fs/cgroup', h);
    let l1: fs.Dirent[];
    try {
      l1 = fs.readdirSync(base, { withFileTypes: true }).filter((d) => d.isDirectory());
    } catch {
      continue;
    }
    for (const d of l1) {
      out.add(path.join(base, d.name));
      try {
        for (const d2 of fs.readdirSync(path.join(base, d.name), { withFileTypes: true })) if (d2.isDirectory()) out.add(path.join(base, d.name, d2.name));
      } catch {
        /* removed meanwhile */
      }
    }
  }
  return out;
}

test('every bad config of the runtime-spec corpus: exit 1, one message, nothing left', { skip }, () => {
  const dir = path.join(repoRoot, 'spec', 'runtime-spec', 'schema', 'test', 'config', 'bad');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 5, 'the corpus is there');
  for (const f of files) assert.equal(check(fs.readFileSync(path.join(dir, f), 'utf8'), f), 1, f);
  // Structurally broken documents and bundles.
  for (const [label, text] of [
    ['empty', ''],
    ['null', 'null'],
    ['array', '[]'],
    ['number', '42'],
    ['truncated', '{"ociVersion": "1.0.0", "root": {"path": "rootfs"'],
    ['BOM and NUL', '\ufeff{"ociVersion":"1.0.0\u0000"}'],
    ['no root', '{"ociVersion":"1.0.0"}'],
    ['deep nesting', `{"ociVersion":"1.0.0","annotations":${'['.repeat(200_000)}${']'.repeat(200_000)}}`],
  ] as const) {
    assert.equal(check(text, label), 1, label);
  }
});

/** mulberry32: a small seeded PRNG, so a failing case can be replayed with KEEL_FUZZ_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const DEEP = '\u0001DEEP\u0001';

/** Every [parent, key] pair of the document (the places a mutation can hit). */
function slots(v: Json, out: [Json[] | Record<string, Json>, string | number][] = []): typeof out {
  if (Array.isArray(v)) v.forEach((c, i) => (out.push([v, i]), slots(c, out)));
  else if (v && typeof v === 'object') for (const key of Object.keys(v)) out.push([v, key]), slots(v[key]!, out);
  return out;
}

/** One mutated config.json text. */
function mutate(base: Json, rnd: () => number): { text: string; what: string } {
  const doc = structuredClone(base) as Record<string, Json>;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const edits = 1 + Math.floor(rnd() * 3);
  const what: string[] = [];
  for (let e = 0; e < edits; e++) {
    const all = slots(doc);
    const [parent, key] = pick(all);
    const cur = (parent as Record<string, Json>)[key as string];
    const kind = pick(['type', 'delete', 'huge', 'deep', 'enum', 'nul', 'number', 'long', 'empty'] as const);
    let v: Json | undefined;
    switch (kind) {
      case 'type':
        v = pick(([null, true, 0, -1, 'x', [], {}, [1, 'a'], { a: 1 }] as Json[]).filter((x) => typeof x !== typeof cur));
        break;
      case 'delete':
        v = undefined;
        break;
      case 'huge':
        v = Array.from({ length: 20_000 }, (_, i) => (typeof cur === 'string' ? `${cur}${i}` : Array.isArray(cur) && cur.length ? structuredClone(cur[0]!) : i));
        break;
      case 'deep':
        v = DEEP;
        break;
      case 'enum':
        v = pick(['BOGUS', 'CAP_BOGUS', 'RLIMIT_BOGUS', 'SCMP_ACT_BOGUS', 'bogus-ns', '', ' ', 'ü']);
        break;
      case 'nul':
        v = typeof cur === 'string' ? `${cur.slice(0, 1)}\u0000${cur.slice(1)}` : '\u0000';
        break;
      case 'number':
        v = pick([-1, -2147483649, 4294967296, 2 ** 64, 1e308, -1e308, 0.5, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER]);
        break;
      case 'long':
        v = 'A'.repeat(1 << 20);
        break;
      case 'empty':
        v = Array.isArray(cur) ? [] : typeof cur === 'object' ? {} : '';
        break;
    }
    if (Array.isArray(parent)) {
      if (v === undefined) parent.splice(key as number, 1);
      else parent[key as number] = v;
    } else if (v === undefined) delete parent[key as string];
    else parent[key as string] = v;
    what.push(`${kind}@${String(key)}`);
  }
  const depth = 10_000 + Math.floor(rnd() * 100_000);
  const text = JSON.stringify(doc).replaceAll(JSON.stringify(DEEP), `${'['.repeat(depth)}${']'.repeat(depth)}`);
  return { text, what: what.join(' ') };
}

test(`a seeded corpus of ${CASES} mutated configs (seed ${SEED}): never a crash, never a leak`, { skip, timeout: 10 * 60_000 }, () => {
  const doc = JSON.parse(makeValid()) as Json;
  const rnd = prng(SEED);
  const before = cgroupTree();
  let failed = 0;
  for (let i = 0; i < CASES; i++) {
    const m = mutate(doc, rnd);
    if (check(m.text, `case ${i} (${m.what})`) !== 0) failed++;
  }
  assert.ok(failed > CASES / 2, `most mutations are rejected (${failed}/${CASES})`);
  const leaked = [...cgroupTree()].filter((d) => !before.has(d) && d.includes('sbad-'));
  assert.deepEqual(leaked, [], 'no cgroup left under any name');
});

/** The valid config every mutation starts from (keel spec's default, args ["true"]). */
function makeValid(): string {
  const dir = fs.mkdtempSync(path.join(tmp.dir, 'valid-'));
  makeBundle(dir, (s) => (s.process!.args = ['true']));
  const text = fs.readFileSync(path.join(dir, 'config.json'), 'utf8');
  fs.rmSync(dir, { recursive: true, force: true });
  return text;
}
