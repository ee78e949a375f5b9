import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interpolateTree, substitute } from './interpolate';

const env: Record<string, string> = { A: 'a', EMPTY: '', N: '3' };
const look = (k: string) => env[k];
const sub = (s: string) => substitute(s, look, 'x');

test('plain and braced variables, $$ as a literal dollar', () => {
  assert.equal(sub('$A-${A}-$$A-$${A}'), 'a-a-$A-${A}');
  assert.equal(sub('pre${A}post'), 'preapost');
  assert.equal(sub('no vars'), 'no vars');
});

test('defaults: :- counts empty as missing, - only unset', () => {
  assert.equal(sub('${MISSING:-d}'), 'd');
  assert.equal(sub('${EMPTY:-d}'), 'd');
  assert.equal(sub('${MISSING-d}'), 'd');
  assert.equal(sub('${EMPTY-d}'), '');
  assert.equal(sub('${A:-d}'), 'a');
});

test('alternatives :+ and +', () => {
  assert.equal(sub('${A:+alt}'), 'alt');
  assert.equal(sub('${EMPTY:+alt}'), '');
  assert.equal(sub('${EMPTY+alt}'), 'alt');
  assert.equal(sub('${MISSING+alt}'), '');
});

test('nested defaults', () => {
  assert.equal(sub('${MISSING:-${A}}'), 'a');
  assert.equal(sub('${MISSING:-${ALSO:-x-$N}}'), 'x-3');
});

test('required variables: :? and ?', () => {
  assert.throws(() => sub('${MISSING:?need it}'), /required variable MISSING is missing a value: need it/);
  assert.throws(() => sub('${EMPTY:?e}'), /required variable EMPTY is missing a value: e/);
  assert.equal(sub('${EMPTY?e}'), '');
  assert.throws(() => sub('${MISSING?}'), /^Error|required variable MISSING is missing a value$/);
});

test('invalid templates name the path', () => {
  assert.throws(() => substitute('${A', look, 'services.web.image'), /invalid interpolation format for services\.web\.image/);
  assert.throws(() => substitute('${-x}', look, 'p'), /invalid interpolation format for p/);
  assert.throws(() => substitute('$', look, 'p'), /invalid interpolation format/);
});

test('unset plain variables are reported and become empty (defaults are not reported)', () => {
  const unset: string[] = [];
  assert.equal(substitute('${U1}$U2${U1:-d}', look, 'p', (n) => unset.push(n)), 'd');
  assert.deepEqual(unset, ['U1', 'U2']);
});

test('interpolateTree rewrites values, not keys, and errors carry the path', () => {
  const t = { services: { '$A': { image: 'img:${N}', command: ['echo', '$A'] } } };
  interpolateTree(t, look);
  assert.deepEqual(t, { services: { '$A': { image: 'img:3', command: ['echo', 'a'] } } });
  assert.throws(() => interpolateTree({ services: { web: { ports: ['${P:?set P}'] } } }, look), /error while interpolating services\.web\.ports\[0\]: required variable P is missing a value: set P/);
});
