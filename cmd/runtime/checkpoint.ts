// keel checkpoint: dump a running container with CRIU (runc's flags, as go-runc and podman send them).
import type { Command } from 'commander';
import { exactArgs } from './args';
import type { Cli } from './context';

const collect = (v: string, prev: string[]) => [...prev, v];

export function register(program: Command, cli: Cli): void {
  program
    .command('checkpoint')
    .summary('checkpoint a running container')
    .description('The checkpoint command saves the state of the container instance.')
    .argument('[container-id...]', 'the name for the instance of the container to be checkpointed')
    .option('--image-path <dir>', 'path for saving criu image files')
    .option('--work-path <dir>', 'path for saving work files and logs')
    .option('--parent-path <dir>', 'path for previous criu image files in pre-dump')
    .option('--leave-running', 'leave the process running after checkpointing', false)
    .option('--tcp-established', 'allow open tcp connections', false)
    .option('--ext-unix-sk', 'allow external unix sockets', false)
    .option('--shell-job', 'allow shell jobs', false)
    .option('--lazy-pages', 'use userfaultfd to lazily restore memory pages', false)
    .option('--status-fd <fd>', 'criu writes \\0 to this FD once lazy-pages is ready', '-1')
    .option('--page-server <address:port>', 'ADDRESS:PORT of the page server')
    .option('--file-locks', 'handle file locks, for safety', false)
    .option('--pre-dump', "dump container's memory information only, leave the container running after this", false)
    .option('--manage-cgroups-mode <mode>', "cgroups mode: 'soft' (default), 'full' and 'strict'")
    .option('--empty-ns <ns>', "create a namespace, but don't restore its properties", collect, [])
    .option('--auto-dedup', 'enable auto deduplication of memory images', false)
    .action(
      async (
        ids: string[],
        o: {
          imagePath?: string; workPath?: string; parentPath?: string; leaveRunning: boolean; tcpEstablished: boolean; extUnixSk: boolean;
          shellJob: boolean; lazyPages: boolean; statusFd: string; pageServer?: string; fileLocks: boolean; preDump: boolean;
          manageCgroupsMode?: string; emptyNs: string[]; autoDedup: boolean;
        },
      ) => {
        try {
          exactArgs('checkpoint', ids, 1);
          const [rt, { checkpointContainer }] = await Promise.all([cli.runtime(), import('../../src/runtime/checkpoint')]);
          await checkpointContainer(rt, ids[0]!, { ...o, statusFd: Number(o.statusFd), criu: cli.globals.criu });
        } catch (e) {
          await cli.fail(e);
        }
      },
    );
}
