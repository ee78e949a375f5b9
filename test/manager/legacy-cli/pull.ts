// dock pull NAME[:TAG|@DIGEST]: parse, pull through src/manager/images/pull, print as docker does.
import type { Command } from 'commander';
import { pullImage } from '../../../src/manager/images/pull';
import { familiarString, formatReference, parseNormalized, parseReference } from '../../../src/manager/images/reference';
import { parsePlatform } from '../../../src/manager/images/manifest';
import { type Cli } from './context';
import { createProgressView } from './progress-view';

export function register(program: Command, cli: Cli): void {
  program
    .command('pull')
    .description('Download an image from a registry')
    .argument('<name>', 'NAME[:TAG|@DIGEST]')
    .option('--platform <platform>', 'set platform if server is multi-platform capable (os/arch[/variant])')
    .option('-q, --quiet', 'suppress verbose output', false)
    .action(
      cli.action(async (dock, name: string, o: { platform?: string; quiet: boolean }) => {
        const raw = parseNormalized(name);
        const ref = parseReference(name);
        const out = process.stdout;
        if (!o.quiet && raw.tag === undefined && raw.digest === undefined) out.write('Using default tag: latest\n');
        if (!o.quiet) out.write(`${ref.digest ?? ref.tag}: Pulling from ${ref.path}\n`);
        const view = o.quiet ? undefined : createProgressView(out);
        try {
          const r = await pullImage(dock, ref, { ...(o.platform ? { platform: parsePlatform(o.platform) } : {}), ...(view ? { progress: view.sink } : {}) });
          view?.stop();
          if (!o.quiet) {
            out.write(`Digest: ${r.record.repoDigest}\n`);
            out.write(`Status: ${r.upToDate ? 'Image is up to date for' : 'Downloaded newer image for'} ${familiarString(ref)}\n`);
          }
          out.write(`${formatReference(ref)}\n`);
        } finally {
          view?.stop();
        }
      }),
    );
}
