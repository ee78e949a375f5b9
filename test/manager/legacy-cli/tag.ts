// dock tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]
import type { Command } from 'commander';
import { tagImage } from '../../../src/manager/images/remove';
import type { Cli } from './context';

export function register(program: Command, cli: Cli): void {
  program
    .command('tag')
    .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .argument('<source>')
    .argument('<target>')
    .action(
      cli.action(async (dock, source: string, target: string) => {
        await tagImage(dock, source, target);
      }),
    );
}
