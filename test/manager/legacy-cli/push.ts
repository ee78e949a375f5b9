// dock push NAME[:TAG]: push a local image to the registry its name points at.
import type { Command } from 'commander';
import { pushImage } from '../../../src/manager/images/push';
import { parseNormalized, parseReference } from '../../../src/manager/images/reference';
import type { Cli } from './context';
import { createProgressView } from './progress-view';

export function register(program: Command, cli: Cli): void {
  program
    .command('push')
    .description('Upload an image to a registry')
    .argument('<name>', 'NAME[:TAG]')
    .option('-q, --quiet', 'suppress verbose output', false)
    .option('--chunk-size <bytes>', 'upload blobs in chunks of this many bytes (default: one request per blob)', (v) => Number.parseInt(v, 10))
    .action(
      cli.action(async (dock, name: string, o: { quiet: boolean; chunkSize?: number }) => {
        const raw = parseNormalized(name);
        const ref = parseReference(name);
        const out = process.stdout;
        if (!o.quiet && raw.tag === undefined) out.write('Using default tag: latest\n');
        if (!o.quiet) out.write(`The push refers to repository [${ref.domain}/${ref.path}]\n`);
        const view = o.quiet ? undefined : createProgressView(out);
        try {
          const r = await pushImage(dock, name, { ...(o.chunkSize ? { chunkSize: o.chunkSize } : {}), ...(view ? { progress: view.sink } : {}) });
          view?.stop();
          out.write(o.quiet ? `${ref.domain}/${ref.path}:${ref.tag}\n` : `${ref.tag}: digest: ${r.digest} size: ${r.size}\n`);
        } finally {
          view?.stop();
        }
      }),
    );
}
