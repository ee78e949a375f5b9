// Unit tests of src/oci/semantic.ts: one test per rule, each asserting the exact pointer and reason.
// Works in a private temp bundle; needs no root.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RuntimeError } from '../errors/index';
import type { Spec } from '../../spec/types/runtime';
import {
  capabilityNumbers,
  checkSpec,
  isSystemdCgroupsPath,
  pointer,
  rlimitNumbers,
  type CheckOptions,
} from './semantic';

let bundle: string;
before(() => {
  bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-semantic-'));
  fs.mkdirSync(path.join(bundle, 'rootfs'));
  fs.writeFileSync(path.join(bundle, 'file'), '');
});
after(() => fs.rmSync(bundle, { recursive: true, force: true }));

function base(): Spec {
  return {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: { cwd: '/', args: ['sh'] },
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }, { type: 'network' }] },
  };
}

function with_(patch: (s: Spec) => void): Spec {
  const s = base();
  patch(s);
  return s;
}

function fails(spec: Spec, message: string, opts: CheckOptions = {}): void {
  assert.throws(
    () => checkSpec(spec, bundle, 'config.json', opts),
    (err: unknown) => {
      assert.ok(err instanceof RuntimeError, String(err));
      assert.equal(err.kind, 'InvalidArgument');
      assert.equal(err.message, message);
      return true;
    },
  );
}

function passes(spec: Spec, opts: CheckOptions = {}): string[] {
  const warnings: string[] = [];
  checkSpec(spec, bundle, 'config.json', { ...opts, warn: (m) => warnings.push(m) });
  return warnings;
}

test('a sound config passes without warnings', () => {
  assert.deepEqual(passes(base()), []);
});

test('ociVersion must be a 1.x SemVer version', () => {
  for (const v of ['1.0.0', '1.0.2-dev', '1.3.0-rc.1', '1.1.0+build.5']) passes(with_((s) => (s.ociVersion = v)));
  fails(
    with_((s) => (s.ociVersion = '2.0.0')),
    'config.json: /ociVersion: unsupported version "2.0.0": want a 1.x SemVer version',
  );
  fails(
    with_((s) => (s.ociVersion = '1.0')),
    'config.json: /ociVersion: unsupported version "1.0": want a 1.x SemVer version',
  );
  fails(
    with_((s) => (s.ociVersion = '0.6.0')),
    'config.json: /ociVersion: unsupported version "0.6.0": want a 1.x SemVer version',
  );
});

test('root is required, and root.path must be an existing directory relative to the bundle', () => {
  fails(
    with_((s) => delete s.root),
    "config.json: /: must have required property 'root'",
  );
  fails(
    with_((s) => (s.root = { path: 'nope' })),
    `config.json: /root/path: rootfs ${bundle}/nope does not exist`,
  );
  fails(
    with_((s) => (s.root = { path: 'file' })),
    `config.json: /root/path: rootfs ${bundle}/file is not a directory`,
  );
  passes(with_((s) => (s.root = { path: path.join(bundle, 'rootfs') })));
});

test('process is required, with at least one arg and an absolute cwd', () => {
  fails(
    with_((s) => delete s.process),
    "config.json: /: must have required property 'process'",
  );
  fails(
    with_((s) => (s.process!.args = [])),
    'config.json: /process/args: must have at least one entry',
  );
  fails(
    with_((s) => delete s.process!.args),
    'config.json: /process/args: must have at least one entry',
  );
  fails(
    with_((s) => (s.process!.cwd = 'home')),
    'config.json: /process/cwd: must be an absolute path, got "home"',
  );
});

test('rlimits: known names, no duplicates, soft <= hard', () => {
  passes(with_((s) => (s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 }])));
  fails(
    with_((s) => (s.process!.rlimits = [{ type: 'RLIMIT_NOFILES', soft: 1, hard: 1 }])),
    'config.json: /process/rlimits/0/type: unknown rlimit "RLIMIT_NOFILES"',
  );
  fails(
    with_(
      (s) =>
        (s.process!.rlimits = [
          { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
          { type: 'RLIMIT_NOFILE', soft: 1, hard: 1 },
          { type: 'RLIMIT_CORE', soft: 1, hard: 1 },
        ]),
    ),
    'config.json: /process/rlimits/2: duplicate rlimit "RLIMIT_CORE"',
  );
  fails(
    with_((s) => (s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 5 }])),
    'config.json: /process/rlimits/0: soft limit 10 exceeds hard limit 5',
  );
  assert.equal(rlimitNumbers['RLIMIT_NOFILE'], 7);
  assert.equal(rlimitNumbers['RLIMIT_RTTIME'], 15);
});

test('unknown capabilities are a warning, as config.md requires, not an error', () => {
  const warnings = passes(
    with_((s) => (s.process!.capabilities = { bounding: ['CAP_CHOWN', 'CAP_FROB'], ambient: ['CHOWN'] })),
  );
  assert.deepEqual(warnings, [
    'config.json: /process/capabilities/bounding/1: unknown capability "CAP_FROB", ignored',
    'config.json: /process/capabilities/ambient/0: unknown capability "CHOWN", ignored',
  ]);
  assert.equal(capabilityNumbers['CAP_SYS_ADMIN'], 21);
  assert.equal(capabilityNumbers['CAP_CHECKPOINT_RESTORE'], 40);
});

test('scheduler: nice range, priority and deadline fields only for their policies', () => {
  passes(with_((s) => (s.process!.scheduler = { policy: 'SCHED_FIFO', priority: 10 })));
  fails(
    with_((s) => (s.process!.scheduler = { policy: 'SCHED_OTHER', nice: 20 })),
    'config.json: /process/scheduler/nice: must be within -20..19, got 20',
  );
  fails(
    with_((s) => (s.process!.scheduler = { policy: 'SCHED_OTHER', priority: 1 })),
    'config.json: /process/scheduler/priority: can only be set for SCHED_FIFO or SCHED_RR',
  );
  fails(
    with_((s) => (s.process!.scheduler = { policy: 'SCHED_BATCH', runtime: 100 })),
    'config.json: /process/scheduler: runtime, deadline and period can only be set for SCHED_DEADLINE',
  );
});

test('hook paths must be absolute', () => {
  fails(
    with_((s) => (s.hooks = { poststart: [{ path: '/bin/true' }, { path: 'hook.sh' }] })),
    'config.json: /hooks/poststart/1/path: must be an absolute path, got "hook.sh"',
  );
});

test('mounts: relative destinations warn (deprecated, relative to "/"), bind mounts need a source', () => {
  const warnings = passes(with_((s) => (s.mounts = [{ destination: 'data', type: 'tmpfs', source: 'tmpfs' }])));
  assert.deepEqual(warnings, [
    'config.json: /mounts/0/destination: relative mount destination "data" is deprecated, using it as relative to "/"',
  ]);
  fails(
    with_(
      (s) =>
        (s.mounts = [
          { destination: '/proc', type: 'proc', source: 'proc' },
          { destination: '/data', options: ['rbind', 'ro'] },
        ]),
    ),
    'config.json: /mounts/1: bind mount needs a source',
  );
  fails(
    with_((s) => (s.mounts = [{ destination: '/d', type: 'bind' }])),
    'config.json: /mounts/0: bind mount needs a source',
  );
  const map = [{ containerID: 0, hostID: 1000, size: 1 }];
  fails(
    with_(
      (s) => (s.mounts = [{ destination: '/d', type: 'tmpfs', source: 'tmpfs', uidMappings: map, gidMappings: map }]),
    ),
    'config.json: /mounts/0: uidMappings/gidMappings are only supported on bind mounts',
  );
  fails(
    with_((s) => (s.mounts = [{ destination: '/d', source: '/src', options: ['bind'], uidMappings: map }])),
    'config.json: /mounts/0: id-mapped mount needs both uidMappings and gidMappings',
  );
});

test('namespaces: no duplicate types, absolute paths', () => {
  fails(
    with_((s) => s.linux!.namespaces!.push({ type: 'pid', path: '/proc/1/ns/pid' })),
    'config.json: /linux/namespaces/5: duplicate namespace "pid"',
  );
  fails(
    with_((s) => s.linux!.namespaces!.push({ type: 'cgroup', path: 'proc/1/ns/cgroup' })),
    'config.json: /linux/namespaces/5/path: must be an absolute path, got "proc/1/ns/cgroup"',
  );
});

test('user namespace and id mappings go together', () => {
  const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
  fails(
    with_((s) => s.linux!.namespaces!.push({ type: 'user' })),
    'config.json: /linux/namespaces/5: user namespace requested without uidMappings and gidMappings',
  );
  fails(
    with_((s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = map;
    }),
    'config.json: /linux/namespaces/5: user namespace requested without gidMappings',
  );
  passes(
    with_((s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = map;
      s.linux!.gidMappings = map;
    }),
  );
  // Joining an existing user namespace needs no maps.
  passes(with_((s) => s.linux!.namespaces!.push({ type: 'user', path: '/proc/1/ns/user' })));
  fails(
    with_((s) => (s.linux!.uidMappings = map)),
    'config.json: /linux/uidMappings: user namespace mappings given without a user namespace',
  );
  fails(
    with_((s) => (s.linux!.gidMappings = map)),
    'config.json: /linux/gidMappings: user namespace mappings given without a user namespace',
  );
});

test('hostname and domainname need a UTS namespace', () => {
  const noUts = (s: Spec) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts'));
  passes(with_((s) => (s.hostname = 'box')));
  fails(
    with_((s) => {
      noUts(s);
      s.hostname = 'box';
    }),
    'config.json: /hostname: unable to set hostname without a private UTS namespace',
  );
  fails(
    with_((s) => {
      noUts(s);
      s.domainname = 'example.com';
    }),
    'config.json: /domainname: unable to set domainname without a private UTS namespace',
  );
});

test('sysctls: net.* need a network namespace, IPC keys an IPC namespace, others are refused', () => {
  const drop = (s: Spec, t: string) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== t));
  passes(
    with_(
      (s) =>
        (s.linux!.sysctl = {
          'net.ipv4.ip_forward': '1',
          'kernel.shmmax': '1',
          'fs.mqueue.msg_max': '10',
          'kernel.domainname': 'x',
        }),
    ),
  );
  passes(with_((s) => (s.linux!.sysctl = { 'net/ipv4/conf/eth0.100/rp_filter': '1' })));
  fails(
    with_((s) => {
      drop(s, 'network');
      s.linux!.sysctl = { 'net/ipv4/ip_forward': '1' };
    }),
    `config.json: ${pointer('linux', 'sysctl', 'net/ipv4/ip_forward')}: sysctl "net.ipv4.ip_forward" is not allowed in the host's network namespace`,
  );
  fails(
    with_((s) => {
      s.linux!.namespaces = s.linux!.namespaces!.map((n) =>
        n.type === 'network' ? { type: 'network', path: '/proc/self/ns/net' } : n,
      );
      s.linux!.sysctl = { 'net.core.somaxconn': '1' };
    }),
    `config.json: /linux/sysctl/net.core.somaxconn: sysctl "net.core.somaxconn" is not allowed in the host's network namespace`,
  );
  fails(
    with_((s) => {
      drop(s, 'ipc');
      s.linux!.sysctl = { 'kernel.msgmax': '1' };
    }),
    `config.json: /linux/sysctl/kernel.msgmax: sysctl "kernel.msgmax" is not allowed in the host's ipc namespace`,
  );
  fails(
    with_((s) => {
      drop(s, 'ipc');
      s.linux!.sysctl = { 'fs.mqueue.queues_max': '1' };
    }),
    `config.json: /linux/sysctl/fs.mqueue.queues_max: sysctl "fs.mqueue.queues_max" is not allowed in the host's ipc namespace`,
  );
  fails(
    with_((s) => (s.linux!.sysctl = { 'kernel.hostname': 'x' })),
    'config.json: /linux/sysctl/kernel.hostname: sysctl "kernel.hostname" is not allowed as it conflicts with the OCI "hostname" field',
  );
  fails(
    with_((s) => (s.linux!.sysctl = { 'vm.swappiness': '1' })),
    'config.json: /linux/sysctl/vm.swappiness: sysctl "vm.swappiness" is not in a separate kernel namespace',
  );
  fails(
    with_((s) => {
      s.linux!.namespaces = s.linux!.namespaces!.map((n) =>
        n.type === 'network' ? { type: 'network', path: '/nonexistent/netns' } : n,
      );
      s.linux!.sysctl = { 'net.core.somaxconn': '1' };
    }),
    'config.json: /linux/namespaces/4/path: stat /nonexistent/netns: ENOENT',
  );
});

test('devices: absolute paths, valid types, major/minor unless a fifo', () => {
  passes(
    with_(
      (s) =>
        (s.linux!.devices = [
          { path: '/dev/fuse', type: 'c', major: 10, minor: 229 },
          { path: '/dev/pipe', type: 'p' },
        ]),
    ),
  );
  fails(
    with_((s) => (s.linux!.devices = [{ path: 'dev/fuse', type: 'c', major: 10, minor: 229 }])),
    'config.json: /linux/devices/0/path: must be an absolute path, got "dev/fuse"',
  );
  fails(
    with_((s) => (s.linux!.devices = [{ path: '/dev/x', type: 'x', major: 1, minor: 1 }])),
    'config.json: /linux/devices/0/type: invalid device type "x"',
  );
  fails(
    with_((s) => (s.linux!.devices = [{ path: '/dev/sda', type: 'b', major: 8 }])),
    'config.json: /linux/devices/0: device /dev/sda of type b needs major and minor',
  );
});

test('masked and readonly paths: absolute, and only with a mount namespace', () => {
  passes(with_((s) => (s.linux!.maskedPaths = ['/proc/kcore'])));
  fails(
    with_((s) => (s.linux!.readonlyPaths = ['/proc/sys', 'proc/bus'])),
    'config.json: /linux/readonlyPaths/1: must be an absolute path, got "proc/bus"',
  );
  fails(
    with_((s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
      s.linux!.maskedPaths = ['/proc/kcore'];
    }),
    'config.json: /linux/maskedPaths: unable to restrict paths without a private mount namespace',
  );
});

test('time offsets need a time namespace', () => {
  fails(
    with_((s) => (s.linux!.timeOffsets = { monotonic: { secs: 1 } })),
    'config.json: /linux/timeOffsets: time offsets given without a time namespace',
  );
  passes(
    with_((s) => {
      s.linux!.namespaces!.push({ type: 'time' });
      s.linux!.timeOffsets = { monotonic: { secs: 1 } };
    }),
  );
});

test('cgroupsPath: systemd form exactly when --systemd-cgroup is given', () => {
  passes(with_((s) => (s.linux!.cgroupsPath = '/keel/c1')));
  passes(
    with_((s) => (s.linux!.cgroupsPath = 'system.slice:keel:c1')),
    { systemdCgroup: true },
  );
  passes(
    with_((s) => (s.linux!.cgroupsPath = ':keel:c1')),
    { systemdCgroup: true },
  );
  fails(
    with_((s) => (s.linux!.cgroupsPath = 'system.slice:keel:c1')),
    'config.json: /linux/cgroupsPath: "system.slice:keel:c1" is a systemd "slice:prefix:name" path, which needs --systemd-cgroup',
  );
  fails(
    with_((s) => (s.linux!.cgroupsPath = '/keel/c1')),
    'config.json: /linux/cgroupsPath: expected "slice:prefix:name" for systemd cgroups, got "/keel/c1"',
    { systemdCgroup: true },
  );
  fails(
    with_((s) => (s.linux!.cgroupsPath = 'system:keel:c1')),
    'config.json: /linux/cgroupsPath: invalid slice name "system": must end in ".slice"',
    { systemdCgroup: true },
  );
  assert.equal(isSystemdCgroupsPath('a.slice:b:c'), true);
  assert.equal(isSystemdCgroupsPath('/a:b:c'), false);
});

test('intelRdt closID and seccomp listener metadata', () => {
  fails(
    with_((s) => (s.linux!.intelRdt = { closID: '../x' })),
    'config.json: /linux/intelRdt/closID: invalid closID "../x"',
  );
  fails(
    with_((s) => (s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'x' })),
    'config.json: /linux/seccomp/listenerMetadata: must not be set without listenerPath',
  );
});

test('pointer escapes ~ and / (RFC 6901)', () => {
  assert.equal(pointer('linux', 'sysctl', 'a/b~c'), '/linux/sysctl/a~1b~0c');
});

test('the file name given is the message prefix', () => {
  assert.throws(
    () =>
      checkSpec(
        with_((s) => (s.ociVersion = '9.0.0')),
        bundle,
        '/b/config.json',
      ),
    {
      message: '/b/config.json: /ociVersion: unsupported version "9.0.0": want a 1.x SemVer version',
    },
  );
});
