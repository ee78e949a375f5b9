// keel delete: remove a stopped (or, with --force, any) container and everything it holds.
import type { Command } from 'commander';
import { kindOf } from '../../src/errors/index';
import { exactArgs } from './args';
import type { Cli } from './context';

export function register(program: Command, cli: Cli): void {
  program
    .command('delete')
    .summary('delete any resources held by the container often used with detached container')
    .description(
      'EXAMPLE:\nFor example, if the container id is "ubuntu01" and keel list currently shows the\n' +
        'status of "ubuntu01" as "stopped" the following will delete resources held for\n"ubuntu01" removing "ubuntu01" from the keel list of containers:\n\n       # keel delete ubuntu01',
    )
    .argument('[container-id...]', 'the name for the instance of the container')
    .option('-f, --force', 'forcibly deletes the container if it is still running (uses SIGKILL)', false)
    .action(async (ids: string[], o: { force: boolean }) => {
      try {
        exactArgs('delete', ids, 1);
        const rt = await cli.runtime();
        try {
          await rt.delete(ids[0]!, o.force);
        } catch (e) {
          // A directory without state (a create that died half-way) is removed with the cgroups it
          // made; with --force a missing container is not an error, which makes delete --force
          // idempotent (runc's wording and status otherwise).
          if (kindOf(e) !== 'NotFound') throw e;
          if (!(await rt.deleteIncomplete(ids[0]!))) return rt.delete(ids[0]!, o.force);
          if (o.force) return;
          throw e;
        }
      } catch (e) {
        await cli.fail(e);
      }
    });
}
