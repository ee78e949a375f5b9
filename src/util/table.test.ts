import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTable } from './table';

test('pads like Go tabwriter with minwidth 12 and padding 3 (runc list)', () => {
  const out = formatTable([['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER']], 12, 3);
  assert.equal(out, 'ID          PID         STATUS      BUNDLE      CREATED     OWNER\n');
  const two = formatTable([['ID', 'X'], ['a-very-long-container', 'y']], 12, 3);
  assert.equal(two, 'ID                      X\na-very-long-container   y\n');
});
