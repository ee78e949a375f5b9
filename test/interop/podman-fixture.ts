// A private podman 4.3 for the interop tests and bench: its own storage root, runroot, tmpdir and
// containers.conf (vfs, cgroupfs, file events, ulimits the host can grant, JSON logs for keel).
// Owns the files under its directory; runs nothing itself.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const PODMAN_IMAGE = 'localhost/busybox:keel';

/** Installs podman with apt when it is missing (the only network use, via Debian's client). */
export function ensurePodman(): boolean {
  if (fs.existsSync('/usr/bin/podman')) return true;
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'podman'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return r.status === 0 && fs.existsSync('/usr/bin/podman');
}

/**
 * Writes <dir>/containers.conf. podman asks for nofile=1048576 and nproc=4194304 by default, which
 * needs CAP_SYS_RESOURCE to raise the hard limits; ask for what any root shell can set. podman
 * passes `--log-format json --log <bundle>/oci-log` only to runtimes whose basename is listed in
 * runtime_supports_json.
 */
export function writePodmanConfig(dir: string): void {
  fs.writeFileSync(
    path.join(dir, 'containers.conf'),
    [
      '[containers]',
      'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `events_logfile_path = "${path.join(dir, 'events.log')}"`,
      'runtime_supports_json = ["keel", "runc", "crun"]',
      '',
    ].join('\n'),
  );
  fs.writeFileSync(path.join(dir, 'storage.conf'), ['[storage]', 'driver = "vfs"', `graphroot = "${path.join(dir, 'root')}"`, `runroot = "${path.join(dir, 'runroot')}"`, ''].join('\n'));
}

/** podman's global flags for the private instance in dir. */
export function podmanGlobals(dir: string): string[] {
  return ['--root', path.join(dir, 'root'), '--runroot', path.join(dir, 'runroot'), '--tmpdir', path.join(dir, 'tmp'), '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
}

/** Environment pointing podman at the private configuration. */
export function podmanEnv(dir: string): NodeJS.ProcessEnv {
  return { ...process.env, CONTAINERS_CONF: path.join(dir, 'containers.conf'), CONTAINERS_STORAGE_CONF: path.join(dir, 'storage.conf') };
}
