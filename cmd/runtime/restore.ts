// keel restore: a container from a bundle and CRIU images (runc's flags, as go-runc and conmon send
// them, including Go's single-dash -no-subreaper); in the foreground, exit with its status.
import type { Command } from 'commander';
import { exactArgs } from './args';
import type { Cli } from './context';

const collect = (v: string, prev: string[]) => [...prev, v];

export function register(program: Command, cli: Cli): void {
  program
    .command('restore')
    .summary('restore a container from a previous checkpoint')
    .description('Restores the saved state of the container instance that was previously saved\nusing the keel checkpoint command.')
    .argument('[container-id...]', 'the name for the instance of the container to be restored')
    .option('--console-socket <path>', "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal")
    .option('--image-path <dir>', 'path to criu image files for restoring')
    .option('--work-path <dir>', 'path for saving work files and logs')
    .option('--tcp-established', 'allow open tcp connections', false)
    .option('--ext-unix-sk', 'allow external unix sockets', false)
    .option('--shell-job', 'allow shell jobs', false)
    .option('--file-locks', 'handle file locks, for safety', false)
    .option('--manage-cgroups-mode <mode>', "cgroups mode: 'soft' (default), 'full' and 'strict'")
    .option('-b, --bundle <dir>', 'path to the root of the bundle directory', '.')
    .option('-d, --detach', "detach from the container's process", false)
    .option('--pid-file <path>', 'specify the file to write the process id to')
    .option('--no-subreaper', 'disable the use of the subreaper used to reap reparented processes')
    .option('--no-pivot', 'do not use pivot root to jail process inside rootfs (accepted: CRIU restores the mounts)')
    .option('--empty-ns <ns>', "create a namespace, but don't restore its properties", collect, [])
    .option('--auto-dedup', 'enable auto deduplication of memory images', false)
    .option('--lazy-pages', 'use userfaultfd to lazily restore memory pages', false)
    .option('--lsm-profile <profile>', 'Specify an LSM profile to be used during restore in the form of TYPE:NAME.')
    .option('--lsm-mount-context <context>', 'Specify an LSM mount context to be used during restore.')
    .action(
      async (
        ids: string[],
        o: {
          consoleSocket?: string; imagePath?: string; workPath?: string; tcpEstablished: boolean; extUnixSk: boolean; shellJob: boolean;
          fileLocks: boolean; manageCgroupsMode?: string; bundle: string; detach: boolean; pidFile?: string; subreaper: boolean;
          emptyNs: string[]; autoDedup: boolean; lazyPages: boolean; lsmProfile?: string; lsmMountContext?: string;
        },
      ) => {
        try {
          exactArgs('restore', ids, 1);
          const [rt, { restoreContainer }] = await Promise.all([cli.runtime(), import('../../src/runtime/checkpoint')]);
          process.exitCode = await restoreContainer(rt, ids[0]!, { ...o, criu: cli.globals.criu });
        } catch (e) {
          await cli.fail(e);
        }
      },
    );
}
