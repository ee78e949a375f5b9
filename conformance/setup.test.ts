// Conformance: container setup details that scripts around runc rely on: who owns the console, what
// a createContainer hook mounts, a read-only /dev, bind sources only the host's root may read in a
// user namespace, /proc under --no-pivot, and the warning for a cgroup that is not empty.
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Conformance, removeCgroup, v1Hierarchies } from './lib/runtime';

const h = new Conformance('setup');
const BOUND = 30_000;

/** A shell snippet printing "<mountpoint> ro|rw" for each of the space-separated mount points. */
function mountOpt(points: string): string {
  return `for m in ${points}; do echo "$m $(awk -v m=$m '$2 == m { split($4, o, ","); print o[1] }' /proc/self/mounts)"; done`;
}

h.scenario('the console of a non-root process (uid 1000, terminal) is owned by that user', (rt) => {
  const b = h.bundle(rt, (c) => {
    c.process!.terminal = true;
    c.process!.user = { uid: 1000, gid: 1000 };
    c.process!.args = ['sh', '-c', 'echo "tty=$(stat -c %u $(readlink /proc/self/fd/0))"'];
  });
  const r = h.runTty(rt, b, BOUND);
  assert.equal(r.timedOut, false);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /tty=1000\b/);
});

h.scenario('a bind mount made by a createContainer hook (cwd: the rootfs, in the container\'s mount namespace) is in the container', (rt) => {
  const src = path.join(h.scratch('hook-src'), 'lib.so');
  fs.writeFileSync(src, 'from-the-hook\n');
  const b = h.bundle(rt, (c) => {
    c.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `touch ./hooked && mount --bind ${src} ./hooked`] }] };
    c.process!.args = ['cat', '/hooked'];
  });
  const r = h.run(rt, b);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'from-the-hook\n');
});

h.scenario('a read-only /dev: devices and /dev/pts are made, then /dev (alone) is read-only', (rt) => {
  const b = h.bundle(rt, (c) => {
    c.mounts = c.mounts!.map((m) => (m.destination === '/dev' ? { ...m, options: [...(m.options ?? []), 'ro'] } : m));
    c.process!.args = ['sh', '-c', `${mountOpt('/dev /dev/pts /dev/shm')}; /probe open /dev/null w; touch /dev/new 2>/dev/null || echo no-new-file`];
  });
  const r = h.run(rt, b);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '/dev ro\n/dev/pts rw\n/dev/shm rw\nok\nno-new-file\n');
});

h.scenario('user namespace: a bind whose source only the host\'s root may reach (0700 parent) is mounted', (rt) => {
  const outer = h.scratch('private');
  const inner = path.join(outer, 'inner');
  fs.mkdirSync(inner, { mode: 0o755 });
  fs.writeFileSync(path.join(inner, 'f'), 'reachable\n', { mode: 0o644 });
  fs.chmodSync(outer, 0o700);
  const b = h.bundle(rt, (c) => {
    c.linux!.namespaces!.push({ type: 'user' });
    c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.mounts = c.mounts!.filter((m) => m.destination !== '/sys/fs/cgroup');
    c.mounts.push({ destination: '/mnt/in', type: 'bind', source: inner, options: ['bind', 'ro'] });
    c.process!.args = ['sh', '-c', `cat /mnt/in/f; ${mountOpt('/mnt/in')}`];
  });
  fs.mkdirSync(path.join(b.dir, 'rootfs', 'mnt', 'in'), { recursive: true });
  const r = h.run(rt, b);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'reachable\n/mnt/in ro\n', 'the mount is there and keeps its ro');
});

h.scenario('--no-pivot: the container cannot mount a fresh /proc past the masked paths', (rt) => {
  const b = h.bundle(rt, (c) => {
    c.process!.args = ['unshare', '-mrpf', 'sh', '-c', 'mount -t proc none /proc && echo mounted-proc'];
    c.process!.capabilities!.bounding!.push('CAP_SETFCAP');
    c.process!.capabilities!.permitted!.push('CAP_SETFCAP');
  });
  const r = h.bounded(rt, BOUND, 'run', '--no-pivot', '--bundle', b.dir, b.id);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /mount: permission denied/);
  assert.doesNotMatch(r.stdout, /mounted-proc/);
});

h.scenario(
  'a cgroup that already holds a process: the create warns "container\'s cgroup is not empty" and goes on',
  async (rt) => {
    const cg = `/keel-conf-busy-${process.pid}-${rt.name}`;
    const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      for (const hier of v1Hierarchies()) {
        if (!fs.existsSync(path.join(hier, 'cgroup.procs'))) continue;
        fs.mkdirSync(path.join(hier, cg));
        // cpuset needs cpus and mems before anything can join.
        for (const f of ['cpuset.cpus', 'cpuset.mems']) if (fs.existsSync(path.join(hier, f))) fs.writeFileSync(path.join(hier, cg, f), fs.readFileSync(path.join(hier, f)));
        fs.writeFileSync(path.join(hier, cg, 'cgroup.procs'), String(sleeper.pid));
      }
      const b = h.bundle(rt, (c) => {
        c.linux!.cgroupsPath = cg;
        c.process!.args = ['true'];
      });
      const r = h.run(rt, b);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /container's cgroup is not empty: 1 process\(es\) found/);
    } finally {
      sleeper.kill('SIGKILL');
      removeCgroup(cg);
    }
  },
  () => (v1Hierarchies().length > 0 ? undefined : 'needs cgroup v1 hierarchies'),
);

h.finish();
