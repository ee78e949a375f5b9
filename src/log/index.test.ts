import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { lastRuntimeError } from '../../test/helpers/runtime-log';
import { createLogger, jsonLineToText, lazyLogger } from './index';

function tmpFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'keel-log-')), 'log.json');
}

test('json lines decode as containerd decodes runc logs; warn is "warning"', () => {
  const file = tmpFile();
  const log = createLogger({ path: file, format: 'json' });
  log.warn('careful');
  log.error('first failure');
  log.error({ id: 'c1' }, 'container does not exist');
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines[0]!.level, 'warning');
  assert.equal(lines[2]!.id, 'c1');
  assert.ok(!('pid' in lines[0]!) && !('hostname' in lines[0]!), 'base must be null');
  assert.equal(lastRuntimeError(text), 'container does not exist');
  fs.rmSync(path.dirname(file), { recursive: true });
});

test('appends across invocations (the shim reads only the last error)', () => {
  const file = tmpFile();
  createLogger({ path: file, format: 'json' }).error('one');
  createLogger({ path: file, format: 'json' }).error('two');
  assert.equal(lastRuntimeError(fs.readFileSync(file, 'utf8')), 'two');
  fs.rmSync(path.dirname(file), { recursive: true });
});

test('text format mirrors logrus', () => {
  const line = jsonLineToText('{"level":"error","time":"2026-01-01T00:00:00.000Z","msg":"no \\"such\\" thing","id":"c1","n":3}');
  assert.equal(line, 'time="2026-01-01T00:00:00.000Z" level=error msg="no \\"such\\" thing" id=c1 n=3\n');
});

test('debug lines only with debug; lazy logger opens nothing until it writes', () => {
  const file = tmpFile();
  const log = lazyLogger({ path: file, format: 'json' });
  log.debug('hidden');
  assert.equal(fs.existsSync(file), false);
  log.child({ id: 'x' }).info('shown');
  const rec = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  assert.equal(rec.msg, 'shown');
  assert.equal(rec.id, 'x');
  const dbg = lazyLogger({ path: file, format: 'json', debug: true });
  dbg.debug('now visible');
  assert.match(fs.readFileSync(file, 'utf8'), /now visible/);
  fs.rmSync(path.dirname(file), { recursive: true });
});
