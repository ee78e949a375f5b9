// dock save [-o FILE] IMAGE... and dock load [-i FILE] [-q]: image tarballs (docker-archive + OCI layout).
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { errors } from '../../../src/errors/index';
import { loadImages, saveImages } from '../../../src/manager/images/archive';
import type { Cli } from './context';

export function register(program: Command, cli: Cli): void {
  program
    .command('save')
    .description('Save one or more images to a tar archive (streamed to STDOUT by default)')
    .argument('<images...>')
    .option('-o, --output <file>', 'write to a file, instead of STDOUT')
    .action(
      cli.action(async (dock, images: string[], o: { output?: string }) => {
        if (!o.output && process.stdout.isTTY) throw errors.invalid('cowardly refusing to save to a terminal. Use the -o flag or redirect');
        if (!o.output) return saveImages(dock, images, process.stdout);
        const tmp = `${o.output}.${process.pid}.tmp`;
        try {
          await saveImages(dock, images, createWriteStream(tmp));
          await rename(tmp, o.output);
        } catch (e) {
          await rm(tmp, { force: true });
          throw e;
        }
      }),
    );
  program
    .command('load')
    .description('Load an image from a tar archive or STDIN')
    .option('-i, --input <file>', 'read from tar archive file, instead of STDIN')
    .option('-q, --quiet', 'suppress the load output', false)
    .action(
      cli.action(async (dock, o: { input?: string; quiet: boolean }) => {
        if (!o.input && process.stdin.isTTY) throw errors.invalid('requested load from stdin, but stdin is empty');
        const r = await loadImages(dock, o.input ? createReadStream(o.input) : process.stdin);
        if (o.quiet) return;
        for (const n of r.loaded) process.stdout.write(`Loaded image: ${n}\n`);
        for (const id of r.untaggedIds) process.stdout.write(`Loaded image ID: ${id}\n`);
      }),
    );
}
