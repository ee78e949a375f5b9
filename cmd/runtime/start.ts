// keel start: release a created container's init.
import type { Command } from 'commander';
import { exactArgs } from './args';
import type { Cli } from './context';

export function register(program: Command, cli: Cli): void {
  program
    .command('start')
    .summary('executes the user defined process in a created container')
    .description('The start command executes the user defined process in a created container.')
    .argument('[container-id...]', 'the name for the instance of the container')
    .action(async (ids: string[]) => {
      try {
        exactArgs('start', ids, 1);
        (await cli.runtime()).start(ids[0]!);
      } catch (e) {
        await cli.fail(e);
      }
    });
}
