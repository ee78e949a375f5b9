// dock rmi IMAGE...: untag/delete each image, then garbage-collect unreferenced blobs and snapshots.
import type { Command } from 'commander';
import { messageOf } from '../../../src/errors/index';
import { gc, removeImage } from '../../../src/manager/images/remove';
import { listImages } from '../../../src/manager/images/resolve';
import { gcSnapshots } from '../../../src/manager/snapshots/unpack';
import type { Cli } from './context';

export function register(program: Command, cli: Cli): void {
  program
    .command('rmi')
    .description('Remove one or more images')
    .argument('<images...>')
    .option('-f, --force', 'force removal of the image', false)
    .action(
      cli.action(async (dock, names: string[], o: { force: boolean }) => {
        let code = 0;
        for (const n of names) {
          try {
            const r = await removeImage(dock, n, { force: o.force });
            for (const u of r.untagged) process.stdout.write(`Untagged: ${u}\n`);
            for (const d of r.deleted) process.stdout.write(`Deleted: ${d}\n`);
          } catch (e) {
            process.stderr.write(`Error: ${messageOf(e)}\n`);
            code = 1;
          }
        }
        await gc(dock);
        await gcSnapshots(dock.snapshotter, (await listImages(dock)).map((i) => i.config.rootfs.diff_ids));
        return code;
      }),
    );
}
