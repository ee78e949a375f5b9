// Conformance: namespaces (new, shared with the host, joined by path) and user-namespace id maps,
// observed through /proc/self/ns and /proc/self/{uid,gid}_map inside the container, for keel and runc.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Conformance } from './lib/runtime';
import { parseReport } from './lib/probe';

const h = new Conformance('namespaces');

function hostNs(kind: string): string {
  return fs.readlinkSync(`/proc/self/ns/${kind}`);
}

h.scenario('default namespaces are new; user and cgroup are the host one', (rt) => {
  const r = h.run(rt, h.bundle(rt));
  assert.equal(r.code, 0, r.stderr);
  const p = parseReport(r.stdout);
  for (const kind of ['pid', 'net', 'ipc', 'uts', 'mnt']) assert.notEqual(p.ns[kind], hostNs(kind), `${kind} namespace is new`);
  assert.equal(p.ns.user, hostNs('user'));
  assert.equal(p.ns.cgroup, hostNs('cgroup'));
  assert.equal(p.pid, 1, 'the process is pid 1 of its pid namespace');
});

h.scenario('cgroup namespace when asked', (rt) => {
  const b = h.bundle(rt, (c) => c.linux!.namespaces!.push({ type: 'cgroup' }));
  const r = h.run(rt, b);
  assert.equal(r.code, 0, r.stderr);
  assert.notEqual(parseReport(r.stdout).ns.cgroup, hostNs('cgroup'));
});

h.scenario('without network and ipc entries the host namespaces are kept', (rt) => {
  const b = h.bundle(rt, (c) => {
    c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'network' && n.type !== 'ipc');
  });
  const r = h.run(rt, b);
  assert.equal(r.code, 0, r.stderr);
  const p = parseReport(r.stdout);
  assert.equal(p.ns.net, hostNs('net'));
  assert.equal(p.ns.ipc, hostNs('ipc'));
  assert.notEqual(p.ns.pid, hostNs('pid'));
});

h.scenario('joins a network and a uts namespace by path', async (rt) => {
  // A holder process owning fresh net+uts namespaces; killed by pid at the end.
  const holder = spawn('unshare', ['--net', '--uts', 'sh', '-c', 'hostname holder-uts; echo up; exec sleep 600'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      holder.stdout.once('data', () => resolve());
      holder.once('exit', (c) => reject(new Error(`unshare exited ${c}`)));
    });
    const netPath = `/proc/${holder.pid}/ns/net`;
    const utsPath = `/proc/${holder.pid}/ns/uts`;
    const b = h.bundle(rt, (c) => {
      for (const n of c.linux!.namespaces!) {
        if (n.type === 'network') n.path = netPath;
        if (n.type === 'uts') n.path = utsPath;
      }
      delete c.hostname; // setting a hostname in a joined uts namespace would change the holder's
    });
    const r = h.run(rt, b);
    assert.equal(r.code, 0, r.stderr);
    const p = parseReport(r.stdout);
    assert.equal(p.ns.net, fs.readlinkSync(netPath));
    assert.equal(p.ns.uts, fs.readlinkSync(utsPath));
    assert.equal(p.hostname, 'holder-uts');
    assert.notEqual(p.ns.net, hostNs('net'));
  } finally {
    holder.kill('SIGKILL');
  }
});

/** A bundle with a user namespace mapping container 0..65535 to host 100000..165535. */
function userNsBundle(rt: Parameters<typeof h.bundle>[0], shared?: string) {
  return h.bundle(rt, (c) => {
    c.linux!.namespaces!.push({ type: 'user' });
    c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    // Under a user namespace the host's cgroupfs cannot be mounted; bind it like `runc spec --rootless`.
    c.mounts = c.mounts!.filter((m) => m.destination !== '/sys/fs/cgroup');
    if (shared)
      c.mounts.push({
        destination: '/shared',
        type: 'bind',
        source: shared,
        options: ['rbind', 'rw'],
      });
  });
}

h.scenario('user namespace: id maps inside, root inside, mapped owner outside', (rt) => {
  const shared = h.scratch('userns');
  fs.chownSync(shared, 100000, 200000);
  const b = userNsBundle(rt, shared);
  // Container root (host 100000) cannot mkdir in a rootfs owned by host root: make the mount point here.
  fs.mkdirSync(path.join(b.dir, 'rootfs', 'shared'));
  b.config.process!.args = ['sh', '-c', 'echo hi > /shared/made-inside && /probe report'];
  fs.writeFileSync(path.join(b.dir, 'config.json'), JSON.stringify(b.config));
  const r = h.run(rt, b);
  assert.equal(r.code, 0, r.stderr);
  const p = parseReport(r.stdout);
  assert.notEqual(p.ns.user, hostNs('user'));
  assert.deepEqual(p.uidMap.trim().split(/\s+/).map(Number), [0, 100000, 65536]);
  assert.deepEqual(p.gidMap.trim().split(/\s+/).map(Number), [0, 200000, 65536]);
  assert.deepEqual([p.uid, p.gid], [0, 0]);
  const st = fs.statSync(path.join(shared, 'made-inside'));
  assert.deepEqual([st.uid, st.gid], [100000, 200000], 'a file made by container root is owned by the mapped host ids');
});

h.scenario('user namespace: unmapped host files show as the overflow id', (rt) => {
  const b = userNsBundle(rt);
  b.config.process!.args = ['stat', '-c', '%u:%g', '/probe'];
  fs.writeFileSync(path.join(b.dir, 'config.json'), JSON.stringify(b.config));
  const s = h.run(rt, b);
  assert.equal(s.code, 0, s.stderr);
  // /probe belongs to host root, which has no mapping: the kernel shows the overflow ids.
  const overflow = fs.readFileSync('/proc/sys/kernel/overflowuid', 'utf8').trim();
  const overflowg = fs.readFileSync('/proc/sys/kernel/overflowgid', 'utf8').trim();
  assert.equal(s.stdout.trim(), `${overflow}:${overflowg}`);
});

/** Seconds of CLOCK_BOOTTIME as /proc/uptime shows them (its first field follows the time namespace). */
function uptime(text: string): number {
  return Number(text.trim().split(/\s+/)[0]);
}

h.scenario(
  'time namespace with linux.timeOffsets: monotonic and boottime shifted inside only',
  (rt) => {
    const b = h.bundle(rt, (c) => {
      c.linux!.namespaces!.push({ type: 'time' });
      c.linux!.timeOffsets = {
        monotonic: { secs: 86400, nanosecs: 5 },
        boottime: { secs: 2 * 86400 },
      };
      c.process!.args = ['sh', '-c', 'cat /proc/uptime; cat /proc/self/timens_offsets; readlink /proc/self/ns/time'];
    });
    const before = uptime(fs.readFileSync('/proc/uptime', 'utf8'));
    const r = h.run(rt, b);
    const after = uptime(fs.readFileSync('/proc/uptime', 'utf8'));
    assert.equal(r.code, 0, r.stderr);
    const [up, mono, boot, ns] = r.stdout.trim().split('\n');
    const inside = uptime(up!);
    assert.ok(inside >= before + 2 * 86400 && inside <= after + 2 * 86400, `uptime ${inside} is the host's (${before}..${after}) + 2 days`);
    assert.deepEqual(mono!.trim().split(/\s+/), ['monotonic', '86400', '5']);
    assert.deepEqual(boot!.trim().split(/\s+/), ['boottime', '172800', '0']);
    assert.notEqual(ns, hostNs('time'));
  },
  h.runcBefore(1, 2, 'time namespaces (released in 1.2.0)'),
);

h.scenario(
  'time offsets inside a user namespace',
  (rt) => {
    const b = userNsBundle(rt);
    b.config.linux!.namespaces!.push({ type: 'time' });
    b.config.linux!.timeOffsets = { boottime: { secs: 3600 } };
    b.config.process!.args = ['cat', '/proc/self/timens_offsets'];
    fs.writeFileSync(path.join(b.dir, 'config.json'), JSON.stringify(b.config));
    const r = h.run(rt, b);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^boottime\s+3600\s+0$/m);
    assert.match(r.stdout, /^monotonic\s+0\s+0$/m);
  },
  h.runcBefore(1, 2, 'time namespaces (released in 1.2.0)'),
);

h.scenario(
  'a new time namespace without offsets starts at the host clock',
  (rt) => {
    const b = h.bundle(rt, (c) => {
      c.linux!.namespaces!.push({ type: 'time' });
      c.process!.args = ['sh', '-c', 'cat /proc/self/timens_offsets; readlink /proc/self/ns/time'];
    });
    const r = h.run(rt, b);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^monotonic\s+0\s+0$/m);
    assert.notEqual(r.stdout.trim().split('\n').pop(), hostNs('time'));
  },
  h.runcBefore(1, 2, 'time namespaces (runc 1.1 answers: namespace {"time" ""} does not exist)'),
);

h.scenario("no mount namespace: the runtime's is inherited and the process is chrooted in the rootfs", (rt) => {
  const b = h.bundle(rt, (c) => {
    c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'mount');
    delete c.linux!.maskedPaths; // both need a mount namespace of their own (runc refuses them too)
    delete c.linux!.readonlyPaths;
    c.process!.args = ['sh', '-c', 'readlink /proc/self/ns/mnt; ls /; cat /proc/1/cmdline | tr "\\0" " "'];
  });
  const rootfs = path.join(b.dir, 'rootfs');
  const r = h.run(rt, b);
  assert.equal(r.code, 0, r.stderr);
  const [mnt, ...rest] = r.stdout.trim().split('\n');
  assert.equal(mnt, hostNs('mnt'));
  assert.ok(rest.includes('probe'), `/ is the rootfs: ${rest}`);
  const left = h.mountsUnderDir().filter((m) => m === rootfs || m.startsWith(rootfs + '/'));
  if (rt.name === 'runc') {
    // runc 1.1 leaves the container's mounts (its rootfs self-bind, proc, /dev, ...) in the host namespace;
    // detach them so that the file's final "no mounts" check judges the rest.
    assert.ok(left.length > 0, 'runc leaves its mounts behind (if this fails, runc now cleans up: drop this branch)');
    for (const m of left.reverse()) spawnSync('umount', ['-l', m]);
  } else {
    assert.deepEqual(left, [], "keel detaches the container's mounts at delete");
  }
});

h.scenario(
  'no mount namespace: exec follows the init into its chroot; delete detaches the mounts',
  (rt) => {
    const b = h.bundle(rt, (c) => {
      c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== 'mount');
      delete c.linux!.maskedPaths;
      delete c.linux!.readonlyPaths;
      c.process!.args = ['sleep', '600'];
    });
    const rootfs = path.join(b.dir, 'rootfs');
    const userMount = h.scratch('user-mount');
    // A mount below the rootfs made before create is the user's: it must survive delete.
    fs.mkdirSync(path.join(rootfs, 'mnt'), { recursive: true });
    assert.equal(spawnSync('mount', ['--bind', userMount, path.join(rootfs, 'mnt')]).status, 0);
    try {
      assert.equal(h.create(rt, b).code, 0, h.output(b).stderr);
      assert.equal(h.cli(rt, 'start', b.id).code, 0);
      const e = h.cli(rt, 'exec', b.id, 'sh', '-c', 'ls /; readlink /proc/self/ns/mnt');
      assert.equal(e.code, 0, e.stderr);
      assert.ok(e.stdout.split('\n').includes('probe'), `exec sees the rootfs as /: ${e.stdout}`);
      assert.ok(
        h.mountsUnderDir().some((m) => m === path.join(rootfs, 'proc')),
        "proc is mounted in the runtime's namespace",
      );
      assert.equal(h.cli(rt, 'delete', '--force', b.id).code, 0);
      const left = h.mountsUnderDir().filter((m) => m.startsWith(rootfs + '/'));
      assert.deepEqual(left, [path.join(rootfs, 'mnt')], "only the user's own mount is left");
    } finally {
      spawnSync('umount', ['-l', path.join(rootfs, 'mnt')]);
    }
  },
  // Seen here: runc 1.1.5's exec lands at the host's / (its setns init never chroots), and its delete
  // leaves proc, /dev and the rest mounted below the rootfs (the scenario above detaches them).
  (rt) => (rt.name === 'runc' ? "runc 1.1 execs at the host's / in a container without a mount namespace" : undefined),
);

h.finish();
