// bin/keel on a real cgroup v2 host, run inside ../shared/vm/cgv2-run by test/cgv2/run.sh (skipped
// elsewhere): CLONE_INTO_CGROUP and the cgroup namespace root, limits enforced (OOM kill, pids),
// the eBPF device filter, freeze/thaw, live update, stats. Each case is one keel invocation or a few:
// the guest is emulated and slow.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { cleanupTemplate, makeBundle } from '../helpers/bundle';
import { keel, tempDir } from '../helpers/keel';

const isV2 = (() => {
  try {
    return fs.readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').includes('memory');
  } catch {
    return false;
  }
})();
const skip = !isV2 && 'needs a cgroup v2 host with controllers (runs in the cgv2 VM)';
const tmp = tempDir('keel-v2-');
const root = path.join(tmp.dir, 'root');
let n = 0;
const k = (args: string[]) => keel(['--root', root, ...args], { timeout: 300_000 });
after(() => {
  for (const id of k(['list', '-q']).stdout.split('\n').filter(Boolean)) k(['delete', '--force', id]);
  cleanupTemplate();
  tmp.cleanup();
});

function bundle(edit: Parameters<typeof makeBundle>[1]): string {
  return makeBundle(fs.mkdtempSync(path.join(tmp.dir, 'b-')), edit);
}
const id = () => `v2-${process.pid}-${++n}`;

test('the init is born in its cgroup and a cgroup namespace shows it as /', { skip }, () => {
  const b = bundle((s) => {
    s.process!.args = ['sh', '-c', 'cat /proc/self/cgroup'];
    s.linux!.namespaces!.push({ type: 'cgroup' });
  });
  const r = k(['run', '--bundle', b, id()]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '0::/\n');
});

test('memory.max is enforced: a process beyond it is OOM-killed', { skip }, () => {
  const b = bundle((s) => {
    s.process!.args = ['sh', '-c', 'dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; echo status=$?'];
    s.linux!.resources = { memory: { limit: 32 * 1024 * 1024, swap: 32 * 1024 * 1024 } };
  });
  const r = k(['run', '--bundle', b, id()]);
  assert.equal(r.stdout, 'status=137\n', r.stderr);
});

test('pids.max is enforced: fork fails past the limit', { skip }, () => {
  const b = bundle((s) => {
    s.process!.args = ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do sleep 2 & done; wait; echo all-forked'];
    s.linux!.resources = { pids: { limit: 4 } };
  });
  const r = k(['run', '--bundle', b, id()]);
  assert.match(r.stderr, /can't fork/, `code ${r.code}, stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}`);
  assert.doesNotMatch(r.stdout, /all-forked/);
});

test('the eBPF device filter allows /dev/null and denies a device not in the rules', { skip }, () => {
  const b = bundle((s) => {
    s.process!.args = ['sh', '-c', 'echo x > /dev/null && echo null=ok; cat /dev/kmsg >/dev/null 2>&1 </dev/null & p=$!; sleep 0.2; kill $p 2>/dev/null; head -c1 /dev/kmsg >/dev/null 2>&1; echo kmsg=$?'];
    s.linux!.devices = [{ path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o644, uid: 0, gid: 0 }];
  });
  const r = k(['run', '--bundle', b, id()]);
  assert.match(r.stdout, /null=ok/);
  assert.match(r.stdout, /kmsg=1/, r.stdout + r.stderr);
});

test('pause/resume through cgroup.freeze, live update, stats', { skip }, () => {
  const b = bundle((s) => {
    s.process!.args = ['sleep', '600'];
    s.linux!.resources = { memory: { limit: 64 * 1024 * 1024 } };
  });
  const c = id();
  assert.equal(k(['run', '-d', '--bundle', b, c]).code, 0);
  const st = JSON.parse(k(['state', c]).stdout);
  const cg = fs.readFileSync(`/proc/${st.pid}/cgroup`, 'utf8').trim().replace(/^0::/, '');
  const dir = path.join('/sys/fs/cgroup', cg);
  assert.equal(fs.readFileSync(path.join(dir, 'memory.max'), 'utf8').trim(), String(64 * 1024 * 1024));
  assert.equal(k(['pause', c]).code, 0);
  assert.equal(JSON.parse(k(['state', c]).stdout).status, 'paused');
  assert.equal(fs.readFileSync(path.join(dir, 'cgroup.freeze'), 'utf8').trim(), '1');
  assert.equal(k(['resume', c]).code, 0);
  assert.equal(k(['update', '--memory', '128m', '--pids-limit', '20', c]).code, 0);
  assert.equal(fs.readFileSync(path.join(dir, 'memory.max'), 'utf8').trim(), String(128 * 1024 * 1024));
  assert.equal(fs.readFileSync(path.join(dir, 'pids.max'), 'utf8').trim(), '20');
  const ev = JSON.parse(k(['events', '--stats', c]).stdout);
  assert.equal(ev.type, 'stats');
  assert.ok(ev.data.memory.usage.usage > 0, 'memory usage is reported');
  assert.equal(ev.data.pids.current, 1);
  assert.equal(k(['kill', '--all', c, 'KILL']).code, 0);
  assert.equal(k(['delete', '--force', c]).code, 0);
  assert.equal(fs.existsSync(dir), false, 'cgroup removed');
});
