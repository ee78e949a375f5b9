// The default config.json that `keel spec` writes: structurally the one `runc spec` writes (terminal
// true, args ["sh"], the same mounts, masked and read-only paths and capabilities), and its rootless
// variant as runc's specconv.ToRootless makes it. Pure data; no file access.
import type { Spec } from '../../spec/types/runtime';
import { specVersion } from '../version';

const defaultCaps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** The default spec (runc libcontainer/specconv Example()). */
export function defaultSpec(): Spec {
  return {
    ociVersion: specVersion,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: [...defaultCaps],
        effective: [...defaultCaps],
        permitted: [...defaultCaps],
        ambient: [...defaultCaps],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'keel',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
        '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/**
 * The rootless variant (runc specconv.ToRootless): no network namespace, a user namespace mapping
 * the caller's euid/egid to root, no devices cgroup rule, no gid= on devpts, and /sys bind-mounted
 * from the host since sysfs cannot be mounted without a network namespace of one's own.
 */
export function rootlessSpec(uid: number, gid: number): Spec {
  const spec = defaultSpec();
  const linux = spec.linux!;
  linux.namespaces = linux.namespaces!.filter((ns) => ns.type !== 'network' && ns.type !== 'user');
  linux.namespaces.push({ type: 'user' });
  linux.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }];
  linux.gidMappings = [{ containerID: 0, hostID: gid, size: 1 }];
  delete linux.resources;
  spec.linux = { uidMappings: linux.uidMappings, gidMappings: linux.gidMappings, ...linux };
  spec.mounts = spec.mounts!.map((m) => {
    if (m.type === 'sysfs') return { destination: m.destination, type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] };
    if (m.type === 'devpts') return { ...m, options: (m.options ?? []).filter((o) => !o.startsWith('gid=')) };
    return m;
  });
  return spec;
}
