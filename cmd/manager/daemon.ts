// dock daemon: the engine in the foreground, with dockerd's flags. SIGTERM/SIGINT stop it and leave
// the containers running (they belong to the shim); a new daemon adopts them. Bundled alone
// (dist/daemon-entry.js): cmd/loader.js runs main() for `dock daemon` without the CLI's bundle.
import * as v8 from 'node:v8';
import type { Command } from 'commander';
import { runCommander } from '../../src/manager/cli/commander-run';
import { messageOf } from '../../src/errors/index';
import { realMemSys } from '../../src/native/index';
import { createLogger } from '../../src/log/index';
import { runDaemon } from '../../src/manager/daemon/daemon';
import { daemonOptions, type DaemonFlags } from '../../src/manager/daemon/options';

declare const KEEL_VERSION: string;
declare const KEEL_COMMIT: string;

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command): void {
  program
    .command('daemon')
    .description('Run the dock engine (the Docker Engine API on a unix socket) in the foreground')
    .option('-H, --host <address>', 'daemon socket(s) to listen on: unix:///path, or tcp://host:port with --tlsverify (repeatable)', collect)
    .option('--data-root <dir>', 'root directory of persistent state', '/var/lib/dock')
    .option('--exec-root <dir>', 'root directory of execution state (sockets, bundles)', '/run/dock')
    .option('-p, --pidfile <file>', 'path to use for the daemon PID file (default <exec-root>/dock.pid)')
    .option('--insecure-registry <host>', 'registry spoken to over plain http (repeatable)', collect)
    .option('--default-ulimit <name=soft:hard>', 'default ulimits for containers (repeatable)', collect)
    .option('-G, --group <name>', 'group owning the unix socket (default: dock, when it exists)')
    .option('--tls', 'use TLS (implied by --tlsverify)')
    .option('--tlsverify', 'use TLS and verify the client certificates')
    .option('--tlscacert <file>', 'trust certificates signed by this CA')
    .option('--tlscert <file>', 'path to the TLS certificate file')
    .option('--tlskey <file>', 'path to the TLS key file')
    .option('--cgroup-parent <path>', 'parent cgroup for all containers', '/dock')
    .option('--log-driver <driver>', 'default log driver for containers (json-file, none)', 'json-file')
    .option('--log-opt <k=v>', 'default log driver options (repeatable)', collect)
    .option('--init-path <path>', 'path to the docker-init binary')
    .option('-b, --bridge <name>', "device of the default bridge network ('none' disables bridge networking)", 'keel0')
    .option('--bip <cidr>', 'address and prefix of the default bridge (e.g. 172.17.0.1/16)')
    .option('--iptables [bool]', 'manage iptables rules (--iptables=false: published ports through the userland proxy only)', (v) => v !== 'false', true)
    .option('-l, --log-level <level>', 'logging level (debug, info, warn, error, fatal)', 'info')
    .option('-D, --debug', 'enable debug mode')
    .option('--live-restore', 'keep containers running while the daemon is down (always on)')
    .action(async (f: DaemonFlags & { logLevel: string; debug?: boolean }) => {
      // As cmd/loader.js does for `dock daemon` (here for `dock -D daemon` and tsx): the young
      // generation keeps its first size, a daemon's RSS is paid for as long as it runs.
      v8.setFlagsFromString('--semi-space-growth-factor=1');
      // One malloc arena for all threads: glibc otherwise gives V8's and libuv's workers one each,
      // and each keeps its free pages (~2 MB less with 10 containers, with the idle release).
      realMemSys.mallocArenaMax(1);
      const log = createLogger({ format: 'text', debug: !!f.debug || f.logLevel === 'debug' });
      if (f.logLevel === 'warn' || f.logLevel === 'error' || f.logLevel === 'fatal') log.level = f.logLevel;
      const version = typeof KEEL_VERSION === 'string' ? KEEL_VERSION : 'dev';
      const commit = typeof KEEL_COMMIT === 'string' ? KEEL_COMMIT : 'dev';
      let d;
      try {
        d = await runDaemon(daemonOptions(f, process.argv[1]!, version, commit), log);
      } catch (e) {
        log.error(messageOf(e));
        process.stderr.write(`dock daemon: ${messageOf(e)}\n`);
        process.exit(1);
      }
      const stop = (sig: string) => {
        log.info({ signal: sig }, 'stopping; containers keep running');
        void d!.close().then(() => process.exit(0));
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGHUP', () => undefined);
    });
}

/** `dock daemon ARGS`: resolves once the engine serves (or with 125 after a flag error). */
export function run(args: string[]): Promise<number> {
  return runCommander('daemon', register, args);
}

/** `dock daemon ARGS` run directly by cmd/loader.js, without the CLI. */
export function main(args: string[]): void {
  run(args).then(
    (code) => {
      if (code !== 0) process.exit(code);
    },
    (e: unknown) => {
      process.stderr.write(`dock daemon: ${messageOf(e)}\n`);
      process.exit(1);
    },
  );
}
