// keel list: every container under --root, as runc's table, ids (-q) or JSON (null when empty).
import type { Command } from 'commander';
import { RuntimeError } from '../../src/errors/index';
import { formatTable } from '../../src/util/table';
import { exactArgs } from './args';
import type { Cli } from './context';

export function register(program: Command, cli: Cli): void {
  program
    .command('list')
    .alias('ls')
    .summary('lists containers started by keel with the given root')
    .description('The list command lists containers started by keel with the given root.')
    .option('-f, --format <format>', 'select one of: table or json', 'table')
    .option('-q, --quiet', 'display only container IDs', false)
    .action(async (o: { format: string; quiet: boolean }, cmd: Command) => {
      try {
        exactArgs('list', cmd.args, 0);
        if (o.format !== 'table' && o.format !== 'json') throw new RuntimeError('InvalidArgument', 'invalid format option');
        const states = (await cli.runtime()).list();
        if (o.quiet) {
          for (const s of states) process.stdout.write(`${s.id}\n`);
        } else if (o.format === 'json') {
          process.stdout.write(JSON.stringify(states.length ? states : null) + '\n');
        } else {
          const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner])];
          process.stdout.write(formatTable(rows, 12, 3));
        }
      } catch (e) {
        await cli.fail(e);
      }
    });
}
