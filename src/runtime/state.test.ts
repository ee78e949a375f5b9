import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { RuntimeError } from '../errors/index';
import { realSys } from '../native/index';
import { StateStore, type StateRecord } from './state';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-state-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

function record(id: string): StateRecord {
  return {
    id, ociVersion: '1.3.0', bundle: '/b', rootfs: '/b/rootfs', pid: 1, pidStart: 2, created: new Date().toISOString(),
    config: { ociVersion: '1.3.0' }, rootless: false, systemdCgroup: false, ownerUid: 0,
  };
}

test('create, write, read, list, remove', () => {
  const store = new StateStore(path.join(root, 'a'), realSys);
  assert.deepEqual(store.list(), []);
  const dir = store.create('c1');
  assert.equal(fs.statSync(dir).mode & 0o777, 0o711);
  store.write(record('c1'));
  assert.equal(fs.statSync(path.join(dir, 'state.json')).mode & 0o777, 0o600);
  assert.equal(store.read('c1').pidStart, 2);
  store.create('c0');
  assert.deepEqual(store.list(), ['c1'], 'a directory without state.json is not a container');
  store.write(record('c0'));
  assert.deepEqual(store.list(), ['c0', 'c1']);
  store.remove('c1');
  store.remove('c1');
  assert.deepEqual(store.list(), ['c0']);
  assert.deepEqual(fs.readdirSync(store.dir('c0')), ['state.json'], 'no temp file left by the atomic write');
});

test('errors use runc wording and kinds', () => {
  const store = new StateStore(path.join(root, 'b'), realSys);
  store.create('dup');
  assert.throws(() => store.create('dup'), (e: RuntimeError) => e.kind === 'AlreadyExists' && e.message === 'container with given ID already exists');
  assert.throws(() => store.read('nosuch'), (e: RuntimeError) => e.kind === 'NotFound' && e.message === 'container does not exist');
  assert.throws(() => store.dir('../x'), /invalid container ID format/);
  assert.throws(() => store.lock('nosuch'), /container does not exist/);
});

test('the per-container lock excludes another process until released', () => {
  const store = new StateStore(path.join(root, 'c'), realSys);
  const dir = store.create('locked');
  const release = store.lock('locked');
  // flock(1) from util-linux, non-blocking: must fail while we hold the lock.
  const held = spawnSync('flock', ['-n', dir, 'true']);
  assert.equal(held.status, 1);
  release();
  const free = spawnSync('flock', ['-n', dir, 'true']);
  assert.equal(free.status, 0);
});
