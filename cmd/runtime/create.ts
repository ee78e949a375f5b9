// keel create: parse runc's create flags and hand over to ContainerRuntime.create.
import type { Command } from 'commander';
import { exactArgs } from './args';
import type { Cli } from './context';

export function register(program: Command, cli: Cli): void {
  program
    .command('create')
    .summary('create a container')
    .description(
      'The create command creates an instance of a container for a bundle. The bundle is a directory with a\n' +
        'specification file named "config.json" and a root filesystem. The container is left waiting for "start".',
    )
    .argument('[container-id...]', 'your name for the instance of the container')
    .option('-b, --bundle <dir>', 'path to the root of the bundle directory, defaults to the current directory', '.')
    .option('--console-socket <path>', "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal")
    .option('--pid-file <path>', 'specify the file to write the process id to')
    .option('--no-pivot', 'do not use pivot root to jail process inside rootfs (use MS_MOVE + chroot)')
    .option('--no-new-keyring', 'do not create a new session keyring for the container')
    .option('--preserve-fds <n>', 'pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)', '0')
    .action(async (ids: string[], o: { bundle: string; consoleSocket?: string; pidFile?: string; pivot: boolean; newKeyring: boolean; preserveFds: string }) => {
      try {
        exactArgs('create', ids, 1);
        const [rt, { createContainer }] = await Promise.all([cli.runtime(), import('../../src/runtime/create')]);
        await createContainer(rt, ids[0]!, {
          bundle: o.bundle,
          consoleSocket: o.consoleSocket,
          pidFile: o.pidFile,
          noPivot: !o.pivot,
          noNewKeyring: !o.newKeyring,
          preserveFds: Number(o.preserveFds),
        });
      } catch (e) {
        await cli.fail(e);
      }
    });
}
