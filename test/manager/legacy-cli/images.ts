// dock images [REPOSITORY[:TAG]]: the docker table (REPOSITORY TAG IMAGE ID CREATED SIZE), -q, --digests, --no-trunc.
import type { Command } from 'commander';
import { listImages } from '../../../src/manager/images/resolve';
import { imageSize } from '../../../src/manager/images/inspect';
import { familiarRepository, parseNormalized, parseReference } from '../../../src/manager/images/reference';
import { humanAge, humanSize, table, type Cli } from './context';

export function register(program: Command, cli: Cli): void {
  program
    .command('images')
    .alias('image-ls')
    .description('List images')
    .argument('[repository]', 'REPOSITORY[:TAG]')
    .option('-q, --quiet', 'only show image IDs', false)
    .option('--digests', 'show digests', false)
    .option('--no-trunc', "don't truncate output")
    .action(
      cli.action(async (dock, filter: string | undefined, o: { quiet: boolean; digests: boolean; trunc: boolean }) => {
        const want = filter ? parseNormalized(filter) : undefined;
        const rows: string[][] = [['REPOSITORY', 'TAG', ...(o.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE']];
        const ids: string[] = [];
        for (const img of await listImages(dock)) {
          const id = o.trunc ? img.id.slice(7, 19) : img.id;
          for (const r of img.records) {
            const ref = parseReference(r.name);
            const repo = familiarRepository(ref);
            if (want && (familiarRepository({ ...want }) !== repo || (want.tag !== undefined && want.tag !== ref.tag))) continue;
            ids.push(id);
            rows.push([repo, ref.tag ?? '<none>', ...(o.digests ? [r.repoDigest ?? ref.digest ?? '<none>'] : []), id, humanAge(img.config.created), humanSize(imageSize(img))]);
          }
        }
        if (o.quiet) process.stdout.write([...new Set(ids)].map((i) => i + '\n').join(''));
        else process.stdout.write(table(rows));
      }),
    );
}
