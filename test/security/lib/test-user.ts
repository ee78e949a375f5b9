// A real unprivileged user for rootless tests: made with useradd (unique name, subordinate id
// ranges in /etc/subuid and /etc/subgid), commands run as it through setpriv with no capabilities,
// and removed again with its processes, its ranges and its entries, even after a failure.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Spec } from '../../../spec/types/runtime';
import { copyRootfs } from '../../../conformance/lib/rootfs';
import { rootfsTemplate } from '../../helpers/bundle';
import { run, type RunResult } from '../../helpers/keel';

export type TestUser = {
  name: string;
  uid: number;
  gid: number;
  /** First id of the user's /etc/subuid range and its length (the same range in /etc/subgid). */
  subuid: number;
  subgid: number;
  subCount: number;
};

export type AsUserOptions = {
  /** Extra environment (XDG_RUNTIME_DIR, PATH, ...); nothing else of ours is passed on. */
  env?: Record<string, string>;
  /**
   * Also empty the bounding set (setpriv --bounding-set=-all). Then a setuid helper such as
   * newuidmap gains nothing either, so only a single self-mapping can work.
   */
  noBounding?: boolean;
  /**
   * Start in this cgroup v2 directory: root writes the launcher's pid into its cgroup.procs before
   * dropping to the user, as systemd starts a user's session inside its delegated subtree.
   */
  cgroup?: string;
  /** ms before the command is killed (run's default, 60 s, is short for the emulated cgv2 VM). */
  timeout?: number;
};

const SUB_MIN = 100000;
const SUB_COUNT = 65536;

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.error?.message ?? r.stderr.trim()}`);
}

/** The name's line in /etc/subuid or /etc/subgid as [start, count]. */
function subRange(file: string, name: string): [number, number] | undefined {
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const [n, start, count] = line.split(':');
    if (n === name && start && count) return [Number(start), Number(count)];
  }
  return undefined;
}

/** The first id after every range already given out in either file. */
function nextFreeSubId(): number {
  let next = SUB_MIN;
  for (const file of ['/etc/subuid', '/etc/subgid']) {
    for (const line of fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : []) {
      const [, start, count] = line.split(':');
      if (start && count) next = Math.max(next, Number(start) + Number(count));
    }
  }
  return next;
}

/**
 * Creates the user with a private group and no home. useradd gives it subordinate ranges itself
 * when login.defs has SUB_UID_MIN (Debian's default); otherwise they are added with usermod.
 */
export function createTestUser(name: string): TestUser {
  sh('useradd', ['-M', '-U', '-d', '/nonexistent', '-s', '/usr/sbin/nologin', name]);
  const ids = spawnSync('id', [name], { encoding: 'utf8' }).stdout;
  const uid = Number(/uid=(\d+)/.exec(ids)?.[1]);
  const gid = Number(/gid=(\d+)/.exec(ids)?.[1]);
  for (const [file, flag] of [
    ['/etc/subuid', '--add-subuids'],
    ['/etc/subgid', '--add-subgids'],
  ] as const) {
    if (fs.existsSync(file) && subRange(file, name)) continue;
    const start = nextFreeSubId();
    sh('usermod', [flag, `${start}-${start + SUB_COUNT - 1}`, name]);
  }
  const su = subRange('/etc/subuid', name);
  const sg = subRange('/etc/subgid', name);
  if (!su || !sg) throw new Error(`no subordinate ids for ${name}`);
  return {
    name,
    uid,
    gid,
    subuid: su[0],
    subgid: sg[0],
    subCount: Math.min(su[1], sg[1]),
  };
}

/** Host pids of every live (not zombie) process running as the user or as one of its subordinate uids. */
export function processesOf(u: TestUser): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let status: string;
    try {
      status = fs.readFileSync(`/proc/${e}/status`, 'utf8');
    } catch {
      continue; // gone
    }
    if (/^State:\s+Z/m.test(status)) continue; // dead, waiting for the host's pid 1 to reap it
    const ruid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    if (ruid === u.uid || (ruid >= u.subuid && ruid < u.subuid + u.subCount)) out.push(Number(e));
  }
  return out;
}

/** processesOf once none is left or after a bounded wait (SIGKILLed tasks take a moment to exit). */
export function settledProcessesOf(u: TestUser, waitMs = 10_000): number[] {
  const deadline = Date.now() + waitMs;
  let left = processesOf(u);
  while (left.length > 0 && Date.now() < deadline) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    left = processesOf(u);
  }
  return left;
}

/**
 * Removes the user: SIGKILL to its remaining processes (all started by the test through it),
 * userdel, and any line of it userdel left in /etc/subuid or /etc/subgid.
 */
export function removeTestUser(u: TestUser): void {
  for (const pid of processesOf(u)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  spawnSync('userdel', [u.name]);
  for (const file of ['/etc/subuid', '/etc/subgid']) {
    if (!fs.existsSync(file) || !subRange(file, u.name)) continue;
    const kept = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith(`${u.name}:`));
    fs.writeFileSync(file, kept.join('\n'));
  }
}

/** Runs bin with args as the user: real and effective ids and groups set, no capabilities at all. */
export function asUser(u: TestUser, bin: string, args: readonly string[], opts: AsUserOptions = {}): RunResult {
  const env = {
    PATH: `${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`,
    ...opts.env,
  };
  const setpriv = [
    `--reuid=${u.uid}`,
    `--regid=${u.gid}`,
    '--init-groups',
    '--inh-caps=-all',
    ...(opts.noBounding ? ['--bounding-set=-all'] : []),
    'env',
    '-i',
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    bin,
    ...args,
  ];
  const o = opts.timeout ? { timeout: opts.timeout } : {};
  if (opts.cgroup) return run('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec setpriv "$@"', opts.cgroup, ...setpriv], o);
  return run('setpriv', setpriv, o);
}

/** Gives a tree to the user (lchown: symlinks themselves, never their targets). */
function chownTree(p: string, uid: number, gid: number): void {
  fs.lchownSync(p, uid, gid);
  if (fs.lstatSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chownTree(path.join(p, e), uid, gid);
}

/**
 * A bundle owned by the user under parent: the busybox rootfs template copied in, config.json from
 * `keel spec --rootless` run as the user (specAsUser), then terminal off and edit applied.
 */
export function userBundle(parent: string, u: TestUser, specAsUser: (dir: string) => RunResult, edit: (s: Spec) => void): string {
  const dir = fs.mkdtempSync(path.join(parent, 'b-'));
  fs.chmodSync(dir, 0o755);
  fs.mkdirSync(path.join(dir, 'rootfs'));
  copyRootfs(rootfsTemplate(), path.join(dir, 'rootfs'));
  chownTree(dir, u.uid, u.gid);
  const s = specAsUser(dir);
  assert.equal(s.code, 0, s.stderr);
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Spec;
  spec.process!.terminal = false;
  edit(spec);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec, null, 2));
  return dir;
}
