// keel as a drop-in runc under containerd 1.6's own io.containerd.runc.v2 shim (ctr --runc-binary,
// i.e. the BinaryName runtime option), cross-checked with runc in the same scenarios so a failure
// is clearly keel's. Uses the shared private-containerd fixture of test/shim; runs nothing else.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Containerd, IMAGE, NS, buildBusyboxImage, ensureContainerd, pidsMatching, unmountUnder } from '../shim/containerd-fixture';
import { keelBin, which } from '../helpers/keel';
import { TtrpcClient } from '../../src/shim/ttrpc-client';
import { encode } from '../../src/shim/messages';

const isRoot = process.getuid?.() === 0;
const runc = which('runc');
const RUNTIMES: { name: string; bin: string | undefined }[] = [
  { name: 'keel', bin: fs.existsSync(keelBin) ? keelBin : undefined },
  { name: 'runc', bin: runc },
];

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

let dir = '';
let c: Containerd;
const ids: string[] = [];
const baseReason = !isRoot ? 'needs root' : undefined;

before(async () => {
  if (baseReason) return;
  assert.ok(ensureContainerd(), 'containerd could not be installed');
  dir = fs.mkdtempSync('/tmp/keel-interop-ctrd-');
  c = new Containerd(dir);
  await c.start();
  await c.importImage(buildBusyboxImage(dir));
});

after(async () => {
  if (baseReason || !dir) return;
  for (const x of ids) await c.ctr(['task', 'kill', '-s', 'SIGKILL', x]).catch(() => undefined);
  for (const x of ids) {
    await c.ctr(['task', 'delete', '-f', x]).catch(() => undefined);
    await c.ctr(['container', 'delete', x]).catch(() => undefined);
  }
  await c.stop();
  // Shims (and anything they left) of this fixture name its directory on their command lines.
  for (const pid of pidsMatching(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  unmountUnder(dir);
  fs.rmSync(dir, { recursive: true, force: true });
  // containerd puts tasks under /<namespace>/<id> and the runtimes remove only the leaf: the
  // namespace's parent cgroup is ours (rmdir refuses one still in use, so nothing else is touched).
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    try {
      fs.rmdirSync(path.join('/sys/fs/cgroup', h, NS));
    } catch {
      /* absent, busy, or not a hierarchy */
    }
  }
});

for (const rt of RUNTIMES) {
  const reason = baseReason ?? (rt.bin ? undefined : `${rt.name} not available (make / apt-get install runc)`);
  const t = (title: string, fn: () => Promise<void>) => test(`[${rt.name}] ${title}`, { skip: reason, timeout: 120_000 }, fn);
  const id = (s: string) => {
    const v = `${rt.name}-${s}-${process.pid}`;
    ids.push(v);
    return v;
  };
  /** The runc shim's options: our binary and a runtime root inside the fixture (nothing under /run). */
  const rtFlags = () => ['--runtime', 'io.containerd.runc.v2', '--runc-binary', rt.bin!, '--runc-root', path.join(dir, 'rt', rt.name)];
  const status = async (x: string) => {
    const out = await c.ctrOk(['task', 'ls']);
    return out.split('\n').find((l) => l.split(/\s+/)[0] === x)?.split(/\s+/)[2];
  };
  const initPid = async (x: string) => {
    const ps = await c.ctrOk(['task', 'ps', x]);
    return Number(ps.trim().split('\n')[1]!.trim().split(/\s+/)[0]);
  };
  const killAndDelete = async (x: string) => {
    await c.ctrOk(['task', 'kill', '-s', 'SIGKILL', x]);
    await until('stopped', async () => (await status(x)) === 'STOPPED');
    const del = await c.ctr(['task', 'delete', x]);
    assert.equal(del.code, 0, del.stderr);
    await c.ctrOk(['container', 'delete', x]);
    return del;
  };

  t('ctr run --rm: output, exit status, stderr', async () => {
    const r = await c.ctr(['run', ...rtFlags(), '--rm', IMAGE, id('rm'), 'echo', 'hello']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello\n');
    const r3 = await c.ctr(['run', ...rtFlags(), '--rm', IMAGE, id('rm3'), 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r3.code, 3, r3.stderr);
    assert.equal(r3.stdout, 'out\n');
    assert.match(r3.stderr, /err/);
  });

  t('ctr run -d, task exec, task ps, kill, delete reports 137', async () => {
    const x = id('detach');
    await c.ctrOk(['run', ...rtFlags(), '-d', IMAGE, x, 'sleep', '1000']);
    assert.equal(await status(x), 'RUNNING');
    const pid = await initPid(x);
    assert.ok(pid > 1 && alive(pid));
    const out = await c.ctrOk(['task', 'exec', '--exec-id', 'e1', x, 'sh', '-c', 'echo exec-ok; cat /proc/1/cmdline']);
    assert.equal(out, 'exec-ok\nsleep\x001000\x00');
    const bad = await c.ctr(['task', 'exec', '--exec-id', 'e2', x, 'sh', '-c', 'exit 7']);
    assert.equal(bad.code, 7, bad.stderr);
    const pty = underPty(`ctr -a ${c.sock} -n ${NS} task exec -t --exec-id e3 ${x} sh -c 'tty; sleep 0.5'`);
    assert.equal(pty.code, 0, pty.out);
    assert.match(pty.out, /\/dev\/pts\/\d+/);
    // A running exec shows in task ps next to init.
    const bg = spawn('ctr', ['-a', c.sock, '-n', NS, 'task', 'exec', '--exec-id', 'e4', x, 'sleep', '30'], { stdio: 'ignore' });
    try {
      const ps = await until('exec in ps', async () => {
        const o = await c.ctrOk(['task', 'ps', x]);
        return o.includes('e4') ? o : undefined;
      });
      assert.equal(ps.trim().split('\n').length, 3, ps);
    } finally {
      bg.kill('SIGKILL');
    }
    // A missing executable in an exec fails with the runtime's error, the task keeps running.
    const missing = await c.ctr(['task', 'exec', '--exec-id', 'e5', x, '/no/such/binary']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no\/such\/binary/, missing.stderr);
    assert.equal(await status(x), 'RUNNING');
    const del = await killAndDelete(x);
    assert.match(del.stderr, /exit code 137/);
    assert.ok(!alive(pid));
  });

  t('ctr run -t gives the container a terminal', async () => {
    // The trailing sleep keeps the pty open while the shim drains it: a pty whose last writer is
    // gone may drop unread output (seen with runc as well).
    const r = underPty(`ctr -a ${c.sock} -n ${NS} run ${rtFlags().join(' ')} --rm -t ${IMAGE} ${id('tty')} sh -c 'tty; stty size; echo tty-ok; sleep 0.5'`);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /\/dev\/pts\/0/);
    assert.match(r.out, /tty-ok/);
  });

  t('pause/resume, task ps, metrics', async () => {
    const x = id('pause');
    await c.ctrOk(['run', ...rtFlags(), '-d', IMAGE, x, 'sleep', '1000']);
    await c.ctrOk(['task', 'pause', x]);
    assert.equal(await status(x), 'PAUSED');
    const frozen = await c.ctr(['task', 'exec', '--exec-id', 'p1', x, 'true']);
    assert.notEqual(frozen.code, 0, 'exec into a paused task must fail');
    await c.ctrOk(['task', 'resume', x]);
    assert.equal(await status(x), 'RUNNING');
    const ps = await c.ctrOk(['task', 'ps', x]);
    assert.equal(ps.trim().split('\n').length, 2, ps);
    const m = await c.ctrOk(['task', 'metrics', x]);
    assert.match(m, /pids\.current\s+1\b/, m);
    assert.match(m, /memory\.usage_in_bytes\s+[1-9]\d*/, m);
    await killAndDelete(x);
  });

  t('update through the shim (Task.Update) reaches the cgroup', async () => {
    const x = id('update');
    await c.ctrOk(['run', ...rtFlags(), '-d', IMAGE, x, 'sleep', '1000']);
    // ctr 1.6 has no `task update`; call the runc shim's Task.Update over its ttrpc address.
    const addr = fs.readFileSync(path.join(c.bundle(x), 'address'), 'utf8').trim();
    const client = await TtrpcClient.connect(addr);
    try {
      const limit = 64 * 1024 * 1024;
      const resources = { memory: { limit }, pids: { limit: 55 } };
      const req = encode('containerd.task.v2.UpdateTaskRequest', {
        id: x,
        resources: { type_url: 'types.containerd.io/opencontainers/runtime-spec/1/LinuxResources', value: Buffer.from(JSON.stringify(resources)) },
      });
      await client.call('containerd.task.v2.Task', 'Update', req, { 'containerd-namespace': NS });
      const m = await c.ctrOk(['task', 'metrics', x]);
      assert.match(m, new RegExp(`memory\\.limit_in_bytes\\s+${limit}\\b`), m);
      assert.match(m, /pids\.limit\s+55\b/, m);
    } finally {
      client.close();
    }
    await killAndDelete(x);
  });

  t("a failing create shows the runtime's error message (log.json) in ctr's output", async () => {
    const x = id('fail');
    const r = await c.ctr(['run', ...rtFlags(), '--rm', IMAGE, x, '/no/such/binary']);
    assert.notEqual(r.code, 0);
    // containerd reads the last error line of <bundle>/log.json; without it: "unable to retrieve OCI runtime error".
    assert.doesNotMatch(r.stderr, /unable to retrieve OCI runtime error/, r.stderr);
    assert.match(r.stderr, /OCI runtime create failed: .*no\/such\/binary/, r.stderr);
    await c.ctr(['container', 'delete', x]);
    assert.equal(await status(x), undefined);
  });

  t('kill --all reaches exec processes; a stopped task refuses kill, pause and exec as with runc', async () => {
    const x = id('gone');
    await c.ctrOk(['run', ...rtFlags(), '-d', IMAGE, x, 'sleep', '1000']);
    const bg = spawn('ctr', ['-a', c.sock, '-n', NS, 'task', 'exec', '--exec-id', 'g1', x, 'sleep', '500'], { stdio: 'ignore' });
    try {
      await until('exec in ps', async () => (await c.ctrOk(['task', 'ps', x])).includes('g1'));
      const pids = (await c.ctrOk(['task', 'ps', x])).trim().split('\n').slice(1).map((l) => Number(l.trim().split(/\s+/)[0]));
      assert.equal(pids.length, 2);
      // The shim runs `<runtime> kill --all ID 9`.
      await c.ctrOk(['task', 'kill', '--all', '-s', 'SIGKILL', x]);
      await until('stopped', async () => (await status(x)) === 'STOPPED');
      await until('all gone', async () => pids.every((p) => !alive(p)));
    } finally {
      bg.kill('SIGKILL');
    }
    const again = await c.ctr(['task', 'kill', '-s', 'SIGKILL', x]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /process already finished: not found/, again.stderr);
    const pause = await c.ctr(['task', 'pause', x]);
    assert.equal(pause.code, 1);
    assert.match(pause.stderr, /cannot pause a stopped container/, pause.stderr);
    await c.ctrOk(['task', 'delete', x]);
    const twice = await c.ctr(['task', 'delete', x]);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /not found/);
    await c.ctrOk(['container', 'delete', x]);
  });
}
