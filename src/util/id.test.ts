import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isValidId } from './id';

test('ids runc accepts', () => {
  for (const id of ['a', 'web-1', 'x_y', 'a.b', 'a+b', 'a,b', 'A9', '..a', 'a..']) assert.ok(isValidId(id), id);
});

test('ids runc refuses', () => {
  for (const id of ['', '.', '..', 'a/b', '/a', 'a b', 'a:b', 'a\nb', 'é']) assert.ok(!isValidId(id), JSON.stringify(id));
});
