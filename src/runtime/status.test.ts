import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSignal } from './signals';
import { checkTransition } from './status';

test('transitions with runc wording', () => {
  assert.doesNotThrow(() => checkTransition('start', 'created', 'c'));
  assert.throws(() => checkTransition('start', 'running', 'c'), /cannot start an already running container/);
  assert.throws(() => checkTransition('start', 'stopped', 'c'), /cannot start a container that has stopped/);
  assert.throws(() => checkTransition('kill', 'stopped', 'c'), /container not running/);
  assert.throws(() => checkTransition('delete', 'running', 'web'), /cannot delete container web that is not stopped: running/);
  assert.doesNotThrow(() => checkTransition('delete', 'running', 'web', { force: true }));
  assert.throws(() => checkTransition('resume', 'running', 'c'), /container not paused/);
  assert.throws(() => checkTransition('pause', 'stopped', 'c'), /container not running/);
  assert.throws(() => checkTransition('exec', 'paused', 'c'), /use --ignore-paused/);
  assert.doesNotThrow(() => checkTransition('exec', 'paused', 'c', { ignorePaused: true }));
  assert.throws(() => checkTransition('exec', 'stopped', 'c'), /cannot exec in a stopped container/);
});

test('signals by name, SIG-name, number and realtime offset', () => {
  assert.equal(parseSignal('KILL'), 9);
  assert.equal(parseSignal('SIGKILL'), 9);
  assert.equal(parseSignal('sigterm'), 15);
  assert.equal(parseSignal('9'), 9);
  assert.equal(parseSignal('RTMIN+2'), 36);
  assert.equal(parseSignal('SIGRTMAX'), 64);
  assert.throws(() => parseSignal('NOPE'), /unknown signal "NOPE"/);
  assert.equal(parseSignal('0'), 0, 'the null signal: is it alive');
  assert.throws(() => parseSignal('65'), /unknown signal "65"/);
});
