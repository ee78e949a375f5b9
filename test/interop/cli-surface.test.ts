// The runc command lines containerd's runc shim (go-runc) and conmon/podman send, exactly as they
// send them (runtime-interfaces.md §1.3, §2.1–2.2), run against keel and runc side by side: the
// flags must parse, the outputs they parse must have runc's shape, and stdio must not leak.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanupTemplate, makeBundle } from '../helpers/bundle';
import { isRoot, keelBin, run, which, type RunResult } from '../helpers/keel';
import { POLLIN, realShimSys, realSys } from '../../src/native';

const RUNTIMES: { name: string; bin: string | undefined }[] = [
  { name: 'keel', bin: fs.existsSync(keelBin) ? keelBin : undefined },
  { name: 'runc', bin: which('runc') },
];

let dir = '';
before(() => {
  if (isRoot) dir = fs.mkdtempSync('/tmp/keel-interop-cli-');
});
after(() => {
  if (!dir) return;
  cleanupTemplate();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Where fd n of pid points. */
const fdTarget = (pid: number, n: number) => fs.readlinkSync(`/proc/${pid}/fd/${n}`);

/** The memory cgroup v1 directory of pid. */
function memoryCgroup(pid: number): string {
  const line = fs
    .readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
  assert.ok(line, 'no memory cgroup');
  return path.join('/sys/fs/cgroup/memory', line.split(':')[2]!);
}

/** Listens on a console socket; receive() takes the pty master a create/exec sent (-1 if none). */
function consoleSocket(p: string): { receive: () => number; close: () => void } {
  const l = realShimSys.unixListen(p, 4);
  return {
    receive: () => {
      const c = realShimSys.accept(l);
      if (c < 0) return -1;
      try {
        return realSys.recvMsg(c, 4096, 5000).fd;
      } finally {
        fs.closeSync(c);
      }
    },
    close: () => fs.closeSync(l),
  };
}

for (const rt of RUNTIMES) {
  const reason = !isRoot ? 'needs root' : rt.bin ? undefined : `${rt.name} not available`;
  const t = (title: string, fn: () => void | Promise<void>) => test(`[${rt.name}] ${title}`, { skip: reason, timeout: 60_000 }, fn);
  let n = 0;
  /** A fresh bundle, runtime root, and the go-runc global flags for it. */
  const setup = (edit: Parameters<typeof makeBundle>[1] = () => undefined) => {
    const base = path.join(dir, `${rt.name}-${++n}`);
    const bundle = makeBundle(path.join(base, 'bundle'), edit);
    const root = path.join(base, 'root');
    const log = path.join(bundle, 'log.json');
    const id = `${rt.name}-cli-${process.pid}-${n}`;
    const globals = ['--root', root, '--log', log, '--log-format', 'json'];
    const r = (args: string[], opts: { input?: string; stdio?: ['ignore' | number, number, number] } = {}): RunResult => {
      if (!opts.stdio) return run(rt.bin!, [...globals, ...args], opts.input !== undefined ? { input: opts.input } : {});
      const res = spawnSync(rt.bin!, [...globals, ...args], { stdio: opts.stdio, timeout: 30_000 });
      return { code: res.status ?? 137, stdout: '', stderr: '' };
    };
    const cleanup = () => {
      run(rt.bin!, [...globals, 'delete', '--force', id]);
    };
    return { base, bundle, root, log, id, r, cleanup };
  };
  const state = (s: ReturnType<typeof setup>) => {
    const r = s.r(['state', s.id]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { id: string; pid: number; status: string; bundle: string; rootfs: string; created: string };
  };

  t('create --bundle --pid-file --console-socket --no-pivot --no-new-keyring (as go-runc and conmon send it)', () => {
    const s = setup((spec) => {
      spec.process!.terminal = true;
      spec.process!.args = ['sleep', '1000'];
    });
    const sockPath = path.join(s.base, 'console.sock');
    const sock = consoleSocket(sockPath);
    // go-runc runs create with stdout and stderr on one pipe and waits for that pipe's EOF.
    const [rd, wr] = realShimSys.pipe();
    let master = -1;
    try {
      const pidFile = path.join(s.bundle, 'init.pid');
      const c = s.r(['create', '--bundle', s.bundle, '--pid-file', pidFile, '--console-socket', sockPath, '--no-pivot', '--no-new-keyring', s.id], { stdio: ['ignore', wr, wr] });
      assert.equal(c.code, 0, fs.existsSync(s.log) ? fs.readFileSync(s.log, 'utf8') : '');
      master = sock.receive();
      assert.ok(master >= 0, 'no pty master on the console socket');
      assert.match(fs.readlinkSync(`/proc/self/fd/${master}`), /^\/dev\/(pts\/)?ptmx$/);
      const pidText = fs.readFileSync(pidFile, 'utf8');
      assert.match(pidText, /^\d+$/, 'pid file: bare decimal, no newline (go-runc Atoi)');
      const st = state(s);
      assert.equal(st.status, 'created');
      assert.equal(st.pid, Number(pidText));
      assert.equal(st.bundle, s.bundle);
      assert.ok(!Number.isNaN(Date.parse(st.created)));
      // All three of the init's stdio are the pty: none is the runtime's own output pipe.
      for (const fd of [0, 1, 2]) assert.match(fdTarget(st.pid, fd), /^\/dev\/pts\/\d+$/, `fd ${fd} of init`);
      fs.closeSync(wr);
      const POLLHUP = 0x10;
      assert.ok(realSys.poll(rd, POLLIN, 5000) & POLLHUP, 'the create pipe hangs up once create exited (no writer left in the container)');
      const st2 = s.r(['start', s.id]);
      assert.equal(st2.code, 0, st2.stderr);
      assert.equal(state(s).status, 'running');
    } finally {
      if (master >= 0) fs.closeSync(master);
      try {
        fs.closeSync(wr);
      } catch {
        /* closed above */
      }
      fs.closeSync(rd);
      sock.close();
      s.cleanup();
    }
  });

  t('exec --process --detach --pid-file [--console-socket]; ps --format json; kill --all ID 9; delete', () => {
    const s = setup((spec) => {
      spec.process!.args = ['sleep', '1000'];
    });
    const sockPath = path.join(s.base, 'exec.sock');
    const sock = consoleSocket(sockPath);
    let master = -1;
    try {
      assert.equal(s.r(['create', '--bundle', s.bundle, '--pid-file', path.join(s.bundle, 'init.pid'), s.id]).code, 0);
      assert.equal(s.r(['start', s.id]).code, 0);
      const init = state(s).pid;
      // Without a terminal.
      const proc = path.join(s.base, 'process.json');
      fs.writeFileSync(proc, JSON.stringify({ terminal: false, user: { uid: 0, gid: 0 }, args: ['sleep', '500'], env: ['PATH=/bin'], cwd: '/' }));
      const p1 = path.join(s.bundle, 'e1.pid');
      const e1 = s.r(['exec', '--process', proc, '--detach', '--pid-file', p1, s.id]);
      assert.equal(e1.code, 0, e1.stderr);
      const e1pid = Number(fs.readFileSync(p1, 'utf8'));
      // With a terminal: conmon's order (--pid-file first, --console-socket last).
      fs.writeFileSync(proc, JSON.stringify({ terminal: true, user: { uid: 0, gid: 0 }, args: ['sleep', '400'], env: ['PATH=/bin'], cwd: '/' }));
      const p2 = path.join(s.bundle, 'e2.pid');
      const e2 = s.r(['exec', '--pid-file', p2, '--process', proc, '--detach', '--console-socket', sockPath, s.id]);
      assert.equal(e2.code, 0, e2.stderr);
      master = sock.receive();
      assert.ok(master >= 0);
      const e2pid = Number(fs.readFileSync(p2, 'utf8'));
      for (const fd of [0, 1, 2]) assert.match(fdTarget(e2pid, fd), /^\/dev\/pts\/\d+$/, `fd ${fd} of the exec`);
      const ps = s.r(['ps', '--format', 'json', s.id]);
      assert.equal(ps.code, 0, ps.stderr);
      const pids = JSON.parse(ps.stdout) as number[];
      assert.ok(Array.isArray(pids));
      assert.deepEqual([...pids].sort((a, b) => a - b), [init, e1pid, e2pid].sort((a, b) => a - b));
      // kill --all with a decimal signal number reaches every process of the container.
      const k = s.r(['kill', '--all', s.id, '9']);
      assert.equal(k.code, 0, k.stderr);
      for (let i = 0; i < 200 && state(s).status !== 'stopped'; i++) spawnSync('sleep', ['0.05']);
      assert.equal(state(s).status, 'stopped');
      for (let i = 0; i < 200 && fs.existsSync(`/proc/${e1pid}/cmdline`) && fs.readFileSync(`/proc/${e1pid}/cmdline`).length; i++) spawnSync('sleep', ['0.05']);
      // go-runc accepts an empty ps as null (runc) or [].
      const ps0 = s.r(['ps', '--format', 'json', s.id]);
      assert.equal(ps0.code, 0, ps0.stderr);
      assert.ok(['null', '[]'].includes(ps0.stdout.trim()), ps0.stdout);
      // containerd maps these words to NotFound (checkKillError).
      const again = s.r(['kill', s.id, '15']);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /container not running/);
      const d = s.r(['delete', s.id]);
      assert.equal(d.code, 0, d.stderr);
      const gone = s.r(['state', s.id]);
      assert.equal(gone.code, 1);
      assert.match(gone.stderr, /does not exist/);
    } finally {
      if (master >= 0) fs.closeSync(master);
      sock.close();
      s.cleanup();
    }
  });

  t('every exec --detach lands in the container cgroup before it runs (PID before HOOKS)', () => {
    const s = setup((spec) => {
      spec.process!.args = ['sleep', '1000'];
    });
    try {
      assert.equal(s.r(['run', '--detach', '--bundle', s.bundle, s.id]).code, 0);
      const want = memoryCgroup(state(s).pid);
      const proc = path.join(s.base, 'process.json');
      for (let i = 0; i < 20; i++) {
        fs.writeFileSync(proc, JSON.stringify({ terminal: false, user: { uid: 0, gid: 0 }, args: ['sh', '-c', `cat /proc/self/cgroup > /tmp/cg-${i}`], env: ['PATH=/bin'], cwd: '/' }));
        const e = s.r(['exec', '--process', proc, '--detach', '--pid-file', path.join(s.base, 'e.pid'), s.id]);
        assert.equal(e.code, 0, e.stderr);
      }
      for (let i = 0; i < 20; i++) {
        const f = path.join(s.bundle, 'rootfs', 'tmp', `cg-${i}`);
        for (let k = 0; k < 200 && !(fs.existsSync(f) && fs.statSync(f).size > 0); k++) spawnSync('sleep', ['0.02']);
        const mem = fs
          .readFileSync(f, 'utf8')
          .split('\n')
          .find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
        assert.equal(path.join('/sys/fs/cgroup/memory', mem!.split(':')[2]!), want, `exec ${i}`);
      }
    } finally {
      s.cleanup();
    }
  });

  t('start of a process that exits at once succeeds (conmon and the shim start right after create)', () => {
    const s = setup((spec) => {
      spec.process!.args = ['sh', '-c', 'exit 3'];
    });
    try {
      for (let i = 0; i < 25; i++) {
        const id = `${s.id}-q${i}`;
        assert.equal(s.r(['create', '--bundle', s.bundle, id]).code, 0);
        const st = s.r(['start', id]);
        assert.equal(st.code, 0, `start ${i}: ${st.stderr}`);
        assert.equal(s.r(['delete', '--force', id]).code, 0);
      }
    } finally {
      s.cleanup();
    }
  });

  t('update --resources - (stdin) and --resources=FILE reach the cgroup; delete --force of a running container', () => {
    const s = setup((spec) => {
      spec.process!.args = ['sleep', '1000'];
      spec.linux!.cgroupsPath = `/keel-interop-${s0()}`;
    });
    try {
      assert.equal(s.r(['run', '--detach', '--bundle', s.bundle, s.id]).code, 0);
      const cg = memoryCgroup(state(s).pid);
      const u = s.r(['update', '--resources', '-', s.id], { input: JSON.stringify({ memory: { limit: 96 * 1024 * 1024 } }) });
      assert.equal(u.code, 0, u.stderr);
      assert.equal(fs.readFileSync(path.join(cg, 'memory.limit_in_bytes'), 'utf8').trim(), String(96 * 1024 * 1024));
      const f = path.join(s.base, 'res.json');
      fs.writeFileSync(f, JSON.stringify({ memory: { limit: 80 * 1024 * 1024 } }));
      const u2 = s.r(['update', `--resources=${f}`, s.id]);
      assert.equal(u2.code, 0, u2.stderr);
      assert.equal(fs.readFileSync(path.join(cg, 'memory.limit_in_bytes'), 'utf8').trim(), String(80 * 1024 * 1024));
      const del = s.r(['delete', s.id]);
      assert.equal(del.code, 1);
      assert.match(del.stderr, /is not stopped|running/);
      const force = s.r(['delete', '--force', s.id]);
      assert.equal(force.code, 0, force.stderr);
      assert.ok(!fs.existsSync(cg), 'cgroup removed by delete --force');
    } finally {
      s.cleanup();
    }
  });

  t('state, list --format json, pause/resume, start of a running container', () => {
    const s = setup((spec) => {
      spec.process!.args = ['sleep', '1000'];
    });
    try {
      const empty = s.r(['list', '--format', 'json']);
      assert.equal(empty.code, 0, empty.stderr);
      assert.ok(['null', '[]'].includes(empty.stdout.trim()), empty.stdout);
      assert.equal(s.r(['run', '-d', '--bundle', s.bundle, s.id]).code, 0);
      const l = s.r(['list', '--format=json']);
      const arr = JSON.parse(l.stdout) as { id: string; status: string; pid: number; bundle: string }[];
      assert.equal(arr.length, 1);
      assert.equal(arr[0]!.id, s.id);
      assert.equal(arr[0]!.status, 'running');
      assert.equal(s.r(['pause', s.id]).code, 0);
      assert.equal(state(s).status, 'paused');
      assert.equal(s.r(['resume', s.id]).code, 0);
      assert.equal(state(s).status, 'running');
      const again = s.r(['start', s.id]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /cannot start an already running container/);
    } finally {
      s.cleanup();
    }
  });

  t('a failed create writes one error line to --log (RFC 3339 time) and also prints it to stderr', () => {
    const s = setup((spec) => {
      spec.process!.args = ['/no/such/binary'];
    });
    try {
      const c = s.r(['create', '--bundle', s.bundle, s.id]);
      assert.equal(c.code, 1);
      const errors = fs
        .readFileSync(s.log, 'utf8')
        .trim()
        .split('\n')
        .map((x) => JSON.parse(x) as { level: string; msg: string; time?: string })
        .filter((x) => x.level === 'error');
      const last = errors.at(-1);
      assert.ok(last, 'an error line in log.json');
      assert.match(last.msg, /no\/such\/binary/);
      assert.ok(last.time === undefined || /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(last.time), last.time);
      assert.match(c.stderr, /no\/such\/binary/);
      assert.equal(s.r(['state', s.id]).code, 1, 'nothing left behind');
    } finally {
      s.cleanup();
    }
  });

  t('a process without an execute bit fails create, not the start (execve would refuse it)', () => {
    const s = setup((spec) => {
      spec.process!.args = ['/etc/passwd'];
    });
    try {
      const c = s.r(['create', '--bundle', s.bundle, s.id]);
      assert.equal(c.code, 1, 'create must fail');
      // runc's wording (Go's exec.LookPath), which podman maps to "OCI permission denied".
      assert.match(c.stderr, /exec: \\?"\/etc\/passwd\\?": permission denied/);
      assert.equal(s.r(['state', s.id]).code, 1, 'nothing left behind');
    } finally {
      s.cleanup();
    }
  });

  t('features prints JSON; restore parses the single-dash -no-subreaper', () => {
    const s = setup();
    const f = s.r(['features']);
    assert.equal(f.code, 0, f.stderr);
    const j = JSON.parse(f.stdout) as { ociVersionMin?: string; ociVersionMax?: string; hooks?: string[] };
    assert.match(j.ociVersionMax ?? '', /^1\./);
    // go-runc's restore argv; without CRIU it fails, but never on flag parsing.
    const r = s.r(['restore', '--image-path', path.join(s.base, 'img'), '--work-path', path.join(s.base, 'work'), '--detach', '--pid-file', path.join(s.base, 'r.pid'), '-no-subreaper', '--bundle', s.bundle, s.id]);
    assert.doesNotMatch(r.stderr, /flag provided but not defined|unknown option|unknown command/, r.stderr);
    s.cleanup();
  });
}

let seq = 0;
function s0(): string {
  return `${process.pid}-${++seq}`;
}
