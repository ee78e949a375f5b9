// Conformance: verbs as scripts around runc drive them: exec into a cwd the user cannot enter, exec
// --cgroup, exec's 255 statuses, kill's null signal, update in a fresh pod cgroup and with device
// rules runc reads leniently, and the global CLI surface (--version, -h, unknown verbs, --debug).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Conformance, removeCgroup, v1Hierarchies, type Bundle, type Runtime } from './lib/runtime';

const h = new Conformance('verbs');
const BOUND = 30_000;
const v1 = () => (v1Hierarchies().length > 0 ? undefined : 'needs cgroup v1 hierarchies');
const hier = (name: string) => v1Hierarchies().find((d) => path.basename(d) === name)!;

/** create + start of a sleeping container; its stdio go to files (a pipe would never see EOF). */
function started(rt: Runtime, edit?: Parameters<typeof h.bundle>[1]): Bundle {
  const b = h.bundle(rt, (c) => {
    c.process!.args = ['sleep', '600'];
    edit?.(c);
  });
  const cr = h.create(rt, b);
  assert.equal(cr.code, 0, cr.stderr);
  const st = h.cli(rt, 'start', b.id);
  assert.equal(st.code, 0, st.stderr);
  return b;
}

h.scenario('exec --user into a cwd that user cannot search (/root 0700): the cwd is entered as root, exec runs', (rt) => {
  const b = h.bundle(rt, (c) => {
    c.process!.args = ['sleep', '600'];
    c.process!.cwd = '/root';
  });
  fs.chmodSync(path.join(b.dir, 'rootfs', 'root'), 0o700);
  assert.equal(h.create(rt, b).code, 0);
  assert.equal(h.cli(rt, 'start', b.id).code, 0);
  const r = h.bounded(rt, BOUND, 'exec', '--user', '42', b.id, 'sh', '-c', 'echo "$(pwd) $(id -u)"');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '/root 42\n');
  assert.equal(h.cli(rt, 'delete', '--force', b.id).code, 0);
});

h.scenario('exec --cgroup: a sub-cgroup is joined, a path escaping the container\'s cgroup is refused', (rt) => {
  const cg = `/keel-conf-sub-${process.pid}-${rt.name}`;
  try {
    const b = started(rt, (c) => (c.linux!.cgroupsPath = cg));
    fs.mkdirSync(path.join(hier('pids'), cg, 'sub'));
    const ok = h.bounded(rt, BOUND, 'exec', '--cgroup', 'pids:sub', b.id, 'cat', '/proc/self/cgroup');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`:pids:${cg}/sub\\n`));
    const bad = h.bounded(rt, BOUND, 'exec', '--cgroup', '..', b.id, 'true');
    assert.notEqual(bad.code, 0, 'escaping sub-cgroup accepted');
    assert.match(bad.stderr, /is not a sub cgroup path/);
    assert.equal(h.cli(rt, 'delete', '--force', b.id).code, 0);
  } finally {
    removeCgroup(cg);
  }
}, v1);

h.scenario('exec failures past the arguments exit 255: into a paused container, with a pid file that cannot be written', (rt) => {
  const b = started(rt);
  assert.equal(h.cli(rt, 'pause', b.id).code, 0);
  const paused = h.bounded(rt, BOUND, 'exec', b.id, 'true');
  assert.equal(paused.code, 255, paused.stderr);
  assert.match(paused.stderr, /paused/);
  assert.equal(h.cli(rt, 'resume', b.id).code, 0);
  const pidFile = h.bounded(rt, BOUND, 'exec', '--pid-file', '/non-existent/dir/f', b.id, 'true');
  assert.equal(pidFile.code, 255, pidFile.stderr);
  assert.equal(h.cli(rt, 'delete', '--force', b.id).code, 0);
});

h.scenario('kill ID 0 (is it alive): 0 while the init lives, an error once it is gone', async (rt) => {
  const b = started(rt);
  const alive = h.cli(rt, 'kill', b.id, '0');
  assert.equal(alive.code, 0, alive.stderr);
  assert.equal(h.state(rt, b.id).status, 'running', 'signal 0 changes nothing');
  assert.equal(h.cli(rt, 'kill', b.id, 'KILL').code, 0);
  await h.waitForStatus(rt, b.id, 'stopped');
  assert.notEqual(h.cli(rt, 'kill', b.id, '0').code, 0);
  assert.equal(h.cli(rt, 'delete', b.id).code, 0);
});

h.scenario('update of a container in a pod cgroup whose cpuset parent was just made (empty cpus and mems)', (rt) => {
  const pod = `/keel-conf-pod-${process.pid}-${rt.name}`;
  try {
    fs.mkdirSync(path.join(hier('cpuset'), pod));
    assert.equal(fs.readFileSync(path.join(hier('cpuset'), pod, 'cpuset.cpus'), 'utf8').trim(), '', 'a new cpuset starts empty');
    const b = started(rt, (c) => (c.linux!.cgroupsPath = `${pod}/ctr`));
    const u = h.bounded(rt, BOUND, 'update', '--cpu-period', '100000', b.id);
    assert.equal(u.code, 0, u.stderr);
    assert.equal(fs.readFileSync(path.join(hier('cpu'), pod, 'ctr', 'cpu.cfs_period_us'), 'utf8').trim(), '100000');
    assert.equal(h.cli(rt, 'delete', '--force', b.id).code, 0);
  } finally {
    removeCgroup(pod);
  }
}, v1);

h.scenario('device rules with access "rwa" (read as "rw"): create and update work, the device stays denied', (rt) => {
  const b = started(rt, (c) => {
    c.linux!.resources = { devices: [{ allow: false, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 11, access: 'rwa' }] };
    c.linux!.devices = [{ path: '/dev/kmsg', type: 'c', major: 1, minor: 11 }];
  });
  const resources = path.join(b.dir, 'resources.json');
  fs.writeFileSync(resources, JSON.stringify({ pids: { limit: 30 }, devices: [{ allow: false, type: 'c', major: 1, minor: 11, access: 'rwa' }] }));
  for (const args of [['--pids-limit', '30'], ['-r', resources]]) {
    const u = h.bounded(rt, BOUND, 'update', ...args, b.id);
    assert.equal(u.code, 0, `${args.join(' ')}: ${u.stderr}`);
  }
  const r = h.bounded(rt, BOUND, 'exec', b.id, '/probe', 'open', '/dev/kmsg');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'EPERM\n');
  assert.equal(h.cli(rt, 'delete', '--force', b.id).code, 0);
});

h.scenario('--version: "<name> version X", then commit, spec, the runtime it is built with, libseccomp', (rt) => {
  const r = h.cli(rt, '--version');
  assert.equal(r.code, 0);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 5, r.stdout);
  assert.match(lines[0]!, new RegExp(`^${rt.name} version \\d+\\.\\d+`));
  assert.match(lines[1]!, /^commit: \S+/);
  assert.match(lines[2]!, /^spec: \d+\.\d+/);
  assert.match(lines[3]!, /^\w+: \S+/);
  assert.match(lines[4]!, /^libseccomp: \d+\.\d+\.\d+$/);
});

h.scenario('-h: NAME, USAGE, VERSION, COMMANDS and GLOBAL OPTIONS, in that order; checkpoint and restore are verbs', (rt) => {
  const r = h.cli(rt, '-h');
  assert.equal(r.code, 0);
  const at = ['NAME:', 'USAGE:', 'VERSION:', 'COMMANDS:', 'GLOBAL OPTIONS:'].map((s) => r.stdout.indexOf(`${s}\n`));
  assert.ok(at.every((p, i) => p >= 0 && (i === 0 || p > at[i - 1]!)), `sections in order: ${at}`);
  assert.match(r.stdout, new RegExp(`^NAME:\\n {3}${rt.name} - `));
  for (const verb of ['checkpoint', 'restore', 'create', 'exec', 'update']) assert.match(r.stdout, new RegExp(`\\n {3}${verb} +\\S`), verb);
  assert.match(r.stdout, /\n {3}--criu value +/);
});

h.scenario('an unknown command, with -h or alone, is an error: "No help topic", non-zero status', (rt) => {
  for (const args of [['nosuchcmd', '-h'], ['nosuchcmd'], ['help', 'nosuchcmd']]) {
    const r = h.cli(rt, ...args);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, /No help topic for 'nosuchcmd'/);
  }
});

h.scenario('--debug logs the container init\'s setup steps; without it there is no debug line', (rt) => {
  const debug = (args: string[]) => {
    const b = h.bundle(rt, (c) => (c.process!.args = ['true']));
    const r = h.bounded(rt, BOUND, ...args, 'run', '--bundle', b.dir, b.id);
    assert.equal(r.code, 0, r.stderr);
    return r.stderr.split('\n').filter((l) => /level=debug/.test(l));
  };
  // runc logs nsexec's stages and its Go init; keel logs each numbered step of its child.
  assert.ok(debug(['--debug']).length >= 10, 'setup steps at debug');
  assert.deepEqual(debug([]), []);
});

h.finish();
