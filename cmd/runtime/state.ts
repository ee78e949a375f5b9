// keel state: print the OCI state of one container as runc does (indented JSON).
import type { Command } from 'commander';
import { exactArgs } from './args';
import type { Cli } from './context';

export function register(program: Command, cli: Cli): void {
  program
    .command('state')
    .summary('output the state of a container')
    .description('The state command outputs current state information for the instance of a container.')
    .argument('[container-id...]', 'the name for the instance of the container')
    .action(async (ids: string[]) => {
      try {
        exactArgs('state', ids, 1);
        const st = (await cli.runtime()).state(ids[0]!);
        process.stdout.write(JSON.stringify(st, null, '  ') + '\n');
      } catch (e) {
        await cli.fail(e);
      }
    });
}
