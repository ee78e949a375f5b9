// The container lifecycle through bin/keel, as root, with real namespaces and cgroups: every verb,
// runc's wording on wrong states, exit codes, and nothing left behind after success or failure.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { cgroupDirsNamed, cleanupTemplate, makeBundle, mountsUnder } from '../helpers/bundle';
import { spawnSync } from 'node:child_process';
import { errorMessage, isRoot, keel, keelBin, tempDir } from '../helpers/keel';

const skip = !isRoot && 'needs root';
const tmp = tempDir('keel-life-');
const root = path.join(tmp.dir, 'root');
let n = 0;
const uid = () => `life-${process.pid}-${++n}`;
// Every keel started here carries this tag in its environment, and so does any init it clones:
// the leak check then looks at our processes only, not at other suites' containers.
const tag = `KEEL_TEST_TAG=life-${process.pid}-${Date.now()}`;
const env = { ...process.env, KEEL_TEST_TAG: tag.split('=')[1]! };
const k = (args: string[], input?: string) => keel(['--root', root, ...args], input === undefined ? { env } : { env, input });

after(() => {
  for (const id of k(['list', '-q']).stdout.split('\n').filter(Boolean)) k(['delete', '--force', id]);
  cleanupTemplate();
  tmp.cleanup();
});

function bundle(edit?: Parameters<typeof makeBundle>[1]): string {
  return makeBundle(fs.mkdtempSync(path.join(tmp.dir, 'b-')), edit);
}

function status(id: string): string {
  return JSON.parse(k(['state', id]).stdout).status;
}

test('create → start → pause → resume → kill → delete, with runc wording on wrong states', { skip }, () => {
  const b = bundle((s) => (s.process!.args = ['sleep', '60']));
  const id = uid();
  const pidFile = path.join(tmp.dir, `${id}.pid`);
  assert.equal(k(['create', '--bundle', b, '--pid-file', pidFile, id]).code, 0);
  const pid = fs.readFileSync(pidFile, 'utf8');
  assert.match(pid, /^\d+$/, 'pid file is a bare number without newline');
  const st = JSON.parse(k(['state', id]).stdout);
  assert.deepEqual([st.status, st.pid, st.bundle, st.id], ['created', Number(pid), b, id]);
  assert.equal(k(['create', '--bundle', b, id]).stderr.includes('container with given ID already exists'), true);
  assert.equal(k(['start', id]).code, 0);
  assert.equal(status(id), 'running');
  assert.match(k(['start', id]).stderr, /cannot start an already running container/);
  assert.deepEqual(JSON.parse(k(['ps', '--format', 'json', id]).stdout), [Number(pid)]);
  assert.equal(k(['pause', id]).code, 0);
  assert.equal(status(id), 'paused');
  assert.match(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), /State:\s+[SD]/);
  assert.match(k(['delete', id]).stderr, /cannot delete container .* that is not stopped: paused/);
  assert.equal(k(['resume', id]).code, 0);
  assert.equal(status(id), 'running');
  assert.match(k(['resume', id]).stderr, /container not paused/);
  assert.match(k(['delete', id]).stderr, new RegExp(`cannot delete container ${id} that is not stopped: running`));
  assert.equal(k(['kill', id, 'KILL']).code, 0);
  for (let i = 0; i < 200 && status(id) !== 'stopped'; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  assert.equal(status(id), 'stopped');
  assert.equal(JSON.parse(k(['state', id]).stdout).pid, 0);
  assert.match(k(['kill', id, 'TERM']).stderr, /container not running/);
  assert.equal(k(['delete', id]).code, 0);
  assert.match(k(['state', id]).stderr, /container does not exist/);
  assert.deepEqual(cgroupDirsNamed(id), [], 'cgroups removed');
});

test('run in the foreground: stdout passes through and the exit code comes back', { skip }, () => {
  const b = bundle((s) => (s.process!.args = ['sh', '-c', 'echo "out $(hostname) $$"; echo err >&2; exit 42']));
  const id = uid();
  const r = k(['run', '--bundle', b, id]);
  assert.equal(r.code, 42);
  assert.equal(r.stdout, 'out keel 1\n');
  assert.match(r.stderr, /^err$/m);
  assert.match(k(['state', id]).stderr, /does not exist/, 'run deletes the container unless --keep');
});

test('run --keep and signals: 128+N after a signal', { skip }, () => {
  const b = bundle((s) => (s.process!.args = ['sh', '-c', 'kill -TERM $$; sleep 1; exit 3']));
  // pid 1 ignores signals it has no handler for, so the shell runs as a child of a tiny init.
  const b2 = bundle((s) => (s.process!.args = ['sh', '-c', 'sh -c "kill -9 \\$\\$"; echo $?']));
  const id = uid();
  const r = k(['run', '--keep', '--bundle', b, id]);
  assert.equal(r.code, 3, 'pid 1 ignores SIGTERM without a handler');
  assert.equal(status(id), 'stopped');
  assert.equal(k(['delete', id]).code, 0);
  const r2 = k(['run', '--bundle', b2, uid()]);
  assert.equal(r2.stdout.trim(), '137');
});

test('exec: joins namespaces and cgroups, status and overrides, detached with a pid file', { skip }, () => {
  const b = bundle((s) => (s.process!.args = ['sleep', '60']));
  const id = uid();
  assert.equal(k(['run', '-d', '--bundle', b, id]).code, 0);
  const init = JSON.parse(k(['state', id]).stdout).pid;
  const r = k(['exec', id, 'sh', '-c', 'echo $$ $(hostname); exit 5']);
  assert.equal(r.code, 5);
  assert.equal(r.stdout, `${'2'} keel\n`.replace(/^2/, r.stdout.split(' ')[0]!));
  assert.notEqual(r.stdout.split(' ')[0], '1');
  const o = k(['exec', '--user', '1000:1000', '--env', 'FOO=bar', '--cwd', '/tmp', id, 'sh', '-c', 'echo $(id -u):$(id -g) $FOO $(pwd)']);
  assert.equal(o.stdout, '1000:1000 bar /tmp\n', o.stderr);
  const pidFile = path.join(tmp.dir, 'exec.pid');
  assert.equal(k(['exec', '-d', '--pid-file', pidFile, id, 'sleep', '30']).code, 0);
  const epid = Number(fs.readFileSync(pidFile, 'utf8'));
  const inCgroup = JSON.parse(k(['ps', '-f', 'json', id]).stdout) as number[];
  assert.ok(inCgroup.includes(init) && inCgroup.includes(epid), `the exec process is in the container cgroup: ${inCgroup} vs ${init},${epid}`);
  for (const ns of ['pid', 'mnt', 'uts', 'ipc', 'net']) {
    assert.equal(fs.readlinkSync(`/proc/${epid}/ns/${ns}`), fs.readlinkSync(`/proc/${init}/ns/${ns}`), ns);
  }
  const proc = path.join(tmp.dir, 'process.json');
  fs.writeFileSync(proc, JSON.stringify({ args: ['sh', '-c', 'echo from-json'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] }));
  assert.equal(k(['exec', '--process', proc, id]).stdout, 'from-json\n');
  assert.equal(errorMessage(k(['exec', id, '/nope'])), 'exec failed: exec: "/nope": stat /nope: no such file or directory');
  assert.equal(errorMessage(k(['exec', id, 'nope'])), 'exec failed: exec: "nope": executable file not found in $PATH');
  assert.equal(k(['kill', '--all', id, 'KILL']).code, 0);
  for (let i = 0; i < 200 && status(id) !== 'stopped'; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  assert.match(k(['exec', id, 'true']).stderr, /cannot exec in a stopped container/);
  assert.equal(k(['delete', id]).code, 0);
});

test('a bad config.json is refused before anything is created, with its JSON pointer', { skip }, () => {
  const id = uid();
  const cases: [(s: Record<string, any>) => void, RegExp][] = [
    [(s) => (s.process.args = 'sh'), /config\.json: \/process\/args: must be array/],
    [(s) => s.linux.namespaces.push({ type: 'pid' }), /config\.json: \/linux\/namespaces\/5: duplicate namespace "pid"/],
    [(s) => (s.ociVersion = '2.0.0'), /config\.json: \/ociVersion/],
    [(s) => (s.root.path = 'missing'), /config\.json: \/root\/path/],
  ];
  for (const [edit, msg] of cases) {
    const b = bundle(edit as (s: unknown) => void);
    const r = k(['create', '--bundle', b, id]);
    assert.equal(r.code, 1, String(msg));
    assert.match(errorMessage(r), msg);
    assert.equal(fs.existsSync(path.join(root, id)), false, 'no state dir');
    assert.deepEqual(cgroupDirsNamed(id), [], 'no cgroup');
  }
  fs.writeFileSync(path.join(tmp.dir, 'broken.json'), '{');
  const b = bundle();
  fs.writeFileSync(path.join(b, 'config.json'), '{"ociVersion": ');
  assert.match(k(['create', '--bundle', b, id]).stderr, /config\.json: invalid JSON/);
});

test('a failing create (bad mount, missing executable) leaves no state, cgroup, mount or process', { skip }, () => {
  const id = uid();
  const b1 = bundle((s) => s.mounts!.push({ destination: '/data', type: 'bind', source: '/nonexistent-keel-src', options: ['bind'] }));
  const r1 = k(['create', '--bundle', b1, id]);
  assert.equal(r1.code, 1);
  assert.match(r1.stderr, /\/data/);
  const b2 = bundle((s) => (s.process!.args = ['no-such-binary']));
  const r2 = k(['create', '--bundle', b2, id]);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /executable file not found in \$PATH/);
  assert.equal(fs.existsSync(path.join(root, id)), false);
  assert.deepEqual(cgroupDirsNamed(id), []);
  assert.deepEqual(mountsUnder(tmp.dir), []);
  const leftover = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return fs.readFileSync(`/proc/${p}/comm`, 'utf8').startsWith('rt:') && fs.readFileSync(`/proc/${p}/environ`, 'latin1').includes(tag);
    } catch {
      return false;
    }
  });
  assert.deepEqual(leftover, [], 'no rt:init/rt:join child left');
});

test('the json log of a failed create is what containerd shows', { skip }, async () => {
  const { lastRuntimeError } = await import('../helpers/runtime-log');
  const b = bundle((s) => (s.process!.args = ['no-such-binary']));
  const log = path.join(b, 'log.json');
  const r = keel(['--root', root, '--log', log, '--log-format', 'json', 'create', '--bundle', b, uid()]);
  assert.equal(r.code, 1);
  assert.match(lastRuntimeError(fs.readFileSync(log, 'utf8')), /executable file not found/);
});

test('a terminal in the foreground without --console-socket: keel holds the pty (run and exec -t)', { skip }, () => {
  const b = bundle((s) => {
    s.process!.terminal = true;
    s.process!.args = ['sh', '-c', 'tty; echo hello; exit 4'];
  });
  // script(1) gives keel a terminal of its own, as an interactive user would.
  const run = (cmd: string) => spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
  const out = run(`${keelBin} --root ${root} run --bundle ${b} ${uid()}`);
  assert.equal(out.status, 4);
  // script(1) forwards its stdin's end to the pty; under load the container's tty may echo that
  // control character (as "^@") before hello.
  assert.match(out.stdout, /\/dev\/pts\/0\r*\n(?:\^.)*hello/);
  const b2 = bundle((s) => (s.process!.args = ['sleep', '60']));
  const id = uid();
  assert.equal(k(['run', '-d', '--bundle', b2, id]).code, 0);
  const ex = run(`${keelBin} --root ${root} exec -t ${id} sh -c 'tty; echo in-exec; exit 6'`);
  assert.equal(ex.status, 6);
  assert.match(ex.stdout, /\/dev\/pts\/\d+\r*\nin-exec/);
  assert.equal(k(['delete', '--force', id]).code, 0);
});
