// The runc-compatible surface of bin/keel that needs no container: version, spec, state/list/delete
// of unknown ids, usage errors, flag dialects and the log contract.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { validateFeatures } from '../../src/oci/validate';
import { hostLsm } from '../../src/runtime/lsm';
import { keel, run, tempDir, which } from '../helpers/keel';
import { lastRuntimeError } from '../helpers/runtime-log';

const tmp = tempDir();
after(tmp.cleanup);
const root = path.join(tmp.dir, 'root');

test('--version prints runc\'s lines: the three go-runc parses, the runtime, libseccomp', () => {
  const r = keel(['--version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^keel version \d+\.\d+\.\d+\ncommit: \S+\nspec: 1\.3\.0\nnode: v\d+\S*\nlibseccomp: \d+\.\d+\.\d+\n$/);
});

test('state of an unknown id: exit 1 and runc\'s wording', () => {
  const r = keel(['--root', root, 'state', 'nosuch']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /level=error msg="container does not exist"/);
});

test('--log json: one error line containerd can read, and the message on stderr', () => {
  const log = path.join(tmp.dir, 'log.json');
  const r = keel(['--root', root, '--log', log, '--log-format', 'json', 'state', 'nosuch']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'container does not exist\n');
  const text = fs.readFileSync(log, 'utf8');
  assert.equal(text.trim().split('\n').length, 1);
  assert.equal(lastRuntimeError(text), 'container does not exist');
  keel(['--root', root, '--log', log, '--log-format', 'json', 'kill', 'nosuch', '9']);
  assert.equal(lastRuntimeError(fs.readFileSync(log, 'utf8')), 'container does not exist');
});

test('invalid ids are refused as runc refuses them', () => {
  for (const id of ['a/b', '..', 'a b']) {
    const r = keel(['--root', root, 'state', id]);
    assert.equal(r.code, 1, id);
    assert.match(r.stderr, /invalid container ID format/, id);
  }
});

test('list on an empty root: table header, json null, quiet nothing', () => {
  assert.equal(keel(['--root', root, 'list']).stdout, 'ID          PID         STATUS      BUNDLE      CREATED     OWNER\n');
  assert.equal(keel(['--root', root, 'list', '--format', 'json']).stdout, 'null\n');
  assert.equal(keel(['--root', root, 'list', '-f=json']).stdout, 'null\n');
  assert.equal(keel(['--root', root, 'list', '-q']).stdout, '');
});

test('Go flag dialects: --flag=value, single-dash long flags, bool=false', () => {
  assert.equal(keel([`--root=${root}`, 'list', '-format', 'json']).stdout, 'null\n');
  assert.equal(keel(['-root', root, '-debug=false', 'list', '-quiet']).code, 0);
  assert.equal(keel(['--root', root, '--criu', '/usr/sbin/criu', 'list', '-q']).code, 0);
});

test('delete: unknown id fails, but --force succeeds (idempotent)', () => {
  const r = keel(['--root', root, 'delete', 'nosuch']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /container does not exist/);
  assert.equal(keel(['--root', root, 'delete', '--force', 'nosuch']).code, 0);
  assert.equal(keel(['--root', root, 'delete', '-f', 'nosuch']).code, 0);
});

test('usage errors exit 1 with a message', () => {
  const r1 = keel(['--root', root, 'kill']);
  assert.equal(r1.code, 1);
  assert.match(r1.stderr, /kill\\?" requires a minimum of 1 argument/);
  const r2 = keel(['--root', root, 'state', 'a', 'b']);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /state\\?" requires exactly 1 argument/);
  const r3 = keel(['--root', root, 'kill', 'x', 'SIGNOPE']);
  assert.equal(r3.code, 1);
  assert.match(r3.stderr, /unknown signal \\?"SIGNOPE/);
  const r4 = keel(['--log-format', 'yaml', 'list']);
  assert.equal(r4.code, 1);
  assert.match(r4.stderr, /invalid log-format: yaml/);
  // runc (urfave/cli): an unknown verb, with or without -h or as `help VERB`, is status 3.
  for (const argv of [['nosuchverb'], ['nosuchverb', '-h'], ['help', 'nosuchverb']]) {
    const r5 = keel(argv);
    assert.equal(r5.code, 3, argv.join(' '));
    assert.match(r5.stderr, /No help topic for 'nosuchverb'/);
  }
});

test('every verb has --help', () => {
  const commands = /\nCOMMANDS:\n([\s\S]*?)\n\n/.exec(keel(['--help']).stdout)![1]!;
  const verbs = commands.match(/^ {3}(\w+)/gm)!.map((s) => s.trim()).filter((v) => v !== 'help');
  for (const v of ['start', 'state', 'list', 'kill', 'delete', 'spec', 'features']) assert.ok(verbs.includes(v), `${v} in ${verbs}`);
  for (const v of verbs) {
    const r = keel([v, '--help']);
    assert.equal(r.code, 0, v);
    assert.match(r.stdout, /Usage: keel/, v);
  }
});

test('spec writes a config runc would write, refuses to overwrite, and honours --bundle', () => {
  const b = path.join(tmp.dir, 'spec');
  fs.mkdirSync(b);
  assert.equal(keel(['spec', '--bundle', b]).code, 0);
  const mine = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8'));
  assert.equal(mine.process.terminal, true);
  assert.deepEqual(mine.process.args, ['sh']);
  const again = keel(['spec', '-b', b]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /File config.json exists. Remove it first/);
  const missing = keel(['spec', '--bundle', path.join(tmp.dir, 'nope')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no such file or directory/);
});

const runc = which('runc');

for (const rootless of [false, true]) {
  test(`spec${rootless ? ' --rootless' : ''} is structurally equal to runc's`, { skip: !runc && 'runc is not installed' }, () => {
    const mineDir = path.join(tmp.dir, `mine-${rootless}`);
    const theirsDir = path.join(tmp.dir, `runc-${rootless}`);
    fs.mkdirSync(mineDir);
    fs.mkdirSync(theirsDir);
    const extra = rootless ? ['--rootless'] : [];
    assert.equal(keel(['spec', '--bundle', mineDir, ...extra]).code, 0);
    assert.equal(run(runc!, ['spec', '--bundle', theirsDir, ...extra]).code, 0);
    const mine = JSON.parse(fs.readFileSync(path.join(mineDir, 'config.json'), 'utf8'));
    const theirs = JSON.parse(fs.readFileSync(path.join(theirsDir, 'config.json'), 'utf8'));
    // Only the runtime's own name and spec version may differ.
    assert.equal(mine.hostname, 'keel');
    assert.equal(theirs.hostname, 'runc');
    delete mine.hostname;
    delete theirs.hostname;
    assert.match(mine.ociVersion, /^1\.3\.0$/);
    delete mine.ociVersion;
    delete theirs.ociVersion;
    assert.deepEqual(mine, theirs);
  });
}

test('features validates against features-schema.json and claims what is implemented', () => {
  const r = keel(['features']);
  assert.equal(r.code, 0);
  const doc = validateFeatures(JSON.parse(r.stdout)) as Record<string, any>;
  assert.equal(doc.ociVersionMax, '1.3.0');
  assert.equal(doc.hooks.length, 6);
  assert.equal(doc.linux.seccomp.enabled, true);
  assert.ok(doc.linux.seccomp.actions.includes('SCMP_ACT_NOTIFY'));
  assert.equal(doc.linux.apparmor.enabled, hostLsm().apparmor, 'AppArmor is claimed exactly when the host has it');
  assert.equal(doc.linux.selinux.enabled, false, 'SELinux labels are not applied');
  for (const o of ['rro', 'idmap', 'ridmap', 'tmpcopyup']) assert.ok(doc.mountOptions.includes(o), `mount option ${o} claimed`);
  assert.equal(doc.linux.mountExtensions.idmap.enabled, true, 'id-mapped mounts are claimed');
  assert.match(doc.annotations['io.github.seccomp.libseccomp.version'], /^\d+\.\d+\.\d+$/);
});
