// keel kill: send a signal (name or number, default SIGTERM) to a container's init or, with --all,
// to all of its processes.
import type { Command } from 'commander';
import { parseSignal } from '../../src/runtime/signals';
import { maxArgs, minArgs } from './args';
import type { Cli } from './context';

export function register(program: Command, cli: Cli): void {
  program
    .command('kill')
    .summary("kill sends the specified signal (default: SIGTERM) to the container's init process")
    .description(
      'EXAMPLE:\nFor example, if the container id is "ubuntu01" the following will send a "KILL" signal\n' +
        'to the init process of the "ubuntu01" container:\n\n       # keel kill ubuntu01 KILL',
    )
    .argument('[args...]', '<container-id> [signal]')
    .option('-a, --all', 'send the specified signal to all processes inside the container', false)
    .action(async (args: string[], o: { all: boolean }) => {
      try {
        minArgs('kill', args, 1);
        maxArgs('kill', args, 2);
        const signal = parseSignal(args[1] ?? 'SIGTERM');
        await (await cli.runtime()).kill(args[0]!, signal, o.all);
      } catch (e) {
        await cli.fail(e);
      }
    });
}
