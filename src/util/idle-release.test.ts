import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IdleRelease } from './idle-release';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('release runs once after a quiet period, and again after new activity', async () => {
  let n = 0;
  const r = new IdleRelease(() => n++, 30);
  r.touch();
  r.touch();
  assert.equal(n, 0);
  await sleep(80);
  assert.equal(n, 1);
  await sleep(60);
  assert.equal(n, 1, 'no activity, no second release');
  r.touch();
  await sleep(80);
  assert.equal(n, 2);
  r.stop();
});

test('touches keep postponing the release; stop cancels it', async () => {
  let n = 0;
  const r = new IdleRelease(() => n++, 300);
  for (let i = 0; i < 5; i++) {
    r.touch();
    await sleep(20);
  }
  assert.equal(n, 0, 'still busy');
  r.stop();
  await sleep(350);
  assert.equal(n, 0);
  r.touch();
  await sleep(350);
  assert.equal(n, 0, 'stopped for good');
});
