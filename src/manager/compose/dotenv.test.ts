import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDotenv } from './dotenv';

test('KEY=VALUE lines, comments, blank lines, export prefix', () => {
  const t = '# comment\n\nA=1\nexport B=two\n  C = three  \nD=\n';
  assert.deepEqual(parseDotenv(t), { A: '1', B: 'two', C: 'three', D: '' });
});

test('inline comments only after a space on unquoted values', () => {
  assert.deepEqual(parseDotenv('A=x #c\nB=x#notc\nC="q #kept" # gone\n'), { A: 'x', B: 'x#notc', C: 'q #kept' });
});

test('single quotes are literal, double quotes expand escapes and variables', () => {
  const env = { HOME: '/root' };
  const t = "S='$HOME\\n'\nD=\"$HOME\\n\\\"q\\\"\"\nE=\"\\$HOME\"\n";
  assert.deepEqual(parseDotenv(t, (k) => env[k as 'HOME']), { S: '$HOME\\n', D: '/root\n"q"', E: '$HOME' });
});

test('multi-line double-quoted values', () => {
  assert.deepEqual(parseDotenv('A="l1\nl2"\nB=b\n'), { A: 'l1\nl2', B: 'b' });
});

test('values refer to earlier keys and to the environment; a bare key inherits', () => {
  const env: Record<string, string> = { OUT: 'o' };
  assert.deepEqual(parseDotenv('A=1\nB=${A}-${OUT}\nOUT\nMISSING\nC=${X:-d}\n', (k) => env[k]), { A: '1', B: '1-o', OUT: 'o', C: 'd' });
});

test('yaml-style colon separator and CRLF', () => {
  assert.deepEqual(parseDotenv('A: 1\r\nB=2\r\n'), { A: '1', B: '2' });
});

test('errors name the file and line', () => {
  assert.throws(() => parseDotenv('A=1\nB C=2\n', undefined, '/p/.env'), /failed to read \/p\/\.env: line 2: key cannot contain a space/);
  assert.throws(() => parseDotenv('A=1\nA$=2\n', undefined, 'e'), /line 2: unexpected character "\$"/);
  assert.throws(() => parseDotenv('A="open\n', undefined, 'e'), /unterminated quoted value/);
});
