// Test bundles: a busybox rootfs built once per process and copied per bundle, and a config
// derived from `keel spec` with the changes a test asks for.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Spec } from '../../spec/types/runtime';
import { copyRootfs, makeBusyboxRootfs } from '../../conformance/lib/rootfs';
import { defaultSpec } from '../../src/oci/default-spec';

let template: string | undefined;

/** A busybox rootfs template shared by the tests of this process (removed by cleanupTemplate). */
export function rootfsTemplate(): string {
  if (!template) {
    template = fs.mkdtempSync('/tmp/keel-rootfs-');
    makeBusyboxRootfs(template);
  }
  return template;
}

export function cleanupTemplate(): void {
  if (template) fs.rmSync(template, { recursive: true, force: true });
  template = undefined;
}

/** Writes <dir>/config.json (defaults: not a terminal, writable root) and <dir>/rootfs. */
export function makeBundle(dir: string, edit: (spec: Spec) => void = () => undefined): string {
  fs.mkdirSync(path.join(dir, 'rootfs'), { recursive: true });
  copyRootfs(rootfsTemplate(), path.join(dir, 'rootfs'));
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.root!.readonly = false;
  edit(spec);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec, null, 2));
  return dir;
}

/** Mount points under prefix still in this mount namespace (leak checks). */
export function mountsUnder(prefix: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(prefix));
}

/** cgroup directories named id in any v1 hierarchy or the unified one (leak checks). */
export function cgroupDirsNamed(id: string): string[] {
  const out: string[] = [];
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    const p = path.join('/sys/fs/cgroup', h, id);
    if (fs.existsSync(p)) out.push(p);
  }
  return out;
}
