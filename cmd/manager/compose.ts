// dock compose: compose v2's command line as a client of the Engine API. This file holds the
// compose-level flags, the shared plumbing (client, project loading, exit codes) and up / down /
// ps / logs / config; compose-commands.ts has the other verbs. Logic lives in src/manager/compose.
import { Command, Option } from 'commander';
import { defaultHost, EngineClient } from '../../src/manager/api/client';
import { messageOf, RuntimeError } from '../../src/errors/index';
import { renderConfig, renderHashes, renderServices, renderVolumes } from '../../src/manager/compose/config-output';
import { Engine } from '../../src/manager/compose/engine';
import { down } from '../../src/manager/compose/lifecycle';
import { loadProject } from '../../src/manager/compose/load';
import { LogPrinter, printContainerLogs, displayName } from '../../src/manager/compose/logs';
import { namedProject, type Project } from '../../src/manager/compose/model';
import { projectContainers } from '../../src/manager/compose/observe';
import { PlainProgress, type Progress } from '../../src/manager/compose/progress';
import { ps } from '../../src/manager/compose/query';
import { up } from '../../src/manager/compose/up';
import { registerMore } from './compose-commands';

export type ComposeFlags = {
  file: string[];
  projectName?: string;
  projectDirectory?: string;
  envFile: string[];
  profile: string[];
  ansi: 'auto' | 'never' | 'always';
  dryRun?: boolean;
};

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** A non-zero exit status without a message (a container's exit code, say). */
export class ExitStatus extends Error {
  constructor(readonly code: number) {
    super(`exit status ${code}`);
  }
}

/** What every compose verb gets: the engine, the flags, progress on stderr, project loading. */
export class ComposeCli {
  constructor(readonly root: Command, readonly compose: Command) {}

  get flags(): ComposeFlags {
    return this.compose.opts<ComposeFlags>();
  }

  get progress(): Progress {
    return new PlainProgress(process.stderr);
  }

  get color(): boolean {
    const a = this.flags.ansi;
    if (a === 'always') return true;
    if (a === 'never' || process.env.NO_COLOR) return false;
    return !!process.stdout.isTTY;
  }

  engine(): Engine {
    const host = (this.root.opts() as { host?: string | string[] }).host;
    return new Engine(new EngineClient({ host: defaultHost(Array.isArray(host) ? host[0] : host), userAgent: 'dock-compose' }));
  }

  /** Loads the project; services named on the command line are enabled whatever their profiles. */
  load(services?: string[]): Project {
    const f = this.flags;
    const p = loadProject({ files: f.file, projectName: f.projectName, projectDirectory: f.projectDirectory, envFiles: f.envFile, profiles: f.profile, services });
    for (const w of p.warnings) this.progress.warn(w);
    return p;
  }

  /** The project, or only its name when there is no compose file but -p / COMPOSE_PROJECT_NAME. */
  loadOrName(services?: string[]): Project {
    try {
      return this.load(services);
    } catch (e) {
      const name = this.flags.projectName ?? process.env.COMPOSE_PROJECT_NAME;
      if (name && e instanceof RuntimeError && e.kind === 'NotFound' && /no configuration file/.test(e.message)) return namedProject(name);
      throw e;
    }
  }

  /** Runs a verb: errors print one line on stderr (exit 1); ExitStatus passes its code through. */
  action<A extends unknown[]>(fn: (engine: Engine, ...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
    return async (...args: A) => {
      const engine = this.engine();
      try {
        process.exitCode = (await fn(engine, ...args)) ?? 0;
      } catch (e) {
        if (e instanceof ExitStatus) process.exitCode = e.code;
        else {
          process.stderr.write(`${messageOf(e)}\n`);
          process.exitCode = 1;
        }
      } finally {
        engine.client.close();
      }
    };
  }
}

function scaleMap(list: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of list) {
    const m = /^([^=]+)=(\d+)$/.exec(s);
    if (!m) throw new RuntimeError('InvalidArgument', `invalid scale specifier: ${s}`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

function registerCore(c: Command, cli: ComposeCli): void {
  c.command('up')
    .description('Create and start containers')
    .argument('[service...]')
    .option('-d, --detach', 'Detached mode: Run containers in the background')
    .option('--build', 'Build images before starting containers')
    .option('--no-build', "Don't build an image, even if it's policy")
    .option('--scale <SERVICE=NUM>', 'Scale SERVICE to NUM instances (repeatable)', collect, [])
    .option('--force-recreate', "Recreate containers even if their configuration and image haven't changed")
    .option('--no-recreate', "If containers already exist, don't recreate them")
    .option('--no-deps', "Don't start linked services")
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option('--abort-on-container-exit', 'Stops all containers if any container was stopped')
    .option('--exit-code-from <service>', 'Return the exit code of the selected service container (implies --abort-on-container-exit)')
    .option('-t, --timeout <seconds>', 'Use this timeout in seconds for container shutdown', Number)
    .option('--attach <service>', 'Restrict attaching to the specified services (repeatable)', collect, [])
    .option('--no-color', 'Produce monochrome output')
    .option('--timestamps', 'Show timestamps')
    .addOption(new Option('--pull <policy>', 'Pull image before running').choices(['always', 'missing', 'never']))
    .action(
      cli.action(async (engine, services: string[], o: Record<string, unknown>) => {
        const p = cli.load(services);
        if (o.detach && (o.abortOnContainerExit || o.exitCodeFrom)) throw new RuntimeError('InvalidArgument', '--abort-on-container-exit and --exit-code-from cannot be combined with --detach');
        if (o.forceRecreate && o.recreate === false) throw new RuntimeError('InvalidArgument', '--force-recreate and --no-recreate are incompatible');
        const stop = new AbortController();
        const kill = new AbortController();
        const onInt = () => (stop.signal.aborted ? kill.abort() : stop.abort());
        if (!o.detach) process.on('SIGINT', onInt).on('SIGTERM', onInt);
        try {
          const code = await up(engine, p, { out: process.stdout, progress: cli.progress }, {
            services,
            detach: !!o.detach,
            build: !!o.build,
            noBuild: o.build === false,
            scale: scaleMap(o.scale as string[]),
            recreate: o.forceRecreate ? 'force' : o.recreate === false ? 'never' : 'diverged',
            noDeps: o.deps === false,
            removeOrphans: !!o.removeOrphans,
            abortOnContainerExit: !!o.abortOnContainerExit,
            exitCodeFrom: o.exitCodeFrom as string | undefined,
            timeout: o.timeout as number | undefined,
            attach: o.attach as string[],
            color: o.color !== false && cli.color,
            timestamps: !!o.timestamps,
            pull: o.pull as 'always' | 'missing' | 'never' | undefined,
            signal: stop.signal,
            killSignal: kill.signal,
            dryRun: cli.flags.dryRun,
          });
          if (code) throw new ExitStatus(code);
        } finally {
          process.off('SIGINT', onInt).off('SIGTERM', onInt);
        }
      }),
    );

  c.command('down')
    .description('Stop and remove containers, networks')
    .argument('[service...]')
    .option('-v, --volumes', 'Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers')
    .addOption(new Option('--rmi <type>', 'Remove images used by services. "local" remove only images that don\'t have a custom tag ("local"|"all")').choices(['local', 'all']))
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds', Number)
    .action(
      cli.action(async (engine, services: string[], o: { volumes?: boolean; rmi?: 'local' | 'all'; removeOrphans?: boolean; timeout?: number }) => {
        const p = cli.loadOrName();
        await down(engine, p.configFiles.length ? p : p.name, cli.progress, { ...o, services });
      }),
    );

  c.command('ps')
    .description('List containers')
    .argument('[service...]')
    .option('-a, --all', 'Show all stopped containers (including those created by the run command)')
    .option('-q, --quiet', 'Only display IDs')
    .option('--services', 'Display services')
    .option('--status <status>', 'Filter services by status (repeatable)', collect, [])
    .addOption(new Option('--format <format>', 'Format the output').choices(['table', 'json']).default('table'))
    .action(
      cli.action(async (engine, services: string[], o: { all?: boolean; quiet?: boolean; services?: boolean; status: string[]; format: 'table' | 'json' }) => {
        const p = cli.loadOrName();
        process.stdout.write(await ps(engine, p.name, { services, all: o.all, quiet: o.quiet, listServices: o.services, status: o.status, format: o.format }));
      }),
    );

  c.command('logs')
    .description('View output from containers')
    .argument('[service...]')
    .option('-f, --follow', 'Follow log output')
    .option('-n, --tail <lines>', 'Number of lines to show from the end of the logs for each container', 'all')
    .option('-t, --timestamps', 'Show timestamps')
    .option('--since <time>', 'Show logs since timestamp or relative time')
    .option('--until <time>', 'Show logs before a timestamp or relative time')
    .option('--no-color', 'Produce monochrome output')
    .option('--no-log-prefix', "Don't print prefix in logs")
    .option('--index <n>', 'index of the container if service has multiple replicas', Number)
    .action(
      cli.action(async (engine, services: string[], o: { follow?: boolean; tail: string; timestamps?: boolean; since?: string; until?: string; color: boolean; logPrefix: boolean; index?: number }) => {
        const p = cli.loadOrName();
        let cs = await projectContainers(engine, p.name, { services, oneoff: true });
        if (o.index !== undefined) cs = cs.filter((c) => c.number === o.index);
        const printer = new LogPrinter(process.stdout, { color: o.color && cli.color, prefix: o.logPrefix });
        printer.register(cs.map(displayName));
        await Promise.all(cs.map((c) => printContainerLogs(engine, c, printer, o)));
      }),
    );

  c.command('config')
    .alias('convert')
    .description('Parse, resolve and render compose file in canonical format')
    .option('-q, --quiet', 'Only validate the configuration, don\'t print anything')
    .option('--services', 'Print the service names, one per line')
    .option('--volumes', 'Print the volume names, one per line')
    .option('--hash <services>', 'Print the service config hash, one per line ("*" for all)')
    .addOption(new Option('--format <format>', 'Format the output').choices(['yaml', 'json']).default('yaml'))
    .option('-o, --output <path>', 'Save to file (default to stdout)')
    .action(
      cli.action(async (_engine, o: { quiet?: boolean; services?: boolean; volumes?: boolean; hash?: string; format: 'yaml' | 'json'; output?: string }) => {
        const p = cli.load();
        if (o.quiet) return;
        const text = o.services ? renderServices(p) : o.volumes ? renderVolumes(p) : o.hash ? renderHashes(p, o.hash) : renderConfig(p, o.format);
        if (o.output) (await import('node:fs')).writeFileSync(o.output, text);
        else process.stdout.write(text);
      }),
    );
}

/** Adds `compose` and its verbs to the dock program (one registration line in main.ts). */
export function register(program: Command): void {
  const c = program
    .command('compose')
    .description('Define and run multi-container applications (compose v2 command line)')
    .option('-f, --file <file>', 'Compose configuration files (repeatable)', collect, [])
    .option('-p, --project-name <name>', 'Project name')
    .option('--project-directory <path>', 'Specify an alternate working directory (default: the path of the first specified Compose file)')
    .option('--env-file <path>', 'Specify an alternate environment file (repeatable)', collect, [])
    .option('--profile <profile>', 'Specify a profile to enable (repeatable)', collect, [])
    .addOption(new Option('--ansi <mode>', 'Control when to print ANSI control characters').choices(['never', 'always', 'auto']).default('auto'))
    .option('--dry-run', 'Print the plan of `up` instead of executing it')
    .enablePositionalOptions()
    .exitOverride();
  const cli = new ComposeCli(program, c);
  registerCore(c, cli);
  registerMore(c, cli);
  for (const sub of c.commands) sub.exitOverride();
}
