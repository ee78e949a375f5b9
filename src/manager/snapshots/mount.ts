// Performs and undoes snapshot Mounts on a target directory with mount(8)/umount(8). Overlay's
// lowerdir can exceed mount(2)'s one-page option limit with many layers; mount(8) reports that.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { errors } from '../../errors/index';
import type { Mount } from './index';

const run = promisify(execFile);

async function mount(args: string[]): Promise<void> {
  try {
    await run('mount', args);
  } catch (e) {
    throw errors.internal(`mount ${args.at(-1)}: ${String((e as { stderr?: string }).stderr ?? (e as Error).message).trim()}`);
  }
}

/** Mounts each entry on target in order. */
export async function mountAll(mounts: Mount[], target: string): Promise<void> {
  for (const m of mounts) {
    if (m.type === 'bind') {
      const ro = m.options.includes('ro');
      await mount(['--rbind', m.source, target]);
      if (ro) await mount(['-o', 'remount,bind,ro', target]);
    } else {
      await mount(['-t', m.type, '-o', m.options.join(','), m.source, target]);
    }
  }
}

/** Unmounts everything mounted on target (lazily when busy is not acceptable: callers stop processes first). */
export async function unmountAll(target: string): Promise<void> {
  try {
    await run('umount', ['-R', target]);
  } catch (e) {
    const msg = String((e as { stderr?: string }).stderr ?? '');
    if (/not mounted|no mount point/.test(msg)) return;
    throw errors.internal(`umount ${target}: ${msg.trim()}`);
  }
}
