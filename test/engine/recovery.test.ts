// Containers outlive the daemon (kill -9 of dock while they run and log: nothing is lost), and a
// shim crash loses nothing either: its containers are reported exited (137) with their logs,
// restart policies apply, and no process, mount or cgroup is left. dock only: dockerd's live
// restore is off by default and its containerd is a different design.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { docker, type CliResult } from './lib/docker-cli';
import { dockSkipReason, startDock, type DockHandle } from './lib/dock';
import { importBusybox } from './lib/engines';

const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Pids of keel's shim daemons serving this engine. */
function shimPids(e: DockHandle): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (cmd.includes('containerd-shim-keel-v2') && cmd.includes(e.execRoot) && !cmd.includes('\0start')) out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}

function mountsUnder(dir: string): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(dir));
}

function cgroupsUnder(parent: string): string[] {
  const out: string[] = [];
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    const d = `/sys/fs/cgroup/${h}${parent}`;
    if (!fs.existsSync(d)) continue;
    for (const c of fs.readdirSync(d, { withFileTypes: true })) if (c.isDirectory()) out.push(`${d}/${c.name}`);
  }
  return out;
}

describe('dock recovery', { skip: dockSkipReason() }, () => {
  let e: DockHandle;
  const d = (args: string[]) => docker(e, args);
  before(async () => {
    e = await startDock();
    await importBusybox(e);
  });
  after(async () => {
    await e?.stop();
  });

  test('kill -9 of the daemon: containers keep running and logging; a new daemon adopts them', async () => {
    ok(await d(['run', '-d', '--name', 'counter', '--network', 'none', 'busybox', 'sh', '-c', 'i=0; while true; do echo n=$i; i=$((i+1)); sleep 0.05; done']), 'run');
    ok(await d(['run', '-d', '--name', 'short', '--network', 'none', '--restart', 'always', 'busybox', 'sh', '-c', 'echo run; sleep 2; exit 3']), 'run');
    await sleep(500);
    await e.crash();
    await sleep(2500);
    await e.restart();
    const ps = await d(['ps', '--format', '{{.Names}}']);
    assert.match(ps.stdout, /counter/);
    const logs = (await d(['logs', 'counter'])).stdout.trim().split('\n');
    assert.ok(logs.length > 40, `lines written while the daemon was down are there: ${logs.length}`);
    logs.forEach((l, i) => assert.equal(l, `n=${i}`, 'no gap, no duplicate'));
    const ex = await d(['exec', 'counter', 'echo', 'alive']);
    assert.equal(ex.stdout, 'alive\n');
    // The restart policy of the container that exited while the daemon was down applies again.
    const restarts = await until('the always container to restart', async () => {
      const n = Number((await d(['inspect', '-f', '{{.RestartCount}}', 'short'])).stdout.trim());
      return n >= 1 ? n : undefined;
    });
    assert.ok(restarts >= 1);
    ok(await d(['stop', '-t', '1', 'counter']), 'stop');
    const code = await d(['inspect', '-f', '{{.State.ExitCode}}', 'counter']);
    assert.equal(code.stdout, '137\n');
    ok(await d(['rm', '-f', 'counter', 'short']), 'rm');
  });

  test('a crashed shim: containers are reported exited with their logs, restart policies apply, nothing leaks', async () => {
    ok(await d(['run', '-d', '--name', 'plain', '--network', 'none', 'busybox', 'sh', '-c', 'echo before-crash; sleep 600']), 'run');
    ok(await d(['run', '-d', '--name', 'keeper', '--network', 'none', '--restart', 'always', 'busybox', 'sh', '-c', 'echo up; sleep 600']), 'run');
    await sleep(300);
    const inits = (await d(['inspect', '-f', '{{.State.Pid}}', 'plain', 'keeper'])).stdout.trim().split('\n').map(Number);
    const shims = shimPids(e);
    assert.equal(shims.length, 1, `one shim serves dock's containers: ${shims}`);
    process.kill(shims[0]!, 'SIGKILL');
    const st = await until('plain to be reported exited', async () => {
      const s = (await d(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'plain'])).stdout.trim();
      return s.startsWith('exited') ? s : undefined;
    });
    assert.equal(st, 'exited 137');
    assert.equal((await d(['logs', 'plain'])).stdout, 'before-crash\n');
    for (const p of inits) assert.ok(!fs.existsSync(`/proc/${p}`) || fs.readFileSync(`/proc/${p}/status`, 'utf8').includes('State:\tZ'), `init ${p} is gone`);
    // A new shim daemon has to start first: slow on a loaded machine.
    await until(
      'keeper to run again',
      async () => {
        const [running, count] = (await d(['inspect', '-f', '{{.State.Running}} {{.RestartCount}}', 'keeper'])).stdout.trim().split(' ');
        return running === 'true' && Number(count) >= 1 ? count : undefined;
      },
      60_000,
    );
    const plainId = (await d(['inspect', '-f', '{{.Id}}', 'plain'])).stdout.trim();
    assert.deepEqual(mountsUnder(`${e.execRoot}/containers/${plainId}`), []);
    assert.ok(!cgroupsUnder(e.cgroupParent).some((c) => c.endsWith(plainId)), 'the cgroups of the lost container are gone');
    ok(await d(['start', 'plain']), 'a lost container starts again');
    ok(await d(['rm', '-f', 'plain', 'keeper']), 'rm');
    assert.deepEqual(cgroupsUnder(e.cgroupParent), []);
  });
});
