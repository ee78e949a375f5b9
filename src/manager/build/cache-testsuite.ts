// Contract suite for BuildCache: every implementation (memory, disk) runs runBuildCacheSuite(factory).
// It checks the record contract and the explanations built on it, not any implementation's files.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cacheKey, explainMiss, type BuildCache, type CacheRecord, type FileRecord, type ProbeConfig } from './cache';

export type BuildCacheFactory = () => Promise<{ cache: BuildCache; cleanup: () => Promise<void> }>;

const probe = (cmd: string[], env: string[] = ['PATH=/bin']): ProbeConfig => ({ Cmd: cmd, Entrypoint: [], Env: env, Labels: {}, ExposedPorts: [], Volumes: [], User: '' });
const P1 = `sha256:${'1'.repeat(64)}`;
const P2 = `sha256:${'2'.repeat(64)}`;

function rec(parent: string, p: ProbeConfig, image: string, step: string, extra: Partial<CacheRecord> = {}): CacheRecord {
  return { key: cacheKey(parent, p), parent, image, created: new Date().toISOString(), stage: '0', step, probe: p, ...extra };
}

const file = (path: string, sum: string, mode = 0o644, size = 3): FileRecord => ({ path, type: 'file', mode, uid: 0, gid: 0, size, linkname: '', sum });

export function runBuildCacheSuite(name: string, factory: BuildCacheFactory): void {
  const t = (title: string, fn: (c: BuildCache) => Promise<void>) =>
    test(`${name} build cache suite: ${title}`, async () => {
      const { cache, cleanup } = await factory();
      try {
        await fn(cache);
      } finally {
        await cleanup();
      }
    });

  t('keys: equal probes under the same parent collide, anything else does not', async () => {
    const a = probe(['/bin/sh', '-c', 'echo hi']);
    assert.equal(cacheKey(P1, a), cacheKey(P1, structuredClone(a)));
    assert.notEqual(cacheKey(P1, a), cacheKey(P2, a));
    assert.notEqual(cacheKey(P1, a), cacheKey(P1, probe(['/bin/sh', '-c', 'echo ho'])));
    assert.notEqual(cacheKey(P1, a), cacheKey(P1, { ...a, User: 'nobody' }));
    assert.notEqual(cacheKey(P1, a), cacheKey('', a));
    // Maps and sets compare without order, as dockerd's compare() does.
    const l1 = { ...a, Labels: { a: '1', b: '2' }, ExposedPorts: ['80/tcp', '53/udp'] };
    const l2 = { ...a, Labels: { b: '2', a: '1' }, ExposedPorts: ['53/udp', '80/tcp'] };
    assert.equal(cacheKey(P1, l1), cacheKey(P1, l2));
    // Env is ordered.
    assert.notEqual(cacheKey(P1, probe(['x'], ['A=1', 'B=2'])), cacheKey(P1, probe(['x'], ['B=2', 'A=1'])));
  });

  t('put, get, replace (newest wins), delete', async (c) => {
    const r = rec(P1, probe(['a']), `sha256:${'a'.repeat(64)}`, 'RUN a');
    assert.equal(await c.get(r.key), undefined);
    await c.put(r);
    assert.deepEqual(await c.get(r.key), r);
    const newer = { ...r, image: `sha256:${'b'.repeat(64)}` };
    await c.put(newer);
    assert.equal((await c.get(r.key))?.image, newer.image);
    assert.equal((await c.list()).length, 1);
    await c.delete(r.key);
    assert.equal(await c.get(r.key), undefined);
    assert.deepEqual(await c.children(P1), []);
    await c.delete(r.key);
  });

  t('children and sameStep index records', async (c) => {
    const a = rec(P1, probe(['a']), `sha256:${'a'.repeat(64)}`, 'RUN a');
    const b = rec(P1, probe(['b']), `sha256:${'b'.repeat(64)}`, 'RUN b');
    const a2 = rec(P2, probe(['a']), `sha256:${'c'.repeat(64)}`, 'RUN a');
    const s = rec('', probe(['#(nop) ', 'ENV A=1']), `sha256:${'d'.repeat(64)}`, 'ENV A=1');
    await Promise.all([c.put(a), c.put(b), c.put(a2), c.put(s)]);
    assert.deepEqual((await c.children(P1)).map((r) => r.step).sort(), ['RUN a', 'RUN b']);
    assert.deepEqual((await c.children('')).map((r) => r.step), ['ENV A=1']);
    assert.deepEqual((await c.sameStep('0', 'RUN a')).map((r) => r.parent).sort(), [P1, P2]);
    assert.deepEqual(await c.sameStep('1', 'RUN a'), []);
    assert.equal((await c.list()).length, 4);
  });

  t('manifests are kept per sources checksum', async (c) => {
    const files = [file('a.txt', 'x'), file('dir/b', 'y')];
    const r = rec(P1, probe(['#(nop) COPY dir:abc in /x ']), `sha256:${'e'.repeat(64)}`, 'COPY . /x', { sources: 'dir:abc' });
    await c.put(r, files);
    assert.deepEqual(await c.manifest('dir:abc'), files);
    assert.equal(await c.manifest('dir:other'), undefined);
  });

  t('explain: a changed file names the file and what changed', async (c) => {
    const old = [file('a.txt', 's1'), file('b.txt', 's2'), file('gone', 's3')];
    await c.put(rec(P1, probe(['#(nop) COPY dir:1 in /x ']), `sha256:${'e'.repeat(64)}`, 'COPY . /x', { sources: 'dir:1' }), old);
    const now = [file('a.txt', 's1x'), file('b.txt', 's2y', 0o600), file('new', 's4')];
    const why = await explainMiss(c, { parent: P1, probe: probe(['#(nop) COPY dir:2 in /x ']), stage: '0', step: 'COPY . /x', sources: 'dir:2', files: now });
    assert.match(why, /file a\.txt changed \(content\)/);
    assert.match(why, /file b\.txt changed \(mode 0644 → 0600\)/);
    assert.match(why, /file new added/);
  });

  t('explain: build args and variables', async (c) => {
    await c.put(rec(P1, probe(['|1', 'V=1', '/bin/sh', '-c', 'echo $V']), `sha256:${'f'.repeat(64)}`, 'RUN echo $V'));
    const why = await explainMiss(c, { parent: P1, probe: probe(['|1', 'V=2', '/bin/sh', '-c', 'echo $V']), stage: '0', step: 'RUN echo $V' });
    assert.equal(why, 'build arg V changed');
    await c.put(rec(P1, probe(['x'], ['A=1']), `sha256:${'0'.repeat(64)}`, 'RUN x'));
    assert.equal(await explainMiss(c, { parent: P1, probe: probe(['x'], ['A=2', 'B=1']), stage: '0', step: 'RUN x' }), 'variable A changed; variable B added');
  });

  t('explain: parent changed, instruction changed, nothing known', async (c) => {
    await c.put(rec(P1, probe(['a']), `sha256:${'a'.repeat(64)}`, 'RUN a'));
    assert.equal(await explainMiss(c, { parent: P2, probe: probe(['a']), stage: '0', step: 'RUN a' }), `parent image changed (was ${'1'.repeat(12)}, now ${'2'.repeat(12)})`);
    assert.equal(await explainMiss(c, { parent: P1, probe: probe(['z']), stage: '0', step: 'RUN z' }), 'instruction changed (earlier builds ran "RUN a" here)');
    assert.equal(await explainMiss(c, { parent: P2, probe: probe(['q']), stage: '0', step: 'RUN q' }), 'no earlier build of this step');
  });
}
