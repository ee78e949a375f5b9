// The shim contract suite: drives containerd-shim-keel-v2 through a private containerd 1.6 with
// ctr, the way users do. Every Runtime (in-process, CliRuntime(bin/keel), CliRuntime(runc)) runs
// the same scenarios; each *.test.ts file picks one with the shim's environment.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Containerd, IMAGE, NS, buildBusyboxImage, daemonsMatching, describePids, ensureContainerd, pidsMatching, shimBinDir, unmountUnder } from './containerd-fixture';

const RUNTIME = 'io.containerd.keel.v2';
const isRoot = process.getuid?.() === 0;

export type SuiteOptions = {
  /** Name in test titles. */
  name: string;
  /** Extra environment for containerd, inherited by the shim (KEEL_SHIM_BINARY…). */
  env: Record<string, string>;
  /** Why the suite cannot run here (skips every test), if anything. */
  skip?: () => string | undefined;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** STATUS column of `ctr task ls` for id, or undefined if the task is not listed. */
async function taskStatus(c: Containerd, id: string): Promise<string | undefined> {
  const out = await c.ctrOk(['task', 'ls']);
  const row = out.split('\n').find((l) => l.split(/\s+/)[0] === id);
  return row?.split(/\s+/)[2];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs a shell command under a pty (util-linux script), for ctr -t. */
function underPty(cmd: string, timeoutMs = 30_000): { code: number; out: string } {
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: timeoutMs, input: '' });
  return { code: r.status ?? -1, out: r.stdout ?? '' };
}

export function runShimSuite(opts: SuiteOptions): void {
  const reason = !isRoot ? 'needs root' : !fs.existsSync(path.join(shimBinDir, 'containerd-shim-keel-v2')) ? 'bin/containerd-shim-keel-v2 not built (make)' : opts.skip?.();
  const t = (title: string, fn: () => Promise<void>) => test(`[${opts.name}] ${title}`, { skip: reason, timeout: 120_000 }, fn);
  let dir = '';
  let c: Containerd;
  let archive = '';
  const ids: { id: string; ns: string }[] = [];
  const parNs = `par${process.pid}`;
  const id = (s: string, ns = NS) => {
    const v = `${s}-${process.pid}-${ids.length}`;
    ids.push({ id: v, ns });
    return v;
  };
  const run = (args: string[], o: { input?: string } = {}) => c.ctr(['run', '--runtime', RUNTIME, ...args], o);

  before(async () => {
    if (reason) return;
    assert.ok(ensureContainerd(), 'containerd could not be installed');
    dir = fs.mkdtempSync('/tmp/keel-shim-');
    c = new Containerd(dir, { ...opts.env, KEEL_SHIM_ROOT: path.join(dir, 'rt'), KEEL_SHIM_SOCKET_DIR: path.join(dir, 's') });
    await c.start();
    archive = buildBusyboxImage(dir);
    await c.importImage(archive);
  });

  after(async () => {
    if (reason || !dir) return;
    for (const x of ids) {
      await c.ctr(['task', 'kill', '-s', 'SIGKILL', x.id], { ns: x.ns }).catch(() => undefined);
    }
    for (const x of ids) {
      await c.ctr(['task', 'delete', '-f', x.id], { ns: x.ns }).catch(() => undefined);
      await c.ctr(['container', 'delete', x.id], { ns: x.ns }).catch(() => undefined);
    }
    await c.stop();
    for (const pid of pidsMatching(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    spawnSync('runc', ['--root', path.join(dir, 'rt', NS), 'list'], { stdio: 'ignore' });
    unmountUnder(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    // containerd puts tasks under /<namespace>/<id>; runtimes remove the leaf only, so the fresh
    // namespace's parent cgroup is ours to remove (rmdir refuses one that is still in use).
    for (const h of fs.readdirSync('/sys/fs/cgroup')) {
      for (const sub of [path.join('/sys/fs/cgroup', h, parNs), path.join('/sys/fs/cgroup', h, NS, parNs), path.join('/sys/fs/cgroup', h, NS)]) {
        try {
          fs.rmdirSync(sub);
        } catch {
          /* absent, or not a hierarchy */
        }
      }
    }
  });

  t('ctr run --rm prints the output and returns the exit status', async () => {
    const r = await run(['--rm', IMAGE, id('rm'), 'echo', 'hello from keel']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello from keel\n');
    const r3 = await run(['--rm', IMAGE, id('rm3'), 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r3.code, 3, r3.stderr);
    assert.equal(r3.stdout, 'out\n');
    assert.match(r3.stderr, /err/);
  });

  t('stdin through the fifo reaches the process and its EOF ends it', async () => {
    const r = await run(['--rm', IMAGE, id('stdin'), 'wc', '-c'], { input: 'x'.repeat(100_000) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '100000');
  });

  t('ctr run -d, task ls/ps, kill, exit status 137, delete', async () => {
    const x = id('detach');
    await c.ctrOk(['run', '--runtime', RUNTIME, '-d', IMAGE, x, 'sleep', '1000']);
    assert.equal(await taskStatus(c, x), 'RUNNING');
    const ps = await c.ctrOk(['task', 'ps', x]);
    const pid = Number(ps.trim().split('\n')[1]!.trim().split(/\s+/)[0]);
    assert.ok(pid > 1 && alive(pid), ps);
    await c.ctrOk(['task', 'kill', '-s', 'SIGKILL', x]);
    await until('stopped', async () => (await taskStatus(c, x)) === 'STOPPED');
    const del = await c.ctr(['task', 'delete', x]);
    assert.equal(del.code, 0, del.stderr);
    assert.match(del.stderr, /exit code 137/);
    assert.equal(await taskStatus(c, x), undefined);
    assert.ok(!alive(pid));
    await c.ctrOk(['container', 'delete', x]);
  });

  t('exec without and with a terminal; task ps shows the exec', async () => {
    const x = id('exec');
    await c.ctrOk(['run', '--runtime', RUNTIME, '-d', IMAGE, x, 'sleep', '1000']);
    const out = await c.ctrOk(['task', 'exec', '--exec-id', 'e1', x, 'sh', '-c', 'echo exec-ok; exit 0']);
    assert.equal(out, 'exec-ok\n');
    const bad = await c.ctr(['task', 'exec', '--exec-id', 'e2', x, 'sh', '-c', 'exit 7']);
    assert.equal(bad.code, 7);
    // All of 0, 1 and 2 must be the container's pty: nothing of the shim's (its log fifo) may leak in.
    const pty = underPty(`ctr -a ${c.sock} -n ${NS} task exec -t --exec-id e3 ${x} ls -l /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2`);
    assert.equal(pty.code, 0, pty.out);
    assert.equal(pty.out.match(/-> \/dev\/pts\/\d+/g)?.length, 3, pty.out);
    // A long exec shows in task ps with its exec id.
    const bg = spawn('ctr', ['-a', c.sock, '-n', NS, 'task', 'exec', '--exec-id', 'e4', x, 'sleep', '30'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let bgErr = '';
    bg.stderr.on('data', (d) => (bgErr += d));
    try {
      const ps = await until('exec in ps', async () => {
        if (bg.exitCode !== null) throw new Error(`ctr task exec e4 exited ${bg.exitCode}: ${bgErr}`);
        const o = await c.ctrOk(['task', 'ps', x]);
        return o.includes('e4') ? o : undefined;
      });
      assert.equal(ps.trim().split('\n').length, 3, ps);
    } finally {
      await c.ctr(['task', 'kill', '-s', 'SIGKILL', x]);
      bg.kill('SIGKILL');
    }
    await until('stopped', async () => (await taskStatus(c, x)) === 'STOPPED');
    await c.ctrOk(['task', 'delete', x]);
    await c.ctrOk(['container', 'delete', x]);
  });

  t('ctr run -t gives the container a terminal', async () => {
    const x = id('tty');
    const r = underPty(`ctr -a ${c.sock} -n ${NS} run --runtime ${RUNTIME} --rm -t ${IMAGE} ${x} sh -c 'tty; ls -l /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2; echo tty-ok'`);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /\/dev\/pts\/0\r*\n/);
    assert.equal(r.out.match(/-> \/dev\/pts\/\d+/g)?.length, 3, r.out);
    assert.match(r.out, /tty-ok/);
  });

  t('pause and resume; metrics', async () => {
    const x = id('pause');
    await c.ctrOk(['run', '--runtime', RUNTIME, '-d', IMAGE, x, 'sleep', '1000']);
    await c.ctrOk(['task', 'pause', x]);
    assert.equal(await taskStatus(c, x), 'PAUSED');
    await c.ctrOk(['task', 'resume', x]);
    assert.equal(await taskStatus(c, x), 'RUNNING');
    const m = await c.ctrOk(['task', 'metrics', x]);
    assert.match(m, /pids\.current\s+1\b/, m);
    assert.match(m, /memory\.usage_in_bytes\s+[1-9]\d*/, m);
    await c.ctrOk(['task', 'kill', '-s', 'SIGKILL', x]);
    await until('stopped', async () => (await taskStatus(c, x)) === 'STOPPED');
    await c.ctrOk(['task', 'delete', x]);
    await c.ctrOk(['container', 'delete', x]);
  });

  /** The /tasks/* topics `ctr events` shows for container x while act runs, up to its delete. */
  async function taskTopics(x: string, act: () => Promise<void>): Promise<string[]> {
    const ev = spawn('ctr', ['-a', c.sock, '-n', NS, 'events'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    ev.stdout.on('data', (d) => (text += d));
    try {
      await sleep(300);
      await act();
      await until('delete event', async () => text.split('\n').some((l) => l.includes('/tasks/delete') && l.includes(x)));
    } finally {
      ev.kill('SIGKILL');
    }
    return text
      .split('\n')
      .filter((l) => l.includes(x) && l.includes('/tasks/'))
      .map((l) => /\/tasks\/[a-z-]+/.exec(l)![0]);
  }

  t('events are create, start, exit, delete in order', async () => {
    const x = id('events');
    const topics = await taskTopics(x, async () => {
      const r = await run(['--rm', IMAGE, x, 'true']);
      assert.equal(r.code, 0, r.stderr);
    });
    assert.deepEqual(topics, ['/tasks/create', '/tasks/start', '/tasks/exit', '/tasks/delete']);
  });

  t('an OOM kill is published as /tasks/oom before the exit (137)', async () => {
    const x = id('oom');
    const topics = await taskTopics(x, async () => {
      // 16 MiB dd buffer under an 8 MiB limit (no swap accounting needed: the buffer is touched).
      const r = await run(['--rm', '--memory-limit', String(8 << 20), IMAGE, x, 'sh', '-c', 'dd if=/dev/zero of=/dev/null bs=64M count=1']);
      assert.equal(r.code, 137, r.stderr);
    });
    assert.ok(topics.includes('/tasks/oom'), topics.join(' '));
    assert.ok(topics.indexOf('/tasks/oom') < topics.indexOf('/tasks/exit'), topics.join(' '));
  });

  t('two containers share one shim process', async () => {
    const a = id('two-a');
    const b = id('two-b');
    await c.ctrOk(['run', '--runtime', RUNTIME, '-d', IMAGE, a, 'sleep', '1000']);
    await c.ctrOk(['run', '--runtime', RUNTIME, '-d', IMAGE, b, 'sleep', '1000']);
    const addrA = fs.readFileSync(path.join(c.bundle(a), 'address'), 'utf8');
    const addrB = fs.readFileSync(path.join(c.bundle(b), 'address'), 'utf8');
    assert.equal(addrA, addrB);
    assert.match(addrA, /^unix:\/\//);
    assert.equal(daemonsMatching(addrA.slice('unix://'.length)).length, 1);
    for (const x of [a, b]) {
      await c.ctrOk(['task', 'kill', '-s', 'SIGKILL', x]);
      await until('stopped', async () => (await taskStatus(c, x)) === 'STOPPED');
      await c.ctrOk(['task', 'delete', x]);
      await c.ctrOk(['container', 'delete', x]);
    }
  });

  t('containers started in parallel in a fresh namespace race to one shim', async () => {
    const ns = parNs;
    await c.importImage(archive, ns);
    const xs = [0, 1, 2, 3, 4].map(() => id('par', ns));
    const rs = await Promise.all(xs.map((x) => c.ctr(['run', '--runtime', RUNTIME, '-d', IMAGE, x, 'sleep', '1000'], { ns })));
    for (const r of rs) assert.equal(r.code, 0, r.stderr);
    const addrs = new Set(xs.map((x) => fs.readFileSync(path.join(c.bundle(x, ns), 'address'), 'utf8')));
    assert.equal(addrs.size, 1);
    const sock = [...addrs][0]!.slice('unix://'.length);
    // The launchers that lost the race started daemons too; each exits once it finds the socket
    // served, which can take a Node start-up after the last `ctr run` returned. Wait for that, then
    // exactly one daemon must be left.
    await until('the losing daemons to exit', async () => daemonsMatching(sock).length <= 1).catch(() => undefined);
    assert.equal(daemonsMatching(sock).length, 1, `one daemon among ${describePids(pidsMatching(sock))}`);
    // The launchers' fast path needs the pid file to name that daemon: a launcher that took a
    // fresh pid file for a stale one (and removed it) left every later start of the group waiting
    // ~30 s for a file nobody would write again.
    assert.equal(fs.readFileSync(`${sock}.pid`, 'utf8').trim(), String(daemonsMatching(sock)[0]));
    for (const x of xs) await c.ctrOk(['task', 'kill', '-s', 'SIGKILL', x], { ns });
    for (const x of xs) {
      await until('stopped', async () => (await c.ctrOk(['task', 'ls'], { ns })).split('\n').some((l) => l.startsWith(x) && l.includes('STOPPED')));
      await c.ctrOk(['task', 'delete', x], { ns });
      await c.ctrOk(['container', 'delete', x], { ns });
    }
  });

  t('containerd restarted while a container runs reconnects through the address file', async () => {
    const x = id('restart');
    await c.ctrOk(['run', '--runtime', RUNTIME, '-d', IMAGE, x, 'sleep', '1000']);
    const addr = fs.readFileSync(path.join(c.bundle(x), 'address'), 'utf8');
    await c.stop();
    await c.start();
    assert.equal(await taskStatus(c, x), 'RUNNING');
    assert.equal(fs.readFileSync(path.join(c.bundle(x), 'address'), 'utf8'), addr);
    const out = await c.ctrOk(['task', 'exec', '--exec-id', 'after', x, 'echo', 'still-here']);
    assert.equal(out, 'still-here\n');
    await c.ctrOk(['task', 'kill', '-s', 'SIGKILL', x]);
    await until('stopped', async () => (await taskStatus(c, x)) === 'STOPPED');
    await c.ctrOk(['task', 'delete', x]);
    await c.ctrOk(['container', 'delete', x]);
  });

  t('a shim killed with SIGKILL is cleaned up by delete', async () => {
    const x = id('shimkill');
    await c.ctrOk(['run', '--runtime', RUNTIME, '-d', IMAGE, x, 'sleep', '1000']);
    const ps = await c.ctrOk(['task', 'ps', x]);
    const pid = Number(ps.trim().split('\n')[1]!.trim().split(/\s+/)[0]);
    const addr = fs.readFileSync(path.join(c.bundle(x), 'address'), 'utf8').slice('unix://'.length);
    const shims = daemonsMatching(addr);
    assert.equal(shims.length, 1);
    process.kill(shims[0]!, 'SIGKILL');
    // containerd sees the ttrpc connection drop and runs `containerd-shim-keel-v2 delete`.
    await until('task gone', async () => (await taskStatus(c, x)) === undefined || (await taskStatus(c, x)) === 'STOPPED');
    await until('init killed', async () => !alive(pid));
    await c.ctr(['task', 'delete', x]);
    await c.ctrOk(['container', 'delete', x]);
    assert.ok(!fs.existsSync(c.bundle(x)) || !fs.readdirSync(path.join(c.bundle(x), 'rootfs')).length);
  });
}
