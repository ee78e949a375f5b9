import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeGoFlags } from './go-flags';

const flags = { values: new Set(['bundle', 'pid-file', 'console-socket']), bools: new Set(['detach', 'no-subreaper', 'all']) };

test('single-dash long flags become double-dash (restore -no-subreaper)', () => {
  assert.deepEqual(normalizeGoFlags(['-no-subreaper', '-bundle', '/b', 'id'], flags, false), ['--no-subreaper', '--bundle=/b', 'id']);
});

test('value flags take the next argument even when it starts with a dash, as Go does', () => {
  assert.deepEqual(normalizeGoFlags(['--pid-file', '-weird', 'id'], flags, false), ['--pid-file=-weird', 'id']);
});

test('boolean =true/=false forms', () => {
  assert.deepEqual(normalizeGoFlags(['--detach=true', '--all=false', 'id'], flags, false), ['--detach', 'id']);
});

test('unknown and short flags pass through untouched', () => {
  assert.deepEqual(normalizeGoFlags(['-d', '-t', '--bogus', 'id'], flags, false), ['-d', '-t', '--bogus', 'id']);
});

test('stops at the first positional when asked (exec ID cmd -flags)', () => {
  assert.deepEqual(normalizeGoFlags(['-detach', 'id', 'sh', '-bundle', 'x'], flags, true), ['--detach', 'id', 'sh', '-bundle', 'x']);
});

test('"--" ends flag parsing', () => {
  assert.deepEqual(normalizeGoFlags(['--', '-no-subreaper'], flags, false), ['--', '-no-subreaper']);
});

test('one-letter flags with = are split for commander', () => {
  assert.deepEqual(normalizeGoFlags(['-f=json', '-q'], flags, false), ['-f', 'json', '-q']);
});
