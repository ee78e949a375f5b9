// The reaper with real processes: exit codes and signals, exits that happen before anyone waits
// (kept as unclaimed), and orphans reparented to us as subreaper. Needs the addon, not root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realShimSys, realSys } from '../native/index';
import { Reaper, type Exit } from './reaper';

test('exit codes and killing signals come back as containerd statuses', async () => {
  const r = new Reaper();
  r.start(false);
  try {
    const a = r.spawn({ argv: ['/bin/sh', '-c', 'exit 3'] });
    const b = r.spawn({ argv: ['/bin/sh', '-c', 'kill -9 $$'] });
    const c = r.spawn({ argv: ['/bin/sh', '-c', 'kill -PIPE $$'] });
    assert.equal((await a.exited).status, 3);
    assert.equal((await b.exited).status, 137);
    // SIGPIPE is default again in the child although Node ignores it (posix_spawn SETSIGDEF).
    assert.equal((await c.exited).status, 141);
  } finally {
    r.stop();
  }
});

test('an exit reaped before wait() is delivered to the late waiter', async () => {
  const r = new Reaper();
  r.start(false);
  try {
    const { pid } = realShimSys.spawn(['/bin/sh', '-c', 'exit 5'], [], null, [-1, -1, -1], false);
    while (!r.hasExited(pid)) {
      await new Promise((res) => setTimeout(res, 10));
      r.sweep();
    }
    const e = await r.wait(pid);
    assert.deepEqual([e.pid, e.status], [pid, 5]);
    assert.equal(r.hasExited(pid), false);
  } finally {
    r.stop();
  }
});

test('as subreaper, an orphaned grandchild is reaped and reported', async () => {
  const r = new Reaper(realSys, realShimSys);
  r.start(true);
  const seen: Exit[] = [];
  const off = r.subscribe((e) => seen.push(e));
  try {
    // The shell prints the background child's pid and exits at once: the child is reparented to us.
    const [rd, wr] = realShimSys.pipe();
    const p = r.spawn({ argv: ['/bin/sh', '-c', 'sleep 0.2 & echo $!; exit 0'], stdio: [-1, wr, -1] });
    const fs = await import('node:fs');
    fs.closeSync(wr);
    await p.exited;
    const buf = Buffer.alloc(32);
    const n = fs.readSync(rd, buf, 0, 32, null);
    fs.closeSync(rd);
    const orphan = Number(buf.subarray(0, n).toString().trim());
    assert.ok(orphan > 0);
    const e = await r.wait(orphan);
    assert.equal(e.status, 0);
    assert.ok(seen.some((x) => x.pid === orphan));
  } finally {
    off();
    r.stop();
    realSys.setChildSubreaper(false);
  }
});
