// Conformance: commands that must return. A foreground `run` holding the terminal whose setup fails
// (or must succeed, as runc's does), a create into a frozen cgroup, and a create killed half-way:
// every command returns within its bound with at most one error line, for keel and runc alike.
import { spawn, spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LinuxSeccomp } from '../spec/types/runtime';
import { Conformance, errorLines, removeCgroup, repoRoot, cgroupDirs, v1Hierarchies, type Runtime } from './lib/runtime';

const h = new Conformance('hangs');
const BOUND = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hasFreezer = v1Hierarchies().some((d) => path.basename(d) === 'freezer');
const noV1 = () => (hasFreezer ? undefined : 'needs the cgroup v1 freezer and pids hierarchies');

/** The returned run: within its bound, and no more than one error line. */
function returned(r: { timedOut: boolean; stdout: string; stderr: string }): void {
  assert.equal(r.timedOut, false, `the command hung: ${r.stdout}${r.stderr}`);
  assert.ok(errorLines(r.stdout + r.stderr).length <= 1, `one error line at most:\n${r.stdout}${r.stderr}`);
}

h.scenario('terminal run as uid 42 with cwd /root (0700): the cwd is entered as root, the run returns 0', (rt) => {
  const b = h.bundle(rt, (c) => {
    c.process!.terminal = true;
    c.process!.user = { uid: 42, gid: 42 };
    c.process!.cwd = '/root';
    c.process!.args = ['sh', '-c', 'echo "cwd=$(pwd) uid=$(id -u)"'];
  });
  fs.chmodSync(path.join(b.dir, 'rootfs', 'root'), 0o700);
  const r = h.runTty(rt, b, BOUND);
  returned(r);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /cwd=\/root uid=42/);
});

/** Every syscall name of this architecture but chdir and fchdir (x86_64 headers). */
function allSyscallsBut(...denied: string[]): [string, ...string[]] {
  const hdr = fs.readFileSync('/usr/include/x86_64-linux-gnu/asm/unistd_64.h', 'utf8');
  const names = [...hdr.matchAll(/#define __NR_(\w+)\s+\d+/g)].map((m) => m[1]!).filter((n) => !denied.includes(n));
  return [names[0]!, ...names.slice(1)];
}
const x86 = () => (process.arch === 'x64' && fs.existsSync('/usr/include/x86_64-linux-gnu/asm/unistd_64.h') ? undefined : 'x86_64 syscall table needed');

h.scenario('terminal run with seccomp defaultErrnoRet ENXIO: the filter binds the process, not the setup; the run returns 0', (rt) => {
  const seccomp: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 6, // ENXIO
    syscalls: [{ names: allSyscallsBut('chdir', 'fchdir'), action: 'SCMP_ACT_ALLOW' }],
  };
  const b = h.bundle(rt, (c) => {
    c.process!.terminal = true;
    c.process!.args = ['/probe', 'chdir', '/'];
    c.linux!.seccomp = seccomp;
  });
  const r = h.runTty(rt, b, BOUND);
  returned(r);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /ENXIO/, 'chdir in the container gets the default errno');
}, x86);

/** A notify profile for mkdir with the agent socket at listenerPath (runc's seccomp-notify.bats). */
function notifyBundle(rt: Runtime, listenerPath: string, edit?: Parameters<typeof h.bundle>[1]) {
  return h.bundle(rt, (c) => {
    c.process!.terminal = true;
    c.process!.noNewPrivileges = false;
    c.process!.args = ['/bin/true'];
    c.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath,
      architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_X86_64'],
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
    };
    edit?.(c);
  });
}

h.scenario('terminal run with SCMP_ACT_NOTIFY and no agent (missing, abstract, stale socket): error, status 1, it returns', (rt) => {
  const dir = h.scratch('notify');
  const stale = path.join(dir, 'stale.sock');
  // A socket file nobody listens on: connect(2) is refused.
  const py = spawnSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', stale]);
  assert.equal(py.status, 0, String(py.stderr));
  for (const listener of [path.join(dir, 'missing.sock'), `@keel-conf-${process.pid}-${rt.name}`, stale]) {
    const b = notifyBundle(rt, listener);
    const r = h.runTty(rt, b, BOUND);
    returned(r);
    assert.equal(r.code, 1, `${listener}: ${r.stdout}`);
    assert.equal(errorLines(r.stdout).length, 1, r.stdout);
    assert.ok(!h.list(rt).includes(b.id), 'nothing left behind');
  }
}, x86);

h.scenario('terminal run with SCMP_ACT_NOTIFY and a startContainer hook: the hook sees only its stdio, the run returns 0', async (rt) => {
  const dir = h.scratch('agent');
  const agent = path.join(dir, 'agent');
  const cc = spawnSync('cc', ['-O1', '-o', agent, path.join(repoRoot, 'native', 'test', 'seccomp', 'agent.c')], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
  const sock = path.join(dir, 'agent.sock');
  const a = spawn(agent, [sock], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    await new Promise<void>((resolve, reject) => {
      a.stdout!.once('data', () => resolve());
      a.once('exit', (c) => reject(new Error(`agent exited ${c}`)));
    });
    // runc's check: the hook's own ls, plus 0, 1, 2 and the directory ls reads.
    const count = 'n=$(ls /proc/self/fd | wc -l); [ "$n" -eq 4 ] || { echo "fds: $n"; ls -l /proc/self/fd; exit 1; }';
    const b = notifyBundle(rt, sock, (c) => (c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', count] }] }));
    const r = h.runTty(rt, b, BOUND);
    returned(r);
    assert.equal(r.code, 0, r.stdout);
  } finally {
    a.kill('SIGKILL');
  }
}, x86);

h.scenario('create into an existing frozen cgroup is refused ("unexpectedly frozen") and returns', (rt) => {
  const cg = `/keel-conf-frozen-${process.pid}-${rt.name}`;
  const freezer = v1Hierarchies().find((d) => path.basename(d) === 'freezer')!;
  fs.mkdirSync(path.join(freezer, cg));
  try {
    fs.writeFileSync(path.join(freezer, cg, 'freezer.state'), 'FROZEN');
    const b = h.bundle(rt, (c) => (c.linux!.cgroupsPath = cg));
    const r = h.bounded(rt, BOUND, 'run', '--bundle', b.dir, b.id);
    returned(r);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /cgroup unexpectedly frozen/);
    assert.equal(fs.readFileSync(path.join(freezer, cg, 'freezer.state'), 'utf8').trim(), 'FROZEN', 'the cgroup is left as it was');
    assert.ok(!h.list(rt).includes(b.id));
  } finally {
    removeCgroup(cg);
  }
}, noV1);

/**
 * Starts `create` with a createRuntime hook that records its pid and blocks, and SIGKILLs the create
 * while the hook runs: the container's cgroups exist and its init waits in setup. Returns the
 * bundle and the pids cgroup the init sits in.
 */
async function killCreateInHook(rt: Runtime, cg: string) {
  const mark = path.join(h.scratch('kill'), 'hook.pid');
  const b = h.bundle(rt, (c) => {
    c.linux!.cgroupsPath = cg;
    c.process!.args = ['sleep', '600'];
    c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `echo $$ > ${mark}.tmp && mv ${mark}.tmp ${mark}; exec sleep 60`] }] };
  });
  const create = spawn(rt.bin, ['--root', rt.root, ...(rt.args ?? []), 'create', '--bundle', b.dir, b.id], { stdio: 'ignore' });
  const exited = new Promise((r) => create.once('exit', r));
  for (let i = 0; i < 3000 && !fs.existsSync(mark); i++) await sleep(10);
  assert.ok(fs.existsSync(mark), 'the createRuntime hook ran');
  const procs = path.join(v1Hierarchies().find((d) => path.basename(d) === 'pids')!, cg, 'cgroup.procs');
  assert.notEqual(fs.readFileSync(procs, 'utf8').trim(), '', 'the init is in its cgroup, waiting for the hook');
  create.kill('SIGKILL');
  await exited;
  process.kill(Number(fs.readFileSync(mark, 'utf8')), 'SIGKILL');
  return { b, procs };
}

h.scenario('SIGKILL of create during its createRuntime hook: the init dies with it; delete --force returns 0', async (rt) => {
  const cg = `/keel-conf-killed-${process.pid}-${rt.name}`;
  try {
    const { b, procs } = await killCreateInHook(rt, cg);
    let left = '';
    for (let i = 0; i < 1000; i++) {
      left = fs.existsSync(procs) ? fs.readFileSync(procs, 'utf8').trim() : '';
      if (!left) break;
      await sleep(10);
    }
    assert.equal(left, '', 'no process of the container survives its create');
    const d = h.bounded(rt, BOUND, 'delete', '--force', b.id);
    returned(d);
    assert.equal(d.code, 0, d.stderr);
    assert.ok(!h.list(rt).includes(b.id));
  } finally {
    removeCgroup(cg);
  }
}, noV1);

h.scenario(
  'delete --force of a create killed half-way removes its cgroups',
  async (rt) => {
    const cg = `/keel-conf-halfway-${process.pid}-${rt.name}`;
    try {
      const { b } = await killCreateInHook(rt, cg);
      assert.notDeepEqual(cgroupDirs(cg), [], 'the killed create made the cgroups');
      const d = h.bounded(rt, BOUND, 'delete', '--force', b.id);
      returned(d);
      assert.equal(d.code, 0, d.stderr);
      assert.deepEqual(cgroupDirs(cg), [], 'no cgroup of the container is left');
      assert.ok(!fs.existsSync(path.join(rt.root, b.id)), 'no state directory is left');
    } finally {
      removeCgroup(cg);
    }
  },
  (rt) => noV1() ?? (rt.name === 'runc' ? 'runc 1.1.5 leaves the cgroups of a killed create behind (no record of them without state.json)' : undefined),
);

h.finish();
