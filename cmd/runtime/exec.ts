// keel exec: run a new process inside a running container.
import type { Command } from 'commander';
import { wrap } from '../../src/errors/index';
import { minArgs } from './args';
import type { Cli } from './context';

const collect = (v: string, prev: string[]) => [...prev, v];

export function register(program: Command, cli: Cli): void {
  program
    .command('exec')
    .summary('execute new process inside the container')
    .description(
      'The exec command runs a new process inside a running container. Everything after the container id\n' +
        'is the command and its arguments, unless --process names a process.json.\n\n' +
        'EXAMPLE:\n       # keel exec -t ubuntu01 ps',
    )
    .argument('[args...]', '<container-id> <command> [command options]')
    .option('--console-socket <path>', "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal")
    .option('--cwd <dir>', 'current working directory in the container')
    .option('-e, --env <KEY=VALUE>', 'set environment variables', collect, [])
    .option('-t, --tty', 'allocate a pseudo-TTY', false)
    .option('-u, --user <uid[:gid]>', 'UID (format: <uid>[:<gid>])')
    .option('-g, --additional-gids <gid>', 'additional gids', collect, [])
    .option('-p, --process <path>', 'path to the process.json')
    .option('-d, --detach', 'detach from the container\'s process', false)
    .option('--pid-file <path>', 'specify the file to write the process id to')
    .option('--process-label <label>', 'set the asm process label for the process commonly used with selinux')
    .option('--apparmor <profile>', 'set the apparmor profile for the process')
    .option('--no-new-privs', 'set the no new privileges value for the process')
    .option('-c, --cap <cap>', 'add a capability to the bounding set for the process', collect, [])
    .option('--preserve-fds <n>', 'pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)', '0')
    .option('--cgroup <path>', 'run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>.', collect, [])
    .option('--ignore-paused', 'allow exec in a paused container', false)
    .passThroughOptions()
    .action(
      async (
        args: string[],
        o: {
          consoleSocket?: string; cwd?: string; env: string[]; tty: boolean; user?: string; additionalGids: string[]; process?: string;
          detach: boolean; pidFile?: string; newPrivs?: boolean; cap: string[]; preserveFds: string; ignorePaused: boolean;
          apparmor?: string; processLabel?: string; cgroup: string[];
        },
      ) => {
        try {
          minArgs('exec', args, 1);
        } catch (e) {
          await cli.fail(e);
        }
        try {
          const [rt, { execInContainer }] = await Promise.all([cli.runtime(), import('../../src/runtime/exec')]);
          process.exitCode = await execInContainer(rt, args[0]!, {
            processFile: o.process,
            args: args.slice(1),
            tty: o.tty,
            consoleSocket: o.consoleSocket,
            detach: o.detach,
            pidFile: o.pidFile,
            env: o.env,
            cwd: o.cwd,
            user: o.user,
            additionalGids: o.additionalGids.map(Number),
            caps: o.cap,
            noNewPrivs: o.newPrivs === false,
            preserveFds: Number(o.preserveFds),
            ignorePaused: o.ignorePaused,
            apparmor: o.apparmor,
            processLabel: o.processLabel,
            cgroups: o.cgroup,
          });
        } catch (e) {
          // runc: every failure past the argument checks is "exec failed: …" with status 255, so a
          // caller can tell it from the exit status of the process itself.
          await cli.fail(wrap(e, 'exec failed'), 255);
        }
      },
    );
}
