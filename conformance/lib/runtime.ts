// Conformance harness: one Runtime per OCI runtime (keel and runc, each with a private --root),
// bundles from a shared busybox+probe rootfs template, and run/create/kill/state/delete helpers.
// It drives the CLIs only (STYLE §6) and owns cleanup of every container, mount and temp dir it makes.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Spec } from '../../spec/types/runtime';
import { copyRootfs, makeBusyboxRootfs } from './rootfs';
import { probeBinary } from './probe';

export const repoRoot = path.resolve(__dirname, '..', '..');
/** bin/keel of this tree; KEEL_BIN points the suite at another build (e.g. one bundled to a temp path). */
export const keelBin = process.env.KEEL_BIN ? path.resolve(process.env.KEEL_BIN) : path.join(repoRoot, 'bin', 'keel');

export interface Runtime {
  /** "keel" or "runc"; prefixes every test name. */
  name: string;
  /** Absolute path of the CLI. */
  bin: string;
  /** Private --root state directory under the harness temp dir. */
  root: string;
  /** Why this runtime's tests are skipped, or undefined when they run. */
  skip: string | undefined;
  /** Global flags put before every verb (after --root). */
  args?: string[];
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Bundle {
  dir: string;
  id: string;
  config: Spec;
}

const isRoot = (process.getuid?.() ?? 1) === 0;

function which(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin']) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}

/** Why keel cannot run containers yet, or undefined. Checked once per file: `keel run --help` must describe `run`. */
function keelSkipReason(): string | undefined {
  if (!fs.existsSync(keelBin)) return `${keelBin} not built (run make)`;
  const r = spawnSync(keelBin, ['run', '--help'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0 || !/Usage: keel run\b/.test(String(r.stdout))) return 'keel run not available yet';
  return undefined;
}

/** The bundle every scenario starts from: `runc spec` (1.1.5) defaults, with terminal false and a writable root. */
export function baseConfig(): Spec {
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['/probe', 'report'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: [...caps], effective: [...caps], permitted: [...caps], ambient: [...caps] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: false },
    hostname: 'conformance',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
        '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/** A running `<rt> run` with piped output. */
export interface RunningContainer {
  child: ChildProcess;
  /** Resolves when stdout matches re (rejects if the process exits first). */
  waitForOutput(re: RegExp): Promise<void>;
  /** Resolves with the exit code (128+N for a signal) and all output. */
  exited: Promise<RunResult>;
}

/**
 * One conformance file: a private temp dir, the runtimes, a rootfs template built once, and the
 * final checks (no containers listed, no mounts left under the temp dir).
 */
export class Conformance {
  readonly dir: string;
  readonly runtimes: Runtime[];
  private templateDir: string | undefined;
  private n = 0;
  private readonly pending: string[] = [];
  private readonly children = new Set<ChildProcess>();

  /** opts.crun adds crun as a third runtime (when installed): the reference for features runc 1.1 lacks. */
  constructor(topic: string, opts: { crun?: boolean } = {}) {
    // 0755 all the way down: a user-namespaced container root (host uid 100000) must traverse to its rootfs.
    this.dir = fs.mkdtempSync(path.join('/tmp', `keel-conf-${topic}-`));
    fs.chmodSync(this.dir, 0o755);
    const keelSkip = isRoot ? keelSkipReason() : 'needs root';
    const runc = which('runc');
    this.runtimes = [
      { name: 'keel', bin: keelBin, root: path.join(this.dir, 'root-keel'), skip: keelSkip },
      { name: 'runc', bin: runc ?? 'runc', root: path.join(this.dir, 'root-runc'), skip: !isRoot ? 'needs root' : runc ? undefined : 'runc not installed' },
    ];
    if (opts.crun) {
      const crun = which('crun');
      const skip = !isRoot ? 'needs root' : crun ? undefined : 'crun not installed';
      this.runtimes.push({ name: 'crun', bin: crun ? this.crunWrapper(crun) : 'crun', root: path.join(this.dir, 'root-crun'), skip, args: ['--cgroup-manager=disabled'] });
    }
    after(() => this.destroy());
  }

  /**
   * Registers one test per runtime. `unsupported` may name a runtime version that predates the
   * feature (e.g. runc 1.1 and domainname), which skips that runtime with the given reason.
   */
  scenario(name: string, fn: (rt: Runtime) => Promise<void> | void, unsupported?: (rt: Runtime) => string | undefined): void {
    for (const rt of this.runtimes) {
      const skip = rt.skip ?? (unsupported ? unsupported(rt) : undefined);
      test(`${rt.name}: ${name}`, { skip: skip ?? false }, async () => {
        try {
          await fn(rt);
        } finally {
          // A failed scenario must not leak its containers into the next one's "nothing listed" checks.
          for (const id of this.pending.splice(0)) if (this.list(rt).includes(id)) this.cli(rt, 'delete', '--force', id);
        }
      });
    }
  }

  /**
   * crun 1.8 refuses hybrid hosts whose cgroup2 hierarchy has controllers ("cgroups in hybrid mode
   * not supported", libcrun/cgroup.c), before it looks at --cgroup-manager. The scenarios that
   * bring crun in do not test cgroups, so crun runs in a private mount namespace that sees a bare
   * cgroup2 on /sys/fs/cgroup, with its cgroup manager disabled; the host's mounts are untouched.
   */
  private crunWrapper(crun: string): string {
    const w = path.join(this.dir, 'crun');
    const script = `#!/bin/sh\nexec unshare -m --propagation private sh -c 'mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec ${crun} "$@"' crun "$@"\n`;
    fs.writeFileSync(w, script, { mode: 0o755 });
    return w;
  }

  /** [major, minor] of `<rt> --version` ("runc version 1.1.5+ds1"), or undefined. */
  version(rt: Runtime): [number, number] | undefined {
    const r = spawnSync(rt.bin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
    const m = /version\s+(\d+)\.(\d+)/.exec(String(r.stdout));
    return m ? [Number(m[1]), Number(m[2])] : undefined;
  }

  /** For `unsupported`: a reason when rt is runc older than major.minor. */
  runcBefore(major: number, minor: number, why: string): (rt: Runtime) => string | undefined {
    return this.before('runc', major, minor, why);
  }

  /** For `unsupported`: a reason when rt is the runtime `name` older than major.minor. */
  before(name: string, major: number, minor: number, why: string): (rt: Runtime) => string | undefined {
    return (rt) => {
      if (rt.name !== name) return undefined;
      const v = this.version(rt);
      return v && (v[0] < major || (v[0] === major && v[1] < minor)) ? `${name} ${v.join('.')} predates ${why}` : undefined;
    };
  }

  /** Registers the closing checks; call once, after every scenario. */
  finish(): void {
    this.scenario('no containers or mounts left behind', (rt) => {
      const listed = this.list(rt);
      for (const id of listed) this.cli(rt, 'delete', '--force', id);
      assert.deepEqual(listed, [], `${rt.name} list -q after the file`);
      assert.deepEqual(this.mountsUnderDir(), [], 'mounts under the temp dir');
    });
  }

  /** The busybox rootfs with /probe, built once per file. */
  template(): string {
    if (!this.templateDir) {
      const t = path.join(this.dir, 'template');
      fs.mkdirSync(t, { mode: 0o755 });
      makeBusyboxRootfs(t);
      fs.copyFileSync(probeBinary(), path.join(t, 'probe'));
      fs.chmodSync(path.join(t, 'probe'), 0o755);
      this.templateDir = t;
    }
    return this.templateDir;
  }

  /** A fresh bundle with its own rootfs copy and a unique id; edit changes the config before it is written. */
  bundle(rt: Runtime, edit?: (c: Spec) => void): Bundle {
    const id = `conf-${process.pid}-${++this.n}-${rt.name}`;
    const dir = path.join(this.dir, 'bundles', id);
    this.pending.push(id);
    fs.mkdirSync(path.join(dir, 'rootfs'), { recursive: true, mode: 0o755 });
    fs.chmodSync(path.join(this.dir, 'bundles'), 0o755);
    copyRootfs(this.template(), path.join(dir, 'rootfs'));
    const config = baseConfig();
    edit?.(config);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
    return { dir, id, config };
  }

  /** A scratch directory (0755) under the temp dir, for bind mounts and hook logs. */
  scratch(name: string): string {
    const d = path.join(this.dir, 'scratch', `${++this.n}-${name}`);
    fs.mkdirSync(d, { recursive: true, mode: 0o755 });
    fs.chmodSync(path.dirname(d), 0o755);
    return d;
  }

  /** `<rt> --root R args...`, synchronously. */
  cli(rt: Runtime, ...args: string[]): RunResult {
    const r = spawnSync(rt.bin, ['--root', rt.root, ...(rt.args ?? []), ...args], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.error) throw r.error;
    return { code: r.status ?? 128 + signalNumber(r.signal), stdout: String(r.stdout), stderr: String(r.stderr) };
  }

  /**
   * `<rt> --root R args...` bounded by timeoutMs and killed with SIGKILL when it runs over (a verb
   * that forwards SIGTERM to its container would outlive the default kill). timedOut says it hung.
   */
  bounded(rt: Runtime, timeoutMs: number, ...args: string[]): RunResult & { timedOut: boolean } {
    const r = spawnSync(rt.bin, ['--root', rt.root, ...(rt.args ?? []), ...args], { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'] });
    const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
    if (r.error && !timedOut) throw r.error;
    return { code: r.status ?? 128 + signalNumber(r.signal), stdout: String(r.stdout), stderr: String(r.stderr), timedOut };
  }

  /**
   * `run` in the foreground with a terminal on its stdio (util-linux script), as a user at a shell
   * runs it: process.terminal without --console-socket makes the runtime hold the pty itself.
   * Bounded like bounded(); stdout and stderr arrive merged in `stdout`.
   */
  runTty(rt: Runtime, b: Bundle, timeoutMs = 30_000, extra: string[] = []): RunResult & { timedOut: boolean } {
    const q = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
    const cmd = [rt.bin, '--root', rt.root, ...(rt.args ?? []), 'run', ...extra, '--bundle', b.dir, b.id].map(q).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', input: '' });
    const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
    if (r.error && !timedOut) throw r.error;
    return { code: r.status ?? 128 + signalNumber(r.signal), stdout: String(r.stdout).replace(/\r/g, ''), stderr: '', timedOut };
  }

  /** Runs the bundle's process to completion (`run --bundle B ID`, stdio pipes, no terminal). */
  run(rt: Runtime, b: Bundle): RunResult {
    return this.cli(rt, 'run', '--bundle', b.dir, b.id);
  }

  /** Starts `run` in the background. */
  runAsync(rt: Runtime, b: Bundle): RunningContainer {
    const child = spawn(rt.bin, ['--root', rt.root, ...(rt.args ?? []), 'run', '--bundle', b.dir, b.id], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    let stdout = '';
    let stderr = '';
    const waiters: { re: RegExp; resolve: () => void; reject: (e: Error) => void }[] = [];
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      for (const w of [...waiters]) if (w.re.test(stdout)) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<RunResult>((resolve) => {
      child.on('close', (code, signal) => {
        this.children.delete(child);
        for (const w of waiters.splice(0)) w.reject(new Error(`run exited (${code ?? signal}) before ${w.re}: ${stdout}${stderr}`));
        resolve({ code: code ?? 128 + signalNumber(signal), stdout, stderr });
      });
    });
    return {
      child,
      exited,
      waitForOutput: (re) =>
        new Promise<void>((resolve, reject) => {
          if (re.test(stdout)) resolve();
          else if (child.exitCode !== null || child.signalCode !== null) reject(new Error(`run already exited: ${stdout}${stderr}`));
          else waiters.push({ re, resolve, reject });
        }),
    };
  }

  /** `create --bundle B ID` with the container's stdout/stderr sent to files in the bundle (see output()). */
  create(rt: Runtime, b: Bundle): RunResult {
    const out = fs.openSync(path.join(b.dir, 'stdout'), 'w');
    const err = fs.openSync(path.join(b.dir, 'stderr'), 'w');
    try {
      const r = spawnSync(rt.bin, ['--root', rt.root, ...(rt.args ?? []), 'create', '--bundle', b.dir, b.id], { timeout: 60_000, stdio: ['ignore', out, err] });
      if (r.error) throw r.error;
      return { code: r.status ?? 128 + signalNumber(r.signal), ...this.output(b) };
    } finally {
      fs.closeSync(out);
      fs.closeSync(err);
    }
  }

  /** What a created container (and the create command) wrote so far. */
  output(b: Bundle): { stdout: string; stderr: string } {
    const read = (f: string) => (fs.existsSync(path.join(b.dir, f)) ? fs.readFileSync(path.join(b.dir, f), 'utf8') : '');
    return { stdout: read('stdout'), stderr: read('stderr') };
  }

  /** Parsed `state ID`; throws with the CLI's stderr when it fails. */
  state(rt: Runtime, id: string): { status: string; pid?: number; id: string; bundle: string } {
    const r = this.cli(rt, 'state', id);
    if (r.code !== 0) throw new Error(`state ${id}: exit ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  /** Polls state until status matches (the process may take a moment to be reaped). */
  async waitForStatus(rt: Runtime, id: string, status: string): Promise<void> {
    for (let i = 0; i < 500; i++) {
      if (this.state(rt, id).status === status) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(this.state(rt, id).status, status, `state of ${id}`);
  }

  list(rt: Runtime): string[] {
    if (!fs.existsSync(rt.root)) return [];
    const r = this.cli(rt, 'list', '-q');
    assert.equal(r.code, 0, `list -q: ${r.stderr}`);
    return r.stdout.split('\n').filter(Boolean);
  }

  /** Host mount points under this file's temp dir (a leak if any remain after a container is deleted). */
  mountsUnderDir(): string[] {
    return fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m === this.dir || m.startsWith(this.dir + '/'));
  }

  /** Best-effort teardown, even after failures: kill run children, force-delete, unmount, remove the temp dir. */
  destroy(): void {
    for (const c of this.children) if (c.pid) c.kill('SIGKILL');
    for (const rt of this.runtimes) {
      if (rt.skip) continue;
      try {
        for (const id of this.list(rt)) this.cli(rt, 'delete', '--force', id);
      } catch {
        /* keep cleaning */
      }
    }
    for (const m of this.mountsUnderDir().reverse()) spawnSync('umount', ['-l', m]);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The error lines of a runtime's log output: logrus text (level=error), its terminal form (ERRO) or JSON. */
export function errorLines(text: string): string[] {
  // logrus colours the level on a terminal ("\x1b[31mERRO\x1b[0m"), so no word boundary before it.
  return text.split('\n').filter((l) => /level=error|ERRO(?!R)|"level":"error"/.test(l));
}

/** The cgroup v1 hierarchies mounted under /sys/fs/cgroup (empty on a cgroup v2 host). */
export function v1Hierarchies(): string[] {
  return cgroupMounts(['cgroup']);
}

/** Mount points directly under /sys/fs/cgroup of the given filesystem types. */
function cgroupMounts(types: string[]): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.length > 8 && types.includes(f[f.indexOf('-') + 1]!) && path.dirname(f[4]!) === '/sys/fs/cgroup')
    .map((f) => f[4]!);
}

/** Every directory a cgroupsPath has under /sys/fs/cgroup (v1 hierarchies and a hybrid cgroup2). */
export function cgroupDirs(cgroupsPath: string): string[] {
  return cgroupMounts(['cgroup', 'cgroup2'])
    .map((h) => path.join(h, cgroupsPath))
    .filter((d) => fs.existsSync(d));
}

/**
 * Removes a test's cgroupsPath from every hierarchy under /sys/fs/cgroup (the hybrid layout's
 * cgroup2 too): thawed everywhere first, then emptied, then removed deepest first.
 */
export function removeCgroup(cgroupsPath: string): void {
  const tops = cgroupDirs(cgroupsPath);
  const dirs = tops.flatMap((top) => spawnSync('find', [top, '-depth', '-type', 'd'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean));
  const quietly = (f: () => void) => {
    try {
      f();
    } catch {
      /* gone meanwhile */
    }
  };
  for (const d of dirs) if (fs.existsSync(path.join(d, 'freezer.state'))) quietly(() => fs.writeFileSync(path.join(d, 'freezer.state'), 'THAWED'));
  for (const d of dirs) {
    quietly(() => {
      for (const pid of fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) quietly(() => process.kill(Number(pid), 'SIGKILL'));
    });
  }
  for (const d of dirs) {
    for (let i = 0; i < 100; i++) {
      try {
        fs.rmdirSync(d);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EBUSY') break;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
  }
}

const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

function signalNumber(sig: NodeJS.Signals | null): number {
  return sig ? (signals[sig] ?? 0) : 0;
}

/** Linux capability numbers (linux/capability.h), for building CapXxx masks. */
export const capNumbers: Record<string, number> = {
  CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_DAC_READ_SEARCH: 2, CAP_FOWNER: 3, CAP_FSETID: 4, CAP_KILL: 5, CAP_SETGID: 6,
  CAP_SETUID: 7, CAP_SETPCAP: 8, CAP_LINUX_IMMUTABLE: 9, CAP_NET_BIND_SERVICE: 10, CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12, CAP_NET_RAW: 13, CAP_IPC_LOCK: 14, CAP_IPC_OWNER: 15, CAP_SYS_MODULE: 16, CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18, CAP_SYS_PTRACE: 19, CAP_SYS_PACCT: 20, CAP_SYS_ADMIN: 21, CAP_SYS_BOOT: 22, CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24, CAP_SYS_TIME: 25, CAP_SYS_TTY_CONFIG: 26, CAP_MKNOD: 27, CAP_LEASE: 28, CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30, CAP_SETFCAP: 31, CAP_MAC_OVERRIDE: 32, CAP_MAC_ADMIN: 33, CAP_SYSLOG: 34, CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36, CAP_AUDIT_READ: 37, CAP_PERFMON: 38, CAP_BPF: 39, CAP_CHECKPOINT_RESTORE: 40,
};

/** The 16-hex-digit mask /proc/self/status shows for a set of capability names. */
export function capMask(names: readonly string[] = []): string {
  let m = 0n;
  for (const n of names) {
    const bit = capNumbers[n];
    if (bit === undefined) throw new Error(`unknown capability ${n}`);
    m |= 1n << BigInt(bit);
  }
  return m.toString(16).padStart(16, '0');
}
