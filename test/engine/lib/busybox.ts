// The test image: Debian's static busybox as a rootfs tar, imported into an engine as busybox:latest
// with the docker CLI (`docker import`), the same way for dock and for dockerd.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeBusyboxRootfs } from '../../../conformance/lib/rootfs';

let cached: string | undefined;

/** A tar of a busybox rootfs (built once per process, removed at exit). */
export function busyboxTar(): string {
  if (cached && fs.existsSync(cached)) return cached;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-tar-'));
  const root = path.join(dir, 'rootfs');
  fs.mkdirSync(root);
  makeBusyboxRootfs(root);
  const tar = path.join(dir, 'busybox.tar');
  execFileSync('tar', ['-C', root, '--numeric-owner', '-cf', tar, '.']);
  fs.rmSync(root, { recursive: true, force: true });
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  cached = tar;
  return tar;
}

export const BUSYBOX_CHANGES = ['ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'CMD ["sh"]'];
