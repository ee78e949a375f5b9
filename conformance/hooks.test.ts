// Conformance: hook order, the state each hook is given on stdin, hook args/env, and a failing
// prestart hook, for keel and runc. Hooks append "<name> <status> <env>" to a log shared with the container.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Hook } from '../spec/types/runtime';
import { Conformance, type Runtime } from './lib/runtime';

const h = new Conformance('hooks');

// Host-side hooks see hostLog; startContainer (and createContainer, in runtimes that run it after
// pivot_root) run in the container, where the same directory is bind-mounted at /hooklog. /bin/sh is
// the host's dash or the container's busybox: the script sticks to POSIX sh, sed and tr.
const script =
  'st=$(cat | tr -d "\\n" | sed -n "s/.*\\"status\\": *\\"\\([a-z]*\\)\\".*/\\1/p"); ' +
  'for f in "$2" /hooklog/log; do if [ -e "$f" ]; then echo "$1 $st $HOOKVAR" >> "$f"; exit 0; fi; done; exit 1';

function hook(name: string, log: string): Hook {
  return { path: '/bin/sh', args: ['sh', '-c', script, 'sh', name, log], env: [`HOOKVAR=${name}-env`] };
}

function hookBundle(rt: Runtime, edit?: (hooks: Record<string, Hook[]>, log: string) => void) {
  const dir = h.scratch('hooklog');
  const log = path.join(dir, 'log');
  fs.writeFileSync(log, '');
  fs.chmodSync(log, 0o666);
  const b = h.bundle(rt, (c) => {
    c.process!.args = ['sleep', '600'];
    c.mounts!.push({ destination: '/hooklog', type: 'bind', source: dir, options: ['rbind', 'rw'] });
    const hooks: Record<string, Hook[]> = {};
    for (const n of ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']) hooks[n] = [hook(n, log)];
    edit?.(hooks, log);
    c.hooks = hooks;
  });
  const read = () => fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
  return { b, read };
}

// Where runc 1.1 departs from runtime-spec's lifecycle, both behaviours are accepted, never keel's alone:
// - runc 1.1 runs poststart at the end of `create`, not after the user process starts (runc#1710, moved
//   to `start` only by runc#5186), and hands it the state "created" where the spec's order implies "running";
// - so poststart and startContainer have no fixed relative order; startContainer must still come at start.
const createHooks = [
  'prestart creating prestart-env',
  'createRuntime creating createRuntime-env',
  'createContainer creating createContainer-env',
];
const afterStart = (lines: string[]) => lines.slice(3, 5).sort();

h.scenario('hook order and the status each hook sees (create, start, kill, delete)', async (rt) => {
  const { b, read } = hookBundle(rt);
  const cr = h.create(rt, b);
  assert.equal(cr.code, 0, cr.stderr);
  const atCreate = read();
  assert.deepEqual(atCreate.slice(0, 3), createHooks);
  assert.ok(atCreate.slice(3).every((l) => l.startsWith('poststart ')), `after create: ${atCreate.join('; ')}`);
  assert.equal(h.cli(rt, 'start', b.id).code, 0);
  await h.waitForStatus(rt, b.id, 'running');
  assert.equal(h.cli(rt, 'kill', b.id, 'KILL').code, 0);
  await h.waitForStatus(rt, b.id, 'stopped');
  assert.equal(h.cli(rt, 'delete', b.id).code, 0);
  const lines = read();
  assert.equal(lines.length, 6, lines.join('\n'));
  assert.deepEqual(lines.slice(0, 3), createHooks);
  const [poststart, startContainer] = afterStart(lines);
  assert.equal(startContainer, 'startContainer created startContainer-env');
  assert.match(poststart!, /^poststart (created|running) poststart-env$/);
  assert.equal(lines[5], 'poststop stopped poststop-env');
});

h.scenario('several hooks of one kind run in array order', (rt) => {
  const { b, read } = hookBundle(rt, (hooks, log) => {
    hooks.createRuntime = [hook('first', log), hook('second', log), hook('third', log)];
    for (const k of ['prestart', 'createContainer', 'startContainer', 'poststart', 'poststop']) delete hooks[k];
  });
  assert.equal(h.create(rt, b).code, 0, h.output(b).stderr);
  assert.equal(h.cli(rt, 'delete', '--force', b.id).code, 0);
  assert.deepEqual(read(), ['first creating first-env', 'second creating second-env', 'third creating third-env']);
});

h.scenario('run: hooks run too, poststop after the process exits', (rt) => {
  const { b, read } = hookBundle(rt);
  b.config.process!.args = ['true'];
  fs.writeFileSync(path.join(b.dir, 'config.json'), JSON.stringify(b.config));
  const r = h.run(rt, b);
  assert.equal(r.code, 0, r.stderr);
  const names = read().map((l) => l.split(' ')[0]!);
  assert.deepEqual(names.slice(0, 3), ['prestart', 'createRuntime', 'createContainer']);
  assert.deepEqual(afterStart(names), ['poststart', 'startContainer']);
  assert.deepEqual(names.slice(5), ['poststop']);
});

h.scenario('a failing createRuntime hook fails create, runs poststop and leaves nothing behind', (rt) => {
  const { b, read } = hookBundle(rt, (hooks) => {
    hooks.createRuntime = [{ path: '/bin/sh', args: ['sh', '-c', 'echo hook-said-no >&2; exit 3'] }];
  });
  const cr = h.create(rt, b);
  assert.notEqual(cr.code, 0);
  assert.match(cr.stderr, /hook/i, 'the error names the hook');
  // prestart ran, so create failed at the hook and not before it; then the container is destroyed and
  // poststop runs (runtime-spec runtime.md lifecycle: a failing createRuntime hook continues at step 12).
  assert.deepEqual(read(), ['prestart creating prestart-env', 'poststop stopped poststop-env']);
  assert.deepEqual(h.list(rt), []);
  assert.match(h.cli(rt, 'state', b.id).stderr, /does not exist/);
});

h.scenario('a createRuntime hook gets the state on stdin: id, bundle, pid of init, annotations', (rt) => {
  const out = path.join(h.scratch('state'), 'state.json');
  const { b } = hookBundle(rt, (hooks) => {
    for (const k of Object.keys(hooks)) delete hooks[k];
    hooks.createRuntime = [{ path: '/bin/sh', args: ['sh', '-c', 'cat > "$1"', 'sh', out] }];
  });
  b.config.annotations = { 'org.keel.hook': 'seen' };
  fs.writeFileSync(path.join(b.dir, 'config.json'), JSON.stringify(b.config));
  assert.equal(h.create(rt, b).code, 0, h.output(b).stderr);
  const pid = h.state(rt, b.id).pid;
  assert.equal(h.cli(rt, 'delete', '--force', b.id).code, 0);
  const st = JSON.parse(fs.readFileSync(out, 'utf8'));
  assert.equal(st.id, b.id);
  assert.equal(st.status, 'creating');
  assert.equal(st.pid, pid, 'the pid of the container init');
  assert.equal(path.resolve(st.bundle), path.resolve(b.dir));
  assert.equal(typeof st.ociVersion, 'string');
  assert.equal(st.annotations?.['org.keel.hook'], 'seen');
});

h.finish();
