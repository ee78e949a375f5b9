// Contract suite for ContentStore (after containerd's core/content/testsuite): every implementation
// runs it through runContentSuite(factory). It must not depend on any one implementation's files.
import { createHash, randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kindOf } from '../../errors/index';
import type { ContentStore } from './index';

/** Builds a fresh, empty store; cleanup runs after each test. */
export type ContentStoreFactory = () => Promise<{ store: ContentStore; cleanup: () => Promise<void> }>;

function sha(b: Uint8Array): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

async function streamToBuffer(s: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

export function runContentSuite(name: string, factory: ContentStoreFactory): void {
  const t = (title: string, fn: (store: ContentStore) => Promise<void>) =>
    test(`${name} content suite: ${title}`, async () => {
      const { store, cleanup } = await factory();
      try {
        await fn(store);
      } finally {
        await cleanup();
      }
    });

  t('put then info, has, readAll, read from offset', async (store) => {
    const data = randomBytes(100_000);
    const info = await store.put(data);
    assert.equal(info.digest, sha(data));
    assert.equal(info.size, data.length);
    assert.equal(await store.has(info.digest), true);
    assert.equal((await store.info(info.digest)).size, data.length);
    assert.deepEqual(await store.readAll(info.digest), data);
    assert.deepEqual(await streamToBuffer(store.read(info.digest, 1000)), data.subarray(1000));
  });

  t('missing blobs are NotFound', async (store) => {
    const d = sha(Buffer.from('absent'));
    assert.equal(await store.has(d), false);
    await assert.rejects(store.info(d), (e) => kindOf(e) === 'NotFound');
    await assert.rejects(store.readAll(d), (e) => kindOf(e) === 'NotFound');
    await assert.rejects(store.delete(d), (e) => kindOf(e) === 'NotFound');
    await assert.rejects(streamToBuffer(store.read(d)), (e) => kindOf(e) === 'NotFound');
  });

  t('malformed digests are InvalidArgument', async (store) => {
    for (const d of ['sha256:abc', 'md5:' + 'a'.repeat(32), '../etc/passwd', 'sha256:' + 'A'.repeat(64)]) {
      await assert.rejects(async () => store.info(d), (e) => kindOf(e) === 'InvalidArgument', d);
    }
  });

  t('writer commit with expected digest and size', async (store) => {
    const data = randomBytes(300_000);
    const w = await store.writer('layer-1');
    assert.equal(w.offset, 0);
    await w.write(data.subarray(0, 1000));
    await w.write(data.subarray(1000));
    const info = await w.commit({ digest: sha(data), size: data.length });
    assert.equal(info.digest, sha(data));
    assert.deepEqual(await store.readAll(info.digest), data);
    assert.deepEqual(await store.listIngests(), []);
  });

  t('a tampered blob is refused and nothing of it is kept', async (store) => {
    const data = randomBytes(5000);
    const bad = Buffer.from(data);
    bad[10] = bad[10]! ^ 0xff;
    const w = await store.writer('tampered');
    await w.write(bad);
    await assert.rejects(w.commit({ digest: sha(data), size: data.length }), (e) => kindOf(e) === 'InvalidArgument' && /digest mismatch/.test(String(e)));
    assert.equal(await store.has(sha(data)), false);
    assert.equal(await store.has(sha(bad)), false);
    assert.deepEqual(await store.listIngests(), []);
    const w2 = await store.writer('short');
    await w2.write(data.subarray(0, 10));
    await assert.rejects(w2.commit({ digest: sha(data), size: data.length }), /size mismatch/);
    await assert.rejects(store.put(bad, { digest: sha(data) }), /digest mismatch/);
    assert.equal(await store.has(sha(bad)), false);
  });

  t('a closed partial ingestion resumes at its offset', async (store) => {
    const data = randomBytes(200_000);
    const w = await store.writer('resume-me');
    await w.write(data.subarray(0, 70_000));
    await w.close();
    assert.deepEqual(await store.listIngests(), [{ ref: 'resume-me', offset: 70_000 }]);
    const w2 = await store.writer('resume-me');
    assert.equal(w2.offset, 70_000);
    await w2.write(data.subarray(70_000));
    const info = await w2.commit({ digest: sha(data), size: data.length });
    assert.deepEqual(await store.readAll(info.digest), data);
  });

  t('reset starts a partial ingestion over', async (store) => {
    const data = randomBytes(1000);
    const w = await store.writer('reset-me');
    await w.write(randomBytes(500));
    await w.reset();
    assert.equal(w.offset, 0);
    await w.write(data);
    assert.equal((await w.commit({ digest: sha(data) })).size, 1000);
  });

  t('one writer per ref; abort releases it', async (store) => {
    const w = await store.writer('busy');
    await assert.rejects(store.writer('busy'), (e) => kindOf(e) === 'Unavailable');
    await w.abort();
    const w2 = await store.writer('busy');
    assert.equal(w2.offset, 0);
    await w2.abort();
    assert.deepEqual(await store.listIngests(), []);
  });

  t('committing existing content succeeds; delete and list', async (store) => {
    const a = Buffer.from('alpha');
    const b = Buffer.from('beta');
    await store.put(a);
    const w = await store.writer('dup');
    await w.write(a);
    assert.equal((await w.commit({ digest: sha(a) })).digest, sha(a));
    await store.put(b);
    const listed: string[] = [];
    for await (const i of store.list()) listed.push(i.digest);
    assert.deepEqual(listed.sort(), [sha(a), sha(b)].sort());
    await store.delete(sha(a));
    assert.equal(await store.has(sha(a)), false);
    assert.equal(await store.has(sha(b)), true);
  });

  t('empty blob', async (store) => {
    const info = await store.put(new Uint8Array(0));
    assert.equal(info.size, 0);
    assert.equal(info.digest, sha(new Uint8Array(0)));
    assert.equal((await store.readAll(info.digest)).length, 0);
  });
}
