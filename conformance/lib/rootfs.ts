// Builds small root filesystems for tests, the demo and benchmarks: Debian's static busybox with
// one symlink per applet, a passwd/group pair and the usual empty mount points. Test data only.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

export const busyboxPath = '/bin/busybox';

/** Creates a busybox rootfs at dir (which may exist and be empty). */
export function makeBusyboxRootfs(dir: string): void {
  if (!fs.existsSync(busyboxPath)) throw new Error(`${busyboxPath} missing: apt-get install busybox-static`);
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'proc', 'sys', 'dev', 'etc', 'tmp', 'root', 'var', 'run', 'home']) {
    fs.mkdirSync(path.join(dir, d), { recursive: true });
  }
  // The root itself may come from mkdtemp (0700); a container's / must be searchable by every user.
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(path.join(dir, 'tmp'), 0o1777);
  fs.copyFileSync(busyboxPath, path.join(dir, 'bin', 'busybox'));
  fs.chmodSync(path.join(dir, 'bin', 'busybox'), 0o755);
  const applets = spawnSync(busyboxPath, ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  for (const a of applets) {
    if (a === 'busybox') continue;
    const link = path.join(dir, 'bin', a);
    if (!fs.existsSync(link)) fs.symlinkSync('busybox', link);
  }
  fs.writeFileSync(path.join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  fs.writeFileSync(path.join(dir, 'etc', 'group'), 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n');
  fs.writeFileSync(path.join(dir, 'etc', 'hostname'), 'busybox\n');
}

/** A cached busybox rootfs under dir/.cache, copied (cp -a) into each bundle, which is faster than rebuilding. */
export function copyRootfs(template: string, dest: string): void {
  const r = spawnSync('cp', ['-a', `${template}/.`, dest]);
  if (r.status !== 0) throw new Error(`cp -a ${template} ${dest}: ${r.stderr}`);
}
