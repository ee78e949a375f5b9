// Contract suite for Snapshotter (after containerd's core/snapshots/testsuite): lifecycle, errors and,
// as root, real mounts of layered snapshots. Every implementation runs it via runSnapshotterSuite.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import { kindOf } from '../../errors/index';
import type { Snapshotter } from './index';
import { mountAll, unmountAll } from './mount';

export type SnapshotterFactory = () => Promise<{ sn: Snapshotter; work: string; cleanup: () => Promise<void> }>;

export function runSnapshotterSuite(name: string, factory: SnapshotterFactory): void {
  const isRoot = process.getuid?.() === 0;
  const t = (title: string, fn: (sn: Snapshotter, work: string) => Promise<void>, opts: { root?: boolean } = {}) =>
    test(`${name} snapshotter suite: ${title}`, { skip: opts.root && !isRoot ? 'needs root to mount' : false }, async () => {
      const { sn, work, cleanup } = await factory();
      try {
        await fn(sn, work);
      } finally {
        await cleanup();
      }
    });

  t('prepare, commit, stat, list', async (sn) => {
    await sn.prepare('k1');
    assert.equal((await sn.stat('k1')).kind, 'active');
    await sn.commit('c1', 'k1');
    await assert.rejects(sn.stat('k1'), (e) => kindOf(e) === 'NotFound');
    assert.deepEqual({ ...(await sn.stat('c1')), createdAt: '' }, { name: 'c1', kind: 'committed', createdAt: '' });
    await sn.prepare('k2', 'c1', { purpose: 'test' });
    const k2 = await sn.stat('k2');
    assert.equal(k2.parent, 'c1');
    assert.deepEqual(k2.labels, { purpose: 'test' });
    await sn.view('v1', 'c1');
    assert.equal((await sn.stat('v1')).kind, 'view');
    assert.deepEqual((await sn.list()).map((i) => i.name).sort(), ['c1', 'k2', 'v1']);
  });

  t('errors: duplicate keys, missing or uncommitted parents, committing a non-active snapshot', async (sn) => {
    await sn.prepare('a');
    await assert.rejects(sn.prepare('a'), (e) => kindOf(e) === 'AlreadyExists');
    await assert.rejects(sn.prepare('b', 'nope'), (e) => kindOf(e) === 'NotFound');
    await assert.rejects(sn.prepare('b', 'a'), (e) => kindOf(e) === 'FailedPrecondition');
    await sn.view('v');
    await assert.rejects(sn.commit('cv', 'v'), (e) => kindOf(e) === 'FailedPrecondition');
    await sn.commit('ca', 'a');
    await sn.prepare('a2');
    await assert.rejects(sn.commit('ca', 'a2'), (e) => kindOf(e) === 'AlreadyExists');
    await assert.rejects(sn.mounts('ca'), (e) => kindOf(e) === 'FailedPrecondition');
    await assert.rejects(sn.upperDir('ca'), (e) => kindOf(e) === 'FailedPrecondition');
    await assert.rejects(sn.remove('missing'), (e) => kindOf(e) === 'NotFound');
  });

  t('a parent cannot be removed while it has children', async (sn) => {
    await sn.prepare('base-k');
    await sn.commit('base', 'base-k');
    await sn.prepare('child', 'base');
    await assert.rejects(sn.remove('base'), (e) => kindOf(e) === 'FailedPrecondition');
    await sn.remove('child');
    await sn.remove('base');
    assert.deepEqual(await sn.list(), []);
  });

  t('layered mounts: changes stay in the active snapshot; whiteouts hide; views are read-only', async (sn, work) => {
    const l1 = await sn.upperDir(((await sn.prepare('l1-k')), 'l1-k'));
    await fs.writeFile(path.join(l1, 'a'), 'A');
    await fs.writeFile(path.join(l1, 'gone'), 'x');
    await sn.commit('l1', 'l1-k');
    await sn.prepare('l2-k', 'l1');
    const l2 = await sn.upperDir('l2-k');
    await fs.writeFile(path.join(l2, 'b'), 'B');
    const { execFile } = await import('node:child_process');
    await new Promise<void>((res, rej) => execFile('mknod', [path.join(l2, 'gone'), 'c', '0', '0'], (e) => (e ? rej(e) : res())));
    await sn.commit('l2', 'l2-k');
    const target = path.join(work, 'mnt');
    await fs.mkdir(target);
    const mounts = await sn.prepare('rw', 'l2');
    await mountAll(mounts, target);
    try {
      assert.deepEqual((await fs.readdir(target)).sort(), ['a', 'b']);
      await fs.writeFile(path.join(target, 'c'), 'C');
      await fs.writeFile(path.join(target, 'a'), 'changed');
    } finally {
      await unmountAll(target);
    }
    assert.equal(await fs.readFile(path.join(await sn.upperDir('rw'), 'c'), 'utf8'), 'C');
    await sn.view('ro', 'l2');
    await mountAll(await sn.mounts('ro'), target);
    try {
      assert.equal(await fs.readFile(path.join(target, 'a'), 'utf8'), 'A');
      await assert.rejects(fs.writeFile(path.join(target, 'x'), 'x'), (e) => (e as NodeJS.ErrnoException).code === 'EROFS');
    } finally {
      await unmountAll(target);
    }
  }, { root: true });
}
