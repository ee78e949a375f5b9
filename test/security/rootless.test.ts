// Rootless containers: a real unprivileged user, made here, runs bin/keel (and runc 1.1.5 on the same
// bundle where runc can) on `keel spec --rootless` bundles with no capability at all, and every
// check is made from inside the container and from the host: id maps, identity, mounts, devices,
// capabilities, cgroups skipped, refused or delegated, and nothing left after delete.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { Spec } from '../../spec/types/runtime';
import { cleanupTemplate } from '../helpers/bundle';
import { errorMessage, isRoot, repoRoot, tempDir, which, type RunResult } from '../helpers/keel';
import { asUser, createTestUser, removeTestUser, settledProcessesOf, userBundle, type AsUserOptions, type TestUser } from './lib/test-user';

const runc = which('runc');
const missing = ['useradd', 'userdel', 'usermod', 'setpriv'].filter((c) => !which(c));
const skip = !isRoot ? 'needs root (to create the test user)' : missing.length ? `${missing.join(', ')} not installed` : false;

const tmp = tempDir('keel-rootless-');
let user: TestUser | undefined;
/** Our build, copied where the user can surely reach it (the repo may sit under a 0700 dir). */
const prefix = path.join(tmp.dir, 'keel');
const keelBin = path.join(prefix, 'bin', 'keel');
const xdg = path.join(tmp.dir, 'xdg');
const delegated: string[] = [];
let n = 0;
const uid = () => `rl-${process.pid}-${++n}`;

function u(): TestUser {
  if (!user) throw new Error('no test user');
  return user;
}

/** bin/keel as the user, with its XDG_RUNTIME_DIR (so the default --root is $XDG_RUNTIME_DIR/keel). */
const k = (args: string[], o: AsUserOptions = {}) =>
  asUser(u(), keelBin, args, {
    noBounding: true,
    ...o,
    env: { XDG_RUNTIME_DIR: xdg, ...o.env },
  });
const r = (args: string[], o: AsUserOptions = {}) =>
  asUser(u(), runc!, args, {
    noBounding: true,
    ...o,
    env: { XDG_RUNTIME_DIR: xdg, ...o.env },
  });

before(() => {
  if (skip) return;
  fs.chmodSync(tmp.dir, 0o755);
  for (const rel of ['bin/keel', 'dist/keel.js', 'dist/keel.js.cache', 'native/build/Release/keel.node']) {
    const src = path.join(repoRoot, rel);
    if (!fs.existsSync(src)) continue;
    fs.mkdirSync(path.dirname(path.join(prefix, rel)), {
      recursive: true,
      mode: 0o755,
    });
    fs.copyFileSync(src, path.join(prefix, rel));
    fs.chmodSync(path.join(prefix, rel), rel.startsWith('bin/') ? 0o755 : 0o644);
  }
  user = createTestUser(`keelrl${process.pid}`);
  fs.mkdirSync(xdg, { mode: 0o700 });
  fs.chownSync(xdg, user.uid, user.gid);
});

after(() => {
  try {
    if (user) {
      for (const [bin, runtime] of [
        [keelBin, k],
        [runc, r],
      ] as const) {
        if (!bin) continue;
        for (const id of runtime(['list', '-q']).stdout.split('\n').filter(Boolean)) runtime(['delete', '--force', id]);
      }
    }
  } finally {
    if (user) removeTestUser(user);
    for (const d of delegated.reverse()) removeCgroup(d);
    cleanupTemplate();
    tmp.cleanup();
  }
});

/** A bundle owned by the user: config.json from `keel spec --rootless` run as the user, then edited. */
function bundle(edit: (s: Spec) => void): string {
  return userBundle(tmp.dir, u(), (dir) => k(['spec', '--rootless', '--bundle', dir], { noBounding: true }), edit);
}

const script = (s: Spec, lines: string[]) => (s.process!.args = ['sh', '-c', lines.join('\n')]);

/** Waits (bounded) until `state` says stopped; the init is reaped by the host's pid 1. */
function waitStopped(runtime: typeof k, id: string): string {
  const deadline = Date.now() + 20_000;
  let status = '';
  while (Date.now() < deadline) {
    const st = runtime(['state', id]);
    status = st.code === 0 ? (JSON.parse(st.stdout) as { status: string }).status : `state failed: ${st.stderr}`;
    if (status === 'stopped') break;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
  return status;
}

function statusOf(pid: number): Record<string, string> {
  return Object.fromEntries(
    fs
      .readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
  );
}

/** CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE: what `spec --rootless` grants, inside its own user namespace. */
const ROOTLESS_CAPS = 0x20000420n;

test('the test user runs with no capability at all', { skip }, () => {
  const res = asUser(u(), 'grep', ['^Cap', '/proc/self/status'], {
    noBounding: true,
  });
  assert.equal(res.code, 0, res.stderr);
  for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.match(res.stdout, new RegExp(`${set}:\\s+0+\\n`), res.stdout);
});

test('run: one self-mapped id; identity, hostname, mounts, devices and exit status from inside, same as runc', { skip }, () => {
  const b = bundle((s) =>
    script(s, [
      'cat /proc/self/uid_map /proc/self/gid_map',
      'echo "id $(id -u):$(id -g)"',
      'echo "hostname $(hostname)"',
      'grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status',
      'echo x > /dev/null && echo "null ok"',
      'echo "zero $(head -c 8 /dev/zero | wc -c)"',
      'echo "stat $(stat -c "%F %t:%T" /dev/null /dev/zero /dev/urandom /dev/tty | tr "\\n" " ")"',
      'awk \'$2 == "/proc" || $2 == "/sys" || $2 == "/dev" || $2 == "/dev/pts" || $2 == "/dev/mqueue" { split($4, o, ","); print "mount", $2, $3, o[1] }\' /proc/mounts',
      '(echo 1 > /proc/sys/vm/drop_caches) 2>/dev/null; echo "drop_caches $?"',
      'exit 7',
    ]),
  );
  const mine = k(['run', '--bundle', b, uid()]);
  assert.equal(mine.code, 7, mine.stderr);
  const out = mine.stdout;
  assert.match(out, new RegExp(`^\\s+0\\s+${u().uid}\\s+1\\n\\s+0\\s+${u().gid}\\s+1\\n`), out);
  assert.match(out, /^id 0:0$/m);
  assert.match(out, /^hostname keel$/m);
  assert.match(out, /^CapEff:\s+0+20000420$/m, 'exactly the bundle capabilities');
  assert.match(out, /^CapBnd:\s+0+20000420$/m);
  assert.match(out, /^NoNewPrivs:\s+1$/m);
  assert.match(out, /^null ok$/m);
  assert.match(out, /^zero 8$/m);
  assert.match(out, /^stat character special file 1:3 character special file 1:5 character special file 1:9 character special file 5:0 $/m);
  assert.match(out, /^mount \/proc proc rw$/m);
  assert.match(out, /^mount \/dev tmpfs rw$/m);
  assert.match(out, /^mount \/dev\/pts devpts rw$/m);
  assert.match(out, /^mount \/dev\/mqueue mqueue rw$/m);
  assert.match(out, /^mount \/sys sysfs ro$/m, 'the host /sys bound read-only (sysfs cannot be mounted without a network namespace)');
  assert.match(out, /^drop_caches 1$/m, 'no host privilege through /proc/sys');
  assert.equal(mine.stderr, '');
  if (runc) {
    const theirs = r(['run', '--bundle', b, uid()]);
    assert.equal(theirs.code, 7, theirs.stderr);
    assert.equal(out, theirs.stdout, 'keel and runc see the same container');
  }
});

for (const runtime of ['keel', 'runc'] as const) {
  test(
    `${runtime}: create, state, list, start, exec, ps, kill, delete as the user leave nothing`,
    { skip: skip || (runtime === 'runc' && !runc && 'runc not installed') },
    () => {
      const rt = runtime === 'keel' ? k : r;
      const id = uid();
      const b = bundle((s) => (s.process!.args = ['sleep', '1000']));
      try {
        lifecycle(rt, runtime, id, b);
      } finally {
        rt(['delete', '--force', id]);
      }
    },
  );
}

function lifecycle(rt: typeof k, runtime: 'keel' | 'runc', id: string, b: string): void {
  const ok = (res: RunResult, what: string) => assert.equal(res.code, 0, `${what}: ${res.stderr}`);
  ok(rt(['create', '--bundle', b, id]), 'create');
  const st = JSON.parse(rt(['state', id]).stdout) as {
    status: string;
    pid: number;
  };
  assert.equal(st.status, 'created');
  assert.ok(fs.existsSync(path.join(xdg, runtime, id)), 'state under $XDG_RUNTIME_DIR');
  assert.match(rt(['list']).stdout, new RegExp(`^${id}\\s+${st.pid}\\s+created\\s.*\\s${u().name}$`, 'm'));
  ok(rt(['start', id]), 'start');
  assert.equal((JSON.parse(rt(['state', id]).stdout) as { status: string }).status, 'running');

  // From the host: the init runs as the user, in its own user namespace, with only the bundle's capabilities there.
  const host = statusOf(st.pid);
  assert.equal(host.Uid, `${u().uid}\t${u().uid}\t${u().uid}\t${u().uid}`);
  assert.equal(host.Gid, `${u().gid}\t${u().gid}\t${u().gid}\t${u().gid}`);
  assert.equal(BigInt(`0x${host.CapEff}`), ROOTLESS_CAPS);
  assert.notEqual(fs.readlinkSync(`/proc/${st.pid}/ns/user`), fs.readlinkSync('/proc/self/ns/user'));
  assert.equal(fs.readFileSync(`/proc/${st.pid}/uid_map`, 'utf8').trim().split(/\s+/).join(' '), `0 ${u().uid} 1`);

  const ex = rt(['exec', id, 'sh', '-c', 'echo "$(id -u) $(tr "\\0" " " </proc/1/cmdline)"; grep CapEff /proc/self/status']);
  ok(ex, 'exec');
  assert.match(ex.stdout, /^0 sleep 1000 $/m);
  assert.match(ex.stdout, /^CapEff:\s+0+20000420$/m);
  if (runtime === 'keel') {
    // runc 1.1.5 lists a container's pids from its cgroup, which a rootless container without a
    // delegated one does not have ("unable to get all container pids"); keel reads the pid namespace.
    const ps = rt(['ps', id]);
    ok(ps, 'ps');
    assert.match(ps.stdout, new RegExp(`^\\S+\\s+${st.pid}\\s.*sleep 1000`, 'm'));
  }

  ok(rt(['kill', id, 'KILL']), 'kill');
  assert.equal(waitStopped(rt, id), 'stopped');
  ok(rt(['delete', id]), 'delete');
  assert.equal(rt(['state', id]).code, 1);
  assert.ok(!fs.existsSync(path.join(xdg, runtime, id)), 'state dir removed');
  assert.deepEqual(settledProcessesOf(u()), [], 'no process of the user is left');
}

test('more than one id mapped: newuidmap/newgidmap write the maps; a chown inside lands on the subordinate id', { skip }, () => {
  const me = u();
  const maps = (own: number, sub: number) => [
    { containerID: 0, hostID: own, size: 1 },
    { containerID: 1, hostID: sub, size: 65536 },
  ];
  const b = bundle((s) => {
    s.root!.readonly = false;
    s.linux!.uidMappings = maps(me.uid, me.subuid);
    s.linux!.gidMappings = maps(me.gid, me.subgid);
    for (const set of ['bounding', 'effective', 'permitted'] as const) s.process!.capabilities![set]!.push('CAP_CHOWN');
    script(s, ['cat /proc/self/uid_map /proc/self/gid_map', 'touch /tmp/owned && chown 1000:1000 /tmp/owned && ls -n /tmp/owned']);
  });
  const owned = path.join(b, 'rootfs', 'tmp', 'owned');
  const want = `\\s+0\\s+${me.uid}\\s+1\\n\\s+1\\s+${me.subuid}\\s+65536\\n\\s+0\\s+${me.gid}\\s+1\\n\\s+1\\s+${me.subgid}\\s+65536\\n`;
  // setuid newuidmap gains its capabilities only within the bounding set: keep it for this one.
  for (const [name, rt] of [
    ['keel', k],
    ['runc', runc ? r : undefined],
  ] as const) {
    if (!rt) continue;
    fs.rmSync(owned, { force: true });
    const res = rt(['run', '--bundle', b, uid()], { noBounding: false });
    assert.equal(res.code, 0, `${name}: ${res.stderr}`);
    assert.match(res.stdout, new RegExp(`^${want}`), `${name}: ${res.stdout}`);
    assert.match(res.stdout, /^-rw-r--r--\s+1 1000\s+1000\s/m, 'owned by 1000 inside');
    const st = fs.statSync(owned);
    assert.deepEqual([st.uid, st.gid], [me.subuid + 999, me.subgid + 999], `${name}: host owner is the subordinate id of container id 1000`);
  }
});

test('more than one id mapped: a missing newuidmap or a range outside /etc/subuid is a clear error and leaves nothing', { skip }, () => {
  const me = u();
  const b = bundle((s) => {
    s.linux!.uidMappings = [
      { containerID: 0, hostID: me.uid, size: 1 },
      { containerID: 1, hostID: me.subuid, size: 65536 },
    ];
    s.linux!.gidMappings = [
      { containerID: 0, hostID: me.gid, size: 1 },
      { containerID: 1, hostID: me.subgid, size: 65536 },
    ];
    s.process!.args = ['true'];
  });
  // PATH with node only: keel runs, newuidmap cannot be found.
  const nodeOnly = path.join(tmp.dir, 'node-only');
  fs.mkdirSync(nodeOnly, { recursive: true, mode: 0o755 });
  if (!fs.existsSync(path.join(nodeOnly, 'node'))) fs.symlinkSync(process.execPath, path.join(nodeOnly, 'node'));
  const id1 = uid();
  const noTool = k(['run', '--bundle', b, id1], {
    noBounding: false,
    env: { PATH: nodeOnly },
  });
  assert.equal(noTool.code, 1);
  assert.match(
    errorMessage(noTool),
    /linux\.uidMappings maps more than the caller's own id, which needs newuidmap \(Debian package uidmap\): not found in \$PATH/,
  );
  assert.ok(!fs.existsSync(path.join(xdg, 'keel', id1)));

  // A range the user was not given: newuidmap refuses, and its words reach the error line.
  const cfg = path.join(b, 'config.json');
  const spec = JSON.parse(fs.readFileSync(cfg, 'utf8')) as Spec;
  spec.linux!.uidMappings![1]!.hostID = me.subuid + me.subCount;
  fs.writeFileSync(cfg, JSON.stringify(spec));
  const id2 = uid();
  const refused = k(['run', '--bundle', b, id2], { noBounding: false });
  assert.equal(refused.code, 1);
  assert.match(errorMessage(refused), new RegExp(`^newuidmap \\d+ 0 ${me.uid} 1 1 ${me.subuid + me.subCount} 65536: newuidmap: .*\\(check /etc/subuid\\)$`));
  assert.ok(!fs.existsSync(path.join(xdg, 'keel', id2)));
  if (runc) assert.equal(r(['run', '--bundle', b, uid()], { noBounding: false }).code, 1, 'runc refuses the same range');
  assert.deepEqual(settledProcessesOf(me), []);
});

test('devices: bound from the host in the user namespace, linux.devices too, and usable', { skip }, () => {
  const dev = ['/dev/fuse', '/dev/net/tun', '/dev/loop-control'].find((p) => fs.existsSync(p) && fs.statSync(p).isCharacterDevice());
  const rdev = dev ? fs.statSync(dev).rdev : 0;
  const b = bundle((s) => {
    if (dev)
      s.linux!.devices = [
        {
          path: dev,
          type: 'c',
          major: Math.floor(rdev / 256) & 0xfff,
          minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00),
          fileMode: 0o666,
        },
      ];
    script(s, [
      `for d in /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty ${dev ?? ''}; do echo "$d $(stat -c "%F %t:%T" $d)"; done`,
      'grep -E " /dev/(null|zero|full|random|urandom|tty) " /proc/self/mountinfo | wc -l | sed "s/^/binds /"',
      'echo x > /dev/null && echo "write null ok"',
      'echo "read zero $(head -c 4 /dev/zero | wc -c)"',
      '(echo x > /dev/full) 2>/dev/null || echo "full refuses"',
    ]);
  });
  const mine = k(['run', '--bundle', b, uid()]);
  assert.equal(mine.code, 0, mine.stderr);
  for (const [d, mm] of [
    ['/dev/null', '1:3'],
    ['/dev/zero', '1:5'],
    ['/dev/full', '1:7'],
    ['/dev/random', '1:8'],
    ['/dev/urandom', '1:9'],
    ['/dev/tty', '5:0'],
  ]) {
    assert.match(mine.stdout, new RegExp(`^${d} character special file ${mm}$`, 'm'));
  }
  if (dev)
    assert.match(
      mine.stdout,
      new RegExp(`^${dev} character special file ${(Math.floor(rdev / 256) & 0xfff).toString(16)}:${(rdev & 0xff).toString(16)}$`, 'm'),
    );
  assert.match(mine.stdout, /^binds 6$/m, 'bind mounts, not mknod (which a user namespace forbids)');
  assert.match(mine.stdout, /^write null ok$/m);
  assert.match(mine.stdout, /^read zero 4$/m);
  assert.match(mine.stdout, /^full refuses$/m);
  if (runc) {
    const theirs = r(['run', '--bundle', b, uid()]);
    assert.equal(theirs.code, 0, theirs.stderr);
    assert.equal(mine.stdout, theirs.stdout);
  }
});

test('cgroups: skipped with a debug line when not writable, refused when a limit needs them, as runc', { skip }, () => {
  const plain = bundle((s) => (s.process!.args = ['true']));
  const res = k(['--debug', 'run', '--bundle', plain, uid()]);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /level=debug msg="rootless: cgroups not writable by this user are skipped" .*skipped=.*pids/);

  const limited = bundle((s) => {
    s.process!.args = ['true'];
    s.linux!.resources = { pids: { limit: 10 } };
  });
  const id = uid();
  const refused = k(['run', '--bundle', limited, id]);
  assert.equal(refused.code, 1);
  assert.equal(errorMessage(refused), 'cannot set pids limit: container could not join or create cgroup');
  assert.ok(!fs.existsSync(path.join(xdg, 'keel', id)));
  if (runc) {
    const theirs = r(['run', '--bundle', limited, uid()]);
    assert.equal(theirs.code, 1);
    assert.match(errorMessage(theirs), /cannot set pids limit: container could not join or create cgroup$/);
  }
  assert.deepEqual(settledProcessesOf(u()), []);
});

/** rmdir a cgroup tree deepest first (cgroupfs has no recursive remove). */
function removeCgroup(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeCgroup(path.join(dir, e.name));
  try {
    fs.rmdirSync(dir);
  } catch {
    /* reported by the test that made it */
  }
}

const v1 = (c: string) => fs.existsSync(`/sys/fs/cgroup/${c}/cgroup.procs`);

test(
  'cgroups: a delegated cgroup is used (pids limit holds inside) and delete removes the container cgroup in it',
  {
    skip: skip || (!(v1('pids') && v1('memory')) && 'needs the cgroup v1 pids and memory hierarchies'),
  },
  () => {
    const me = u();
    const name = `keel-rootless-${process.pid}`;
    for (const [c, limitFile] of [
      ['pids', 'pids.max'],
      ['memory', 'memory.limit_in_bytes'],
    ] as const) {
      const d = `/sys/fs/cgroup/${c}/${name}`;
      fs.mkdirSync(d);
      delegated.push(d);
      for (const f of ['', 'cgroup.procs', 'tasks', limitFile]) fs.chownSync(path.join(d, f), me.uid, me.gid);
    }
    const id = uid();
    const ctr = (c: string) => `/sys/fs/cgroup/${c}/${name}/${id}`;
    const b = bundle((s) => {
      s.root!.readonly = false;
      s.linux!.cgroupsPath = `/${name}/${id}`;
      s.linux!.resources = {
        pids: { limit: 8 },
        memory: { limit: 64 * 1024 * 1024 },
      };
      // busybox sh gives up at the first fork the kernel refuses ("can't fork").
      script(s, [
        'exec >/tmp/out 2>&1',
        'grep -E "^[0-9]+:(pids|memory):" /proc/self/cgroup',
        // The container's own cgroup is what a v1 cgroup mount shows (runc's layout).
        'echo "pids.max $(cat /sys/fs/cgroup/pids/pids.max)"',
        'i=0; while [ $i -lt 12 ]; do sleep 1000 & i=$((i+1)); echo "forked $i"; done',
        'echo "all forked"',
      ]);
    });
    try {
      const created = k(['create', '--bundle', b, id]);
      assert.equal(created.code, 0, created.stderr);
      const pid = (JSON.parse(k(['state', id]).stdout) as { pid: number }).pid;
      assert.equal(fs.readFileSync(path.join(ctr('pids'), 'pids.max'), 'utf8').trim(), '8');
      assert.equal(fs.readFileSync(path.join(ctr('memory'), 'memory.limit_in_bytes'), 'utf8').trim(), String(64 * 1024 * 1024));
      for (const c of ['pids', 'memory'])
        assert.ok(
          fs
            .readFileSync(path.join(ctr(c), 'cgroup.procs'), 'utf8')
            .split('\n')
            .includes(String(pid)),
          `the init joined the delegated ${c} cgroup`,
        );
      assert.equal(k(['start', id]).code, 0);
      assert.equal(waitStopped(k, id), 'stopped');
      const out = fs.readFileSync(path.join(b, 'rootfs', 'tmp', 'out'), 'utf8');
      assert.match(out, new RegExp(`^\\d+:pids:/${name}/${id}$`, 'm'));
      assert.match(out, new RegExp(`^\\d+:memory:/${name}/${id}$`, 'm'));
      assert.match(out, /^pids.max 8$/m);
      // The shell and 7 sleeps are the 8 tasks the limit allows: the 8th fork fails.
      assert.match(out, /^forked 7$/m, out);
      assert.doesNotMatch(out, /^forked 8$|^all forked$/m, out);
      assert.match(out, /can't fork/);
      assert.equal(k(['delete', id]).code, 0);
      assert.ok(!fs.existsSync(ctr('pids')) && !fs.existsSync(ctr('memory')), 'the container cgroups are removed');
      assert.ok(fs.existsSync(`/sys/fs/cgroup/pids/${name}`), 'the delegated cgroup itself is left to its owner');
      assert.deepEqual(settledProcessesOf(me), []);
    } finally {
      k(['delete', '--force', id]);
    }
  },
);
