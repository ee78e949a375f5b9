// Contract suite every CgroupManager driver must pass, with real processes moved into a real
// cgroup: run by v1.test.ts (host v1 hierarchies) and v2.test.ts (inside the cgroup v2 VM).
// Each test gets a fresh manager from the factory and destroys it, even when it fails.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CgroupManager } from './manager';

/** Makes a manager for a new, not yet created cgroup; cleanup removes whatever the test left. */
export type CgroupManagerFactory = () => Promise<{ manager: CgroupManager; cleanup(): Promise<void> }>;

/** A child process that waits on stdin before exec'ing its command, so it can be moved first. */
type Gated = { child: ChildProcess; go(): void; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; out(): string; err(): string };

function gated(script: string): Gated {
  const child = spawn('/bin/sh', ['-c', `read _ ; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, go: () => child.stdin!.end('\n'), exited, out: () => out, err: () => err };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitFor(cond: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (await cond()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function read(dir: string, file: string): Promise<string> {
  return (await fsp.readFile(path.join(dir, file), 'utf8')).trim();
}

/** Runs the whole contract against one driver. */
export function runCgroupManagerSuite(name: string, factory: CgroupManagerFactory, opts: { skip?: string | false } = {}): void {
  const t = (title: string, fn: (m: CgroupManager) => Promise<void>) =>
    test(`${name}: ${title}`, { skip: opts.skip ?? false, timeout: 300_000 }, async () => {
      const { manager, cleanup } = await factory();
      const children: ChildProcess[] = [];
      (manager as unknown as { _children: ChildProcess[] })._children = children;
      try {
        await manager.create();
        await fn(manager);
      } finally {
        await manager.thaw().catch(() => undefined);
        for (const pid of await manager.pids().catch(() => [] as number[])) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
        await waitFor(async () => (await manager.pids().catch(() => [])).length === 0, 'cgroup to empty').catch(() => undefined);
        await manager.destroy().catch(() => undefined);
        await cleanup();
      }
    });

  const start = async (m: CgroupManager, script: string): Promise<Gated> => {
    const g = gated(script);
    await new Promise<void>((r) => g.child.once('spawn', () => r()));
    await m.apply(g.child.pid!);
    g.go();
    return g;
  };

  t('create makes every directory; destroy removes them with nested cgroups', async (m) => {
    const paths = m.paths();
    assert.ok(Object.keys(paths).length > 0);
    for (const p of Object.values(paths)) {
      assert.ok(path.isAbsolute(p), p);
      assert.ok((await fsp.stat(p)).isDirectory(), p);
    }
    const anyDir = Object.values(paths)[0]!;
    await fsp.mkdir(path.join(anyDir, 'nested', 'deeper'), { recursive: true });
    await m.destroy();
    for (const p of Object.values(paths)) await assert.rejects(fsp.stat(p), { code: 'ENOENT' });
  });

  t('apply joins a process and pids lists it, nested cgroups included', async (m) => {
    const g = await start(m, 'exec sleep 60');
    const pid = g.child.pid!;
    assert.deepEqual(await m.pids(), [pid]);
    const cg = await fsp.readFile(`/proc/${pid}/cgroup`, 'utf8');
    for (const [ctrl, dir] of Object.entries(m.paths())) {
      if (ctrl !== '' && ctrl !== 'name=systemd' && !cg.includes(dir.split('/').slice(-1)[0]!)) assert.fail(`${pid} not in ${dir}: ${cg}`);
    }
    await m.killAll('SIGKILL');
    assert.equal((await g.exited).signal, 'SIGKILL');
  });

  t('memory limit OOM-kills a process allocating beyond it; the OOM watch sees it', async (m) => {
    await m.set({ memory: { limit: 48 * 1024 * 1024, swap: 48 * 1024 * 1024 } });
    const before = (await m.oomKillCount()) ?? 0;
    const seen: number[] = [];
    const watch = m.watchOom((n) => seen.push(n), 50);
    try {
      const g = await start(m, `exec python3 -c "x = b'a' * (256 << 20); print(len(x))"`);
      const { signal } = await g.exited;
      assert.equal(signal, 'SIGKILL', `expected an OOM kill, got stdout ${g.out()} stderr ${g.err()}`);
      assert.ok(((await m.oomKillCount()) ?? 0) > before, 'oom_kill counter did not move');
      await waitFor(() => seen.length > 0, 'the OOM watch to fire');
    } finally {
      watch.close();
    }
  });

  t('pids limit makes fork fail', async (m) => {
    await m.set({ pids: { limit: 3 } });
    const g = await start(m, 'for i in 1 2 3 4 5 6; do sleep 30 & done; wait');
    await waitFor(() => /fork/i.test(g.err()), `a fork failure (stderr: ${g.err()})`);
    assert.ok((await m.pids()).length <= 3);
    const s = await m.stats();
    assert.equal(s.pids.limit, 3);
  });

  t('cpu quota, period and shares are written and read back', async (m) => {
    await m.set({ cpu: { quota: 50000, period: 100000, shares: 512 } });
    if (m.version === 'v1') {
      const d = m.paths().cpu!;
      assert.equal(await read(d, 'cpu.cfs_quota_us'), '50000');
      assert.equal(await read(d, 'cpu.cfs_period_us'), '100000');
      assert.equal(await read(d, 'cpu.shares'), '512');
    } else {
      const d = m.paths()['']!;
      assert.equal(await read(d, 'cpu.max'), '50000 100000');
      assert.equal(await read(d, 'cpu.weight'), String(1 + Math.floor(((512 - 2) * 9999) / 262142)));
    }
  });

  t('freeze stops the processes and thaw resumes them', async (m) => {
    const g = await start(m, 'while :; do echo x; sleep 0.02; done');
    await waitFor(() => g.out().length > 0, 'first output');
    await m.freeze();
    assert.equal(await m.isFrozen(), true);
    if (m.version === 'v1') assert.equal(await read(m.paths().freezer!, 'freezer.state'), 'FROZEN');
    else assert.match(await read(m.paths()['']!, 'cgroup.events'), /frozen 1/);
    const frozenAt = g.out().length;
    await sleep(300);
    assert.equal(g.out().length, frozenAt, 'a frozen process produced output');
    await m.thaw();
    assert.equal(await m.isFrozen(), false);
    await waitFor(() => g.out().length > frozenAt, 'output after thaw');
  });

  t('the device rules block a denied device and allow an allowed one', async (m) => {
    await m.set({
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
        { allow: false, type: 'c', major: 1, minor: 5, access: 'r' },
      ],
    });
    const g = await start(m, 'echo hi > /dev/null && echo null-ok; if head -c1 /dev/zero >/dev/null 2>&1; then echo zero-read-ok; else echo zero-read-denied; fi; if echo x > /dev/zero; then echo zero-write-ok; fi; if head -c1 /dev/urandom >/dev/null 2>&1; then echo urandom-ok; else echo urandom-denied; fi');
    await g.exited;
    const out = g.out();
    assert.match(out, /null-ok/);
    assert.match(out, /zero-read-denied/);
    assert.match(out, /zero-write-ok/);
    assert.match(out, /urandom-denied/);
  });

  t('update changes live limits; stats follow', async (m) => {
    await m.set({ memory: { limit: 64 << 20 }, pids: { limit: 50 } });
    const g = await start(m, 'exec sleep 60');
    await m.update({ memory: { limit: 96 << 20 }, pids: { limit: 20 } });
    const s = await m.stats();
    assert.equal(s.memory.usage?.limit, 96 << 20);
    assert.equal(s.pids.limit, 20);
    assert.equal(s.pids.current, 1);
    if (m.version === 'v2') {
      await assert.rejects(m.update({ memory: { limit: 4096, checkBeforeUpdate: true } }), /rejecting memory limit 4096/);
      assert.equal(await read(m.paths()['']!, 'memory.max'), String(96 << 20));
    }
    await m.killAll('SIGKILL');
    await g.exited;
  });

  t('stats numbers move when the container works', async (m) => {
    const before = await m.stats();
    const g = await start(m, 'i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; echo done');
    await g.exited;
    const after = await m.stats();
    assert.ok((after.cpu.usage?.total ?? 0) > (before.cpu.usage?.total ?? 0), `cpu total did not grow: ${JSON.stringify(after.cpu)}`);
    assert.ok(typeof after.cpu.usage?.user === 'number');
    assert.ok(after.memory.raw && Object.keys(after.memory.raw).length > 0);
    JSON.parse(JSON.stringify(after));
  });

  t('killAll with a non-KILL signal reaches every process', async (m) => {
    const a = await start(m, 'exec sleep 60');
    const b = await start(m, 'exec sleep 60');
    assert.equal((await m.pids()).length, 2);
    await m.killAll('SIGTERM');
    assert.equal((await a.exited).signal, 'SIGTERM');
    assert.equal((await b.exited).signal, 'SIGTERM');
    assert.equal(await m.isFrozen(), false);
  });
}
