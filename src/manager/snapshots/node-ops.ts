// The two filesystem operations Node lacks that layer extraction needs: mknod (device nodes, fifos,
// overlay whiteouts) and lsetxattr (file capabilities, overlay opaque dirs). Done through coreutils'
// mknod and attr's setfattr: they are rare in layers, so a process per call costs little.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { errors, RuntimeError } from '../../errors/index';

const run = promisify(execFile);

export interface NodeOps {
  /** mknod(2): kind 'c' (char), 'b' (block) or 'p' (fifo); mode gives the permission bits. */
  mknod(path: string, kind: 'c' | 'b' | 'p', major: number, minor: number, mode: number): Promise<void>;
  /** lsetxattr(2): sets an extended attribute without following a final symlink. */
  lsetxattr(path: string, name: string, value: Buffer): Promise<void>;
}

export const cliNodeOps: NodeOps = {
  async mknod(path, kind, major, minor, mode) {
    const args = ['-m', (mode & 0o7777).toString(8), '--', path, kind];
    if (kind !== 'p') args.push(String(major), String(minor));
    try {
      await run('mknod', args);
    } catch (e) {
      throw errors.internal(`mknod ${path}: ${String((e as { stderr?: string }).stderr ?? (e as Error).message).trim()}`);
    }
  },
  async lsetxattr(path, name, value) {
    try {
      await run('setfattr', ['-h', '-n', name, '-v', `0x${value.toString('hex')}`, '--', path]);
    } catch (e) {
      const msg = String((e as { stderr?: string }).stderr ?? (e as Error).message).trim();
      throw new RuntimeError(/Operation not supported/.test(msg) ? 'NotImplemented' : 'Internal', `lsetxattr ${path} ${name}: ${msg}`);
    }
  },
};
