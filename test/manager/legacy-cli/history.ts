// dock history IMAGE: IMAGE CREATED CREATED BY SIZE COMMENT, newest first, as docker prints it.
import type { Command } from 'commander';
import { imageHistory } from '../../../src/manager/images/inspect';
import { resolveImage } from '../../../src/manager/images/resolve';
import { humanAge, humanSize, table, type Cli } from './context';

export function register(program: Command, cli: Cli): void {
  program
    .command('history')
    .description('Show the history of an image')
    .argument('<image>')
    .option('-q, --quiet', 'only show image IDs', false)
    .option('--no-trunc', "don't truncate output")
    .option('-H, --human', 'print sizes and dates in human readable format', true)
    .action(
      cli.action(async (dock, name: string, o: { quiet: boolean; trunc: boolean }) => {
        const rows = imageHistory((await resolveImage(dock, name)).image);
        const short = (id: string) => (id === '<missing>' || !o.trunc ? id : id.slice(7, 19));
        if (o.quiet) {
          process.stdout.write(rows.map((r) => short(r.id) + '\n').join(''));
          return;
        }
        const by = (s: string) => (o.trunc && s.length > 45 ? s.slice(0, 44) + '…' : s);
        process.stdout.write(
          table([['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], ...rows.map((r) => [short(r.id), humanAge(r.created), by(r.createdBy), humanSize(r.size), r.comment])]),
        );
      }),
    );
}
