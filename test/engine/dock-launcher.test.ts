// bin/dock's start-up path for `dock compose`: the sh front moves NODE_EXTRA_CA_CERTS aside (node
// would load it before any JS) and the loader puts it back for what compose sees and starts; with
// DOCKER_HOST set, the compose bundle runs without the CLI's and answers as through it. No engine:
// DOCKER_HOST names a socket nobody serves, and `compose config` contacts none.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { DOCK_BIN } from './lib/dock';

let dir = '';
let host = '';
const WARN = /Ignoring extra certs from/;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dock-launcher-'));
  host = `unix://${path.join(dir, 'none.sock')}`;
  fs.writeFileSync(
    path.join(dir, 'compose.yaml'),
    'services:\n  a:\n    image: busybox\n    environment:\n      CA: ${NODE_EXTRA_CA_CERTS:-unset}\n      MOVED: ${KEEL_EXTRA_CA_CERTS:-unset}\n',
  );
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const run = (args: string[], env: NodeJS.ProcessEnv) => {
  const r = spawnSync(DOCK_BIN, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, DOCKER_HOST: host, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('dock compose starts without loading NODE_EXTRA_CA_CERTS, yet sees and passes on the value', { skip: fs.existsSync(DOCK_BIN) ? undefined : 'bin/dock not built (run make)' }, () => {
  const missing = path.join(dir, 'no-such-ca.pem');
  const c = run(['compose', '-p', 'x', 'config'], { NODE_EXTRA_CA_CERTS: missing });
  assert.equal(c.code, 0, c.err);
  assert.doesNotMatch(c.err, WARN, 'node loaded the file for compose');
  assert.match(c.out, new RegExp(`CA: ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.match(c.out, /MOVED: unset/);
  // Every other command still has node load it (its warning names the missing file).
  const v = run(['--version'], { NODE_EXTRA_CA_CERTS: missing });
  assert.equal(v.code, 0, v.err);
  assert.match(v.err, WARN);
  // Unset stays unset.
  const u = run(['compose', '-p', 'x', 'config'], { NODE_EXTRA_CA_CERTS: undefined });
  assert.equal(u.code, 0, u.err);
  assert.match(u.out, /CA: unset/);
});

test('dock compose run directly answers as through the CLI (dock -H HOST compose)', { skip: fs.existsSync(DOCK_BIN) ? undefined : 'bin/dock not built (run make)' }, () => {
  for (const args of [['config'], ['config', '--services'], ['--bogus'], ['config', '-f', 'nope.yaml']]) {
    const direct = run(['compose', '-p', 'x', ...args], {});
    const viaCli = run(['-H', host, 'compose', '-p', 'x', ...args], { DOCKER_HOST: undefined });
    assert.deepEqual(direct, viaCli, args.join(' '));
  }
});
