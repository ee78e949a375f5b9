import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rollback } from './rollback';

test('runs undo steps newest first and reports failures without stopping', () => {
  const rb = new Rollback();
  const order: string[] = [];
  rb.push('a', () => order.push('a'));
  rb.push('b', () => {
    throw new Error('boom');
  });
  rb.push('c', () => order.push('c'));
  const warned: string[] = [];
  const failed = rb.run((m) => warned.push(m));
  assert.deepEqual(order, ['c', 'a']);
  assert.deepEqual(failed, ['rollback b: boom']);
  assert.deepEqual(warned, failed);
});

test('commit forgets the steps', () => {
  const rb = new Rollback();
  let ran = false;
  rb.push('x', () => (ran = true));
  rb.commit();
  rb.run(() => undefined);
  assert.equal(ran, false);
});
