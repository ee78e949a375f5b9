// keel run: create and start a container; in the foreground, exit with its status.
import type { Command } from 'commander';
import { exactArgs } from './args';
import type { Cli } from './context';

export function register(program: Command, cli: Cli): void {
  program
    .command('run')
    .summary('create and run a container')
    .description(
      'The run command creates an instance of a container for a bundle. The bundle is a directory with a\n' +
        'specification file named "config.json" and a root filesystem. Without --detach it waits for the\n' +
        'container and exits with its status (128+N if a signal N ended it).',
    )
    .argument('[container-id...]', 'your name for the instance of the container')
    .option('-b, --bundle <dir>', 'path to the root of the bundle directory, defaults to the current directory', '.')
    .option('--console-socket <path>', "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal")
    .option('-d, --detach', 'detach from the container\'s process', false)
    .option('--keep', 'do not delete the container after it exits', false)
    .option('--pid-file <path>', 'specify the file to write the process id to')
    .option('--no-subreaper', 'disable the use of the subreaper used to reap reparented processes')
    .option('--no-pivot', 'do not use pivot root to jail process inside rootfs (use MS_MOVE + chroot)')
    .option('--no-new-keyring', 'do not create a new session keyring for the container')
    .option('--preserve-fds <n>', 'pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)', '0')
    .action(
      async (
        ids: string[],
        o: { bundle: string; consoleSocket?: string; detach: boolean; keep: boolean; pidFile?: string; pivot: boolean; newKeyring: boolean; preserveFds: string; subreaper: boolean },
      ) => {
        try {
          exactArgs('run', ids, 1);
          const [rt, { runContainer }] = await Promise.all([cli.runtime(), import('../../src/runtime/run')]);
          process.exitCode = await runContainer(rt, ids[0]!, {
            bundle: o.bundle,
            consoleSocket: o.consoleSocket,
            pidFile: o.pidFile,
            noPivot: !o.pivot,
            noNewKeyring: !o.newKeyring,
            preserveFds: Number(o.preserveFds),
            detach: o.detach,
            keep: o.keep,
            subreaper: o.subreaper,
          });
        } catch (e) {
          await cli.fail(e);
        }
      },
    );
}
