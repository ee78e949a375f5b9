// mountsUnder parses mountinfo (escapes included); unmountUnder detaches what is not kept, deepest first.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { realSys } from '../native/index';
import { mountsUnder, unmountUnder } from './shared-mounts';

test('mountsUnder: prefix match on whole path components, octal escapes decoded', () => {
  const info = [
    '22 1 8:1 / / rw - ext4 /dev/sda1 rw',
    '30 22 0:5 / /b/root rw - tmpfs tmpfs rw',
    '31 30 0:6 / /b/root/my\\040dir rw - tmpfs tmpfs rw',
    '32 22 0:7 / /b/rootfs2 rw - tmpfs tmpfs rw',
  ].join('\n');
  assert.deepEqual(mountsUnder('/b/root', info), [
    { id: 30, path: '/b/root' },
    { id: 31, path: '/b/root/my dir' },
  ]);
});

test('unmountUnder keeps the listed mounts and detaches the rest, nested ones first', { skip: process.getuid?.() !== 0 && 'needs root' }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-sm-'));
  const mount = (...a: string[]) => assert.equal(spawnSync('mount', a).status, 0, `mount ${a.join(' ')}`);
  try {
    fs.mkdirSync(path.join(dir, 'keep'));
    fs.mkdirSync(path.join(dir, 'a'));
    mount('-t', 'tmpfs', 'tmpfs', path.join(dir, 'keep'));
    const before = mountsUnder(dir).map((m) => m.id);
    mount('-t', 'tmpfs', 'tmpfs', path.join(dir, 'a'));
    fs.mkdirSync(path.join(dir, 'a', 'b'));
    mount('-t', 'tmpfs', 'tmpfs', path.join(dir, 'a', 'b'));
    const done = unmountUnder(realSys, dir, before);
    assert.deepEqual(done, [path.join(dir, 'a', 'b'), path.join(dir, 'a')]);
    assert.deepEqual(
      mountsUnder(dir).map((m) => m.path),
      [path.join(dir, 'keep')],
    );
  } finally {
    for (const m of mountsUnder(dir).reverse()) spawnSync('umount', ['-l', m.path]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
