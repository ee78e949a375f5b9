// keel restore: parses runc's restore flags (as go-runc and conmon send them, including Go's
// single-dash -no-subreaper) and refuses: keel has no CRIU checkpoint/restore.
import type { Command } from 'commander';
import { errors } from '../../src/errors';
import { exactArgs } from './args';
import type { Cli } from './context';

export function register(program: Command, cli: Cli): void {
  program
    .command('restore')
    .summary('restore a container from a previous checkpoint (not supported: keel has no CRIU)')
    .argument('[container-id...]', 'your name for the instance of the container')
    .option('--console-socket <path>', 'path to an AF_UNIX socket which will receive the pty master')
    .option('--image-path <dir>', 'path to criu image files for restoring')
    .option('--work-path <dir>', 'path for saving work files and logs')
    .option('--parent-path <dir>', 'path for previous criu image files in pre-dump')
    .option('--tcp-established', 'allow open tcp connections')
    .option('--ext-unix-sk', 'allow external unix sockets')
    .option('--shell-job', 'allow shell jobs')
    .option('--file-locks', 'handle file locks')
    .option('--manage-cgroups-mode <mode>', 'cgroups mode: soft|full|strict|ignore')
    .option('-b, --bundle <dir>', 'path to the root of the bundle directory', '.')
    .option('-d, --detach', 'detach from the container process')
    .option('--pid-file <path>', 'specify the file to write the process id to')
    .option('--no-subreaper', 'disable the use of the subreaper used to reap reparented processes')
    .option('--no-pivot', 'do not use pivot root to jail process inside rootfs')
    .option('--no-new-keyring', 'do not create a new session keyring for the container')
    .option('--empty-ns <ns...>', 'create a namespace, but do not restore its properties')
    .option('--auto-dedup', 'enable auto deduplication of memory images')
    .option('--lazy-pages', 'use userfaultfd to lazily restore memory pages')
    .option('--lsm-profile <label>', 'specify an LSM profile to be used during restore')
    .option('--lsm-mount-context <label>', 'specify an LSM mount context to be used during restore')
    .action(async (ids: string[]) => {
      try {
        exactArgs('restore', ids, 1);
        throw errors.notImplemented('restore: checkpoint/restore is not supported by keel (no CRIU)');
      } catch (e) {
        await cli.fail(e);
      }
    });
}
