// launchInit against the real kernel, as root: a busybox rootfs in a private temp dir, real
// namespaces, real mounts (inside the container's own mount namespace), output via a file.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Spec } from '../../spec/types/runtime';
import { ChildError } from '../errors/index';
import type { Logger } from '../log/index';
import { P_PIDFD, POLLIN, realSys } from '../native/index';
import { launchInit, launchJoin, type LaunchRequest } from './launch';
import { Step } from './sync';

const skip = process.getuid?.() !== 0 ? 'needs root' : !fs.existsSync('/bin/busybox') ? 'needs /bin/busybox' : false;

const log: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => log };
let tmp = '';
let baseline = new Set<string>();
let rootfs = '';

before(() => {
  if (skip) return;
  baseline = children();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-launch-'));
  rootfs = path.join(tmp, 'rootfs');
  for (const d of ['bin', 'proc', 'dev', 'sys']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin/busybox'));
  fs.chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
  for (const n of execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n')) {
    if (n && n !== 'busybox') fs.symlinkSync('busybox', path.join(rootfs, 'bin', n));
  }
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

function baseSpec(args: string[]): Spec {
  return {
    ociVersion: '1.0.2',
    process: { args, cwd: '/', env: ['PATH=/bin'] },
    root: { path: rootfs },
    hostname: 'keeltest',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'ipc' }, { type: 'network' }],
      maskedPaths: ['/proc/acpi', '/proc/timer_list', '/proc/nonexistent'],
      readonlyPaths: ['/proc/sys'],
    },
  };
}

let seq = 0;

/** Launches spec with stdout/stderr to a file; returns the output and exit status once it exits. */
function run(spec: Spec, extra: Partial<LaunchRequest> = {}): { out: string; status: number; pid: number } {
  const outPath = path.join(tmp, `out-${++seq}`);
  const out = fs.openSync(outPath, 'w');
  const nul = fs.openSync('/dev/null', 'r');
  try {
    const { pid } = launchInit({
      id: `t${seq}`,
      spec,
      bundle: tmp,
      rootfs,
      execFifo: null,
      preserveFds: 0,
      noPivot: false,
      noNewKeyring: false,
      log,
      stdio: [nul, out, out],
      ...extra,
    });
    const w = waitExit(pid);
    return { out: fs.readFileSync(outPath, 'utf8'), status: w, pid };
  } finally {
    fs.closeSync(out);
    fs.closeSync(nul);
  }
}

function waitExit(pid: number): number {
  const pidfd = realSys.pidfdOpen(pid);
  try {
    const w = realSys.waitid(P_PIDFD, pidfd, 0)!;
    return w.code === 1 ? w.status : 128 + w.status;
  } finally {
    fs.closeSync(pidfd);
  }
}

/** Our children, dead or alive (tsx keeps an esbuild child of its own, so compare snapshots). */
function children(): Set<string> {
  const out = new Set<string>();
  for (const t of fs.readdirSync('/proc/self/task')) {
    for (const pid of fs.readFileSync(`/proc/self/task/${t}/children`, 'utf8').split(' ')) if (pid.trim()) out.add(pid.trim());
  }
  return out;
}

/** No child of ours is left beyond those that existed before the tests. */
function assertNoChildren(): void {
  const extra = [...children()].filter((p) => !baseline.has(p));
  assert.deepEqual(extra, [], 'children left behind');
}

test('runs as pid 1 with its hostname, mounts, devices, masks', { skip }, () => {
  const r = run(baseSpec(['sh', '-c', 'echo $$; hostname; cat /proc/self/mountinfo; ls -ln /dev/null; cat /proc/timer_list | wc -c; echo x > /proc/sys/kernel/hostname 2>&1; echo end']));
  assert.equal(r.status, 0, r.out);
  const lines = r.out.split('\n');
  assert.equal(lines[0], '1');
  assert.equal(lines[1], 'keeltest');
  const mounts = lines.filter((l) => / - /.test(l)).map((l) => l.split(' ')[4]);
  for (const m of ['/', '/proc', '/dev', '/dev/pts', '/sys', '/proc/sys', '/proc/acpi', '/proc/timer_list']) {
    assert.ok(mounts.includes(m), `${m} mounted: ${mounts.join(' ')}`);
  }
  assert.match(r.out, /^\S+ \S+ \S+ \/sys \/proc\/sys ro,/m);
  assert.match(r.out, /crw-rw-rw- +1 0 +0 +1, +3 .* \/dev\/null/);
  assert.match(r.out, /^0$/m, 'timer_list masked by /dev/null');
  assert.match(r.out, /Read-only file system/);
  assert.ok(r.out.endsWith('end\n'));
  assertNoChildren();
});

test('exec fifo: the init blocks until the fifo is opened for reading', { skip }, () => {
  const fifo = path.join(tmp, 'exec.fifo');
  realSys.mkfifo(fifo, 0o622);
  const outPath = path.join(tmp, 'fifo-out');
  const out = fs.openSync(outPath, 'w');
  try {
    const launched = launchInit({
      id: 'fifo', spec: baseSpec(['echo', 'started']), bundle: tmp, rootfs, execFifo: fifo,
      preserveFds: 0, noPivot: false, noNewKeyring: false, log, stdio: [-1, out, out],
    });
    const { pid } = launched;
    launched.commit();
    // READY is sent just before the open: under load the child may still be running towards it.
    let stat = '';
    for (let i = 0; i < 500; i++) {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!/^\d+ \(rt:init\) R /.test(stat)) break;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
    assert.match(stat, /^\d+ \(rt:init\) S /, 'init is sleeping in the fifo open, not exec\'d');
    assert.equal(fs.readFileSync(outPath, 'utf8'), '');
    const rd = fs.openSync(fifo, 'r');
    const buf = Buffer.alloc(8);
    const n = fs.readSync(rd, buf);
    fs.closeSync(rd);
    assert.equal(buf.subarray(0, n).toString(), '0');
    assert.equal(waitExit(pid), 0);
    assert.equal(fs.readFileSync(outPath, 'utf8'), 'started\n');
  } finally {
    fs.closeSync(out);
    fs.rmSync(fifo, { force: true });
  }
  assertNoChildren();
});

test('a failing mount names the step and path, and leaves no child', { skip }, () => {
  const spec = baseSpec(['true']);
  spec.mounts!.push({ destination: '/data', type: 'bind', source: path.join(tmp, 'no-such-dir'), options: ['rbind'] });
  assert.throws(
    () => run(spec),
    (e: ChildError) => e instanceof ChildError && e.step === Step.MOUNTS && e.message === `mount ${path.join(tmp, 'no-such-dir')} on /data: ENOENT`,
  );
  assertNoChildren();
});

test('apparmorProfile: the child writes "exec <profile>" to its own procfs attr file at step APPARMOR', { skip }, () => {
  // The launcher itself does not check the host (create and exec do, src/runtime/lsm.ts), so on
  // any kernel the child opens its attr file on the container's procfs and writes. A kernel
  // without AppArmor has no attr/apparmor/ (fallback: attr/exec) and rejects the write (EINVAL);
  // one with AppArmor does not know this profile (ENOENT). Either way: step, item and errno.
  const spec = baseSpec(['true']);
  spec.process!.apparmorProfile = 'keel-no-such-profile';
  assert.throws(
    () => run(spec),
    (e: ChildError) =>
      e instanceof ChildError &&
      e.step === Step.APPARMOR &&
      e.item === 2 &&
      /^apparmor profile "keel-no-such-profile": (EINVAL|ENOENT \(is the profile loaded\? apparmor_parser -r <file>\))$/.test(e.message),
  );
  assertNoChildren();
});

test('an unknown executable is reported like runc', { skip }, () => {
  assert.throws(() => run(baseSpec(['no-such-cmd'])), (e: Error) => e.message === 'exec: "no-such-cmd": executable file not found in $PATH');
  assertNoChildren();
});

test('CVE-2019-5736: #!/proc/self/exe is refused', { skip }, () => {
  fs.writeFileSync(path.join(rootfs, 'evil'), '#!/proc/self/exe\nconsole.log(1)\n', { mode: 0o755 });
  assert.throws(() => run(baseSpec(['/evil'])), /exec \/evil: refusing to execute the runtime binary/);
  fs.symlinkSync('/proc/self/exe', path.join(rootfs, 'evil-link'));
  assert.throws(() => run(baseSpec(['/evil-link'])), /refusing to execute the runtime binary/);
  assertNoChildren();
});

test('scripts run through their interpreter with kernel argv semantics', { skip }, () => {
  fs.writeFileSync(path.join(rootfs, 'script'), '#!/bin/sh -e\necho "$0" "$@"\n', { mode: 0o755 });
  const r = run(baseSpec(['/script', 'a', 'b']));
  assert.equal(r.out, '/script a b\n');
});

test('user namespace, user/groups, capabilities, no_new_privs, rlimits, umask, sysctl, readonly root', { skip }, () => {
  const spec = baseSpec([
    'sh',
    '-c',
    'id; grep -E "^(CapEff|CapPrm|CapBnd|CapAmb|NoNewPrivs)" /proc/self/status; ulimit -n; umask; cat /proc/sys/net/ipv4/ip_forward; touch /x 2>&1; cat /proc/self/uid_map',
  ]);
  spec.root!.readonly = true;
  spec.linux!.namespaces!.push({ type: 'user' });
  spec.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
  spec.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
  spec.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
  spec.process!.user = { uid: 1000, gid: 1000, additionalGids: [10], umask: 0o077 };
  spec.process!.capabilities = { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL'] };
  spec.process!.noNewPrivileges = true;
  spec.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 321, hard: 512 }];
  // The mapped root must be able to reach and own the rootfs, as with any user-namespaced bundle.
  fs.chmodSync(tmp, 0o755);
  fs.chownSync(rootfs, 200000, 200000);
  let r: ReturnType<typeof run>;
  try {
    r = run(spec);
  } finally {
    fs.chownSync(rootfs, 0, 0);
  }
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /uid=1000 gid=1000 groups=10/);
  assert.match(r.out, /CapEff:\t0000000000000020/);
  assert.match(r.out, /CapPrm:\t0000000000000020/);
  assert.match(r.out, /CapBnd:\t0000000000000021/);
  assert.match(r.out, /CapAmb:\t0000000000000020/);
  assert.match(r.out, /NoNewPrivs:\t1/);
  assert.match(r.out, /^321$/m);
  assert.match(r.out, /^0077$/m);
  assert.match(r.out, /^1$/m, 'sysctl written in the container netns');
  assert.match(r.out, /Read-only file system/);
  assert.match(r.out, /^\s+0\s+200000\s+65536$/m);
  assertNoChildren();
});

test('--no-pivot and rootfsPropagation', { skip }, () => {
  const spec = baseSpec(['sh', '-c', 'cat /proc/self/mountinfo']);
  spec.linux!.rootfsPropagation = 'shared';
  const r = run(spec, { noPivot: true });
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /^\d+ \d+ \S+ \S+ \/ .*shared:/m);
});

/** A console-socket receiver like runc's tests/cmd/recvtty, in python3 (Node cannot receive fds). */
const RECVTTY = `
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 1024, 1)
out = open(sys.argv[2], 'wb')
out.write(msg + b'\\n')
while True:
    try:
        b = os.read(fds[0], 4096)
    except OSError:
        break
    if not b:
        break
    out.write(b)
out.close()
`;

test('terminal: pty from the container devpts handed over the console socket', { skip }, async () => {
  const { spawn } = await import('node:child_process');
  const sock = path.join(tmp, 'console.sock');
  const outPath = path.join(tmp, 'console.out');
  const py = spawn('python3', ['-c', RECVTTY, sock, outPath], { stdio: 'inherit' });
  const exited = new Promise<number | null>((resolve) => py.on('exit', resolve));
  try {
    for (let i = 0; i < 500 && !fs.existsSync(sock); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    const spec = baseSpec(['sh', '-c', 'tty; grep -c " /dev/console " /proc/self/mountinfo; stty size']);
    spec.process!.terminal = true;
    spec.process!.consoleSize = { height: 30, width: 100 };
    const { pid } = launchInit({
      id: 'tty', spec, bundle: tmp, rootfs, execFifo: null, preserveFds: 0,
      noPivot: false, noNewKeyring: false, log, consoleSocket: sock,
    });
    assert.equal(waitExit(pid), 0);
    assert.equal(await exited, 0);
    const out = fs.readFileSync(outPath, 'utf8').replace(/\r/g, '');
    assert.equal(out, '/dev/ptmx\n/dev/pts/0\n1\n30 100\n');
  } finally {
    py.kill();
  }
  assertNoChildren();
});

test('launchJoin: a process joins every namespace of a running init', { skip }, () => {
  const spec = baseSpec(['sleep', '30']);
  const nul = fs.openSync('/dev/null', 'r');
  const outPath = path.join(tmp, 'join.out');
  const out = fs.openSync(outPath, 'w');
  const { pid } = launchInit({
    id: 'join', spec, bundle: tmp, rootfs, execFifo: null, preserveFds: 0,
    noPivot: false, noNewKeyring: false, log, stdio: [nul, nul, nul],
  });
  const initFd = realSys.pidfdOpen(pid);
  try {
    const r = launchJoin({
      id: 'join', initPid: pid, spec, bundle: tmp, preserveFds: 0, log, stdio: [nul, out, out],
      process: { args: ['sh', '-c', 'echo $$; hostname; cat /proc/1/cmdline; echo; cat /proc/self/status | grep NoNewPrivs'], cwd: '/', env: ['PATH=/bin'], noNewPrivileges: true },
    });
    const fd = realSys.pidfdOpen(r.pid);
    assert.ok(realSys.poll(fd, POLLIN, 20_000) > 0, 'joined process exits');
    fs.closeSync(fd);
    const lines = fs.readFileSync(outPath, 'utf8').split('\n');
    assert.notEqual(lines[0], '1');
    assert.ok(Number(lines[0]) > 1 && Number(lines[0]) < 100, `pid in the container namespace: ${lines[0]}`);
    assert.equal(lines[1], 'keeltest');
    assert.equal(lines[2], 'sleep\u000030\u0000');
    assert.equal(lines[3], 'NoNewPrivs:\t1');
  } finally {
    realSys.pidfdSendSignal(initFd, 9);
    realSys.waitid(P_PIDFD, initFd, 0);
    fs.closeSync(initFd);
    fs.closeSync(out);
    fs.closeSync(nul);
  }
  assertNoChildren();
});
