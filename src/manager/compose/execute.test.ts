import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { executePlan } from './execute';
import { Plan } from './plan';

const vol = (name: string) => ({ kind: 'RemoveVolume' as const, name });

test('dependencies run first, independent nodes in parallel, results flow to dependents', async () => {
  const plan = new Plan();
  const a = plan.add(vol('a'), 'x');
  const b = plan.add(vol('b'), 'x');
  plan.add(vol('c'), 'x', [a, b]);
  const log: string[] = [];
  let running = 0;
  let peak = 0;
  const results = await executePlan(plan, async (n, res) => {
    running++;
    peak = Math.max(peak, running);
    log.push(`start ${n.id}`);
    await sleep(20);
    if (n.id === 3) assert.deepEqual([res.get(1), res.get(2)], ['r1', 'r2']);
    running--;
    return `r${n.id}`;
  });
  assert.equal(peak, 2);
  assert.equal(log[2], 'start 3');
  assert.equal(results.get(3), 'r3');
});

test('serial nodes never overlap', async () => {
  const plan = new Plan();
  for (let i = 0; i < 4; i++) plan.add(vol(String(i)), 'x');
  let running = 0;
  let peak = 0;
  await executePlan(plan, async () => {
    running++;
    peak = Math.max(peak, running);
    await sleep(10);
    running--;
  }, { serial: () => true });
  assert.equal(peak, 1);
});

test('a failure skips its dependents, the rest still runs, the first error is thrown', async () => {
  const plan = new Plan();
  const a = plan.add(vol('a'), 'x');
  const b = plan.add(vol('b'), 'x', [a]);
  plan.add(vol('c'), 'x', [b]);
  plan.add(vol('d'), 'x');
  const ran: number[] = [];
  await assert.rejects(
    executePlan(plan, async (n) => {
      ran.push(n.id);
      if (n.id === 1) throw new Error('boom');
    }),
    /boom/,
  );
  assert.deepEqual(ran.sort(), [1, 4]);
});
