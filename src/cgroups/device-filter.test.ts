// Unit tests of the v2 device filter: the encoded program, run by a small interpreter, must agree
// with the rule semantics (last match wins, default deny) on every device/access combination.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDeviceFilter, encodeInsns, isDeviceAllowed, runDeviceFilter } from './device-filter';
import { defaultDeviceRules, normalizeDeviceRules, v1DeviceLine } from './devices';

const probes: ['c' | 'b', number, number][] = [
  ['c', 1, 3], ['c', 1, 5], ['c', 1, 9], ['c', 136, 4], ['c', 5, 2], ['b', 8, 0], ['b', 1, 3], ['c', 10, 200], ['c', 4, 1],
];

function agree(rules: ReturnType<typeof normalizeDeviceRules>): void {
  const prog = buildDeviceFilter(rules);
  for (const [type, major, minor] of probes)
    for (const acc of ['r', 'w', 'm'] as const)
      assert.equal(runDeviceFilter(prog, type, major, minor, acc), isDeviceAllowed(rules, type, major, minor, acc), `${type} ${major}:${minor} ${acc}`);
}

test('a deny-all spec plus runc defaults: program agrees with the semantics', () => {
  const rules = normalizeDeviceRules([{ allow: false, access: 'rwm' }, ...defaultDeviceRules]);
  agree(rules);
  const prog = buildDeviceFilter(rules);
  assert.equal(runDeviceFilter(prog, 'c', 1, 3, 'w'), true);
  assert.equal(runDeviceFilter(prog, 'b', 8, 0, 'r'), false);
  assert.equal(runDeviceFilter(prog, 'b', 8, 0, 'm'), true);
});

test('later rules override earlier ones, access subsets included', () => {
  const rules = normalizeDeviceRules([
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, access: 'rwm' },
    { allow: false, type: 'c', major: 1, minor: 5, access: 'r' },
    { allow: true, type: 'b', access: 'r' },
  ]);
  agree(rules);
  const prog = buildDeviceFilter(rules);
  assert.equal(runDeviceFilter(prog, 'c', 1, 5, 'r'), false);
  assert.equal(runDeviceFilter(prog, 'c', 1, 5, 'w'), true);
  assert.equal(runDeviceFilter(prog, 'b', 8, 0, 'w'), false);
});

test('an allow-all rule ends the program early and no rules means deny everything', () => {
  const all = buildDeviceFilter(normalizeDeviceRules([{ allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: true, access: 'rwm' }]));
  assert.equal(runDeviceFilter(all, 'c', 1, 3, 'r'), true);
  const none = buildDeviceFilter([]);
  assert.equal(runDeviceFilter(none, 'c', 1, 3, 'r'), false);
});

test('encoding is little-endian struct bpf_insn with jump offsets inside each block', () => {
  const buf = encodeInsns(buildDeviceFilter(normalizeDeviceRules([{ allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }])));
  assert.equal(buf.length % 8, 0);
  assert.equal(buf[0], 0x61); // r2 = *(u32 *)(r1 + 0)
  assert.equal(buf[1], 0x12); // dst r2, src r1
  assert.equal(buf[buf.length - 8], 0x95); // exit
  assert.equal(buf.readInt32LE(buf.length - 16 + 4), 0); // default deny
});

test('v1 lines and validation', () => {
  assert.equal(v1DeviceLine(normalizeDeviceRules([{ allow: true, type: 'c', major: 136, access: 'rwm' }])[0]!), 'c 136:* rwm');
  assert.equal(v1DeviceLine(normalizeDeviceRules([{ allow: false, access: 'rwm' }])[0]!), 'a *:* rwm');
  assert.throws(() => normalizeDeviceRules([{ allow: true, type: 'x', access: 'r' }]), /invalid type/);
  assert.throws(() => normalizeDeviceRules([{ allow: true, type: 'c' }]), /cannot be empty/);
});

test('device access is read as runc reads it: r, w and m in order, other letters ignored', () => {
  assert.deepEqual(
    normalizeDeviceRules([
      { allow: false, access: 'rwm' },
      { allow: false, type: 'c', major: 1, minor: 11, access: 'rwa' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'mwr' },
      { allow: true, type: 'b', access: 'a' },
    ]),
    [
      { allow: false, type: 'a', major: -1, minor: -1, access: 'rwm' },
      { allow: false, type: 'c', major: 1, minor: 11, access: 'rw' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    ],
  );
  assert.throws(() => normalizeDeviceRules([{ allow: true, access: '' }]), /device access at 0 field cannot be empty/);
});
