// dock compose verbs beyond up/down/ps/logs/config: start stop restart kill rm pause unpause exec
// run build pull push top port images ls scale events version. Each parses, calls
// src/manager/compose and prints; compose.ts holds the shared plumbing.
import * as readline from 'node:readline';
import { Option, type Command } from 'commander';
import { RuntimeError } from '../../src/errors/index';
import { buildService } from '../../src/manager/compose/build';
import { pullService, pushService } from '../../src/manager/compose/images';
import { exec, run, type Stdio } from '../../src/manager/compose/interactive';
import * as L from '../../src/manager/compose/labels';
import { kill, pause, removable, restart, rm, start, stop, unpause } from '../../src/manager/compose/lifecycle';
import { withDependencies } from '../../src/manager/compose/plan';
import { formatEvent, images, ls, port, top } from '../../src/manager/compose/query';
import { up } from '../../src/manager/compose/up';
import { ExitStatus, type ComposeCli } from './compose';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** The caller's terminal for exec/run: raw mode while a TTY session lasts. */
async function withTerminal<T>(tty: boolean, fn: (io: Stdio) => Promise<T>): Promise<T> {
  const stdin = process.stdin;
  const raw = tty && stdin.isTTY;
  if (raw) stdin.setRawMode(true);
  try {
    return await fn({ stdin, stdout: process.stdout, stderr: process.stderr, size: () => ({ rows: process.stdout.rows ?? 24, columns: process.stdout.columns ?? 80 }) });
  } finally {
    if (raw) stdin.setRawMode(false);
    stdin.pause();
  }
}

function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return Promise.resolve(false);
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((resolve) =>
    rl.question(question, (a) => {
      rl.close();
      resolve(/^y(es)?$/i.test(a.trim()));
    }),
  );
}

export function registerMore(c: Command, cli: ComposeCli): void {
  const simple = (name: string, desc: string, fn: typeof start) =>
    c.command(name).description(desc).argument('[service...]').action(
      cli.action(async (engine, services: string[]) => {
        await fn(engine, cli.loadOrName(services), cli.progress, { services });
      }),
    );
  simple('start', 'Start services', start);
  simple('pause', 'Pause services', pause);
  simple('unpause', 'Unpause services', unpause);

  c.command('stop').description('Stop services').argument('[service...]').option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds', Number).action(
    cli.action(async (engine, services: string[], o: { timeout?: number }) => {
      await stop(engine, cli.loadOrName(services), cli.progress, { services, timeout: o.timeout });
    }),
  );
  c.command('restart').description('Restart service containers').argument('[service...]').option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds', Number).action(
    cli.action(async (engine, services: string[], o: { timeout?: number }) => {
      await restart(engine, cli.loadOrName(services), cli.progress, { services, timeout: o.timeout });
    }),
  );
  c.command('kill').description('Force stop service containers').argument('[service...]').option('-s, --signal <signal>', 'SIGNAL to send to the container', 'SIGKILL').option('--remove-orphans', 'Remove containers for services not defined in the Compose file').action(
    cli.action(async (engine, services: string[], o: { signal: string }) => {
      await kill(engine, cli.loadOrName(services), cli.progress, { services, signal: o.signal });
    }),
  );
  c.command('rm').description('Removes stopped service containers').argument('[service...]').option('-f, --force', "Don't ask to confirm removal").option('-s, --stop', 'Stop the containers, if required, before removing').option('-v, --volumes', 'Remove any anonymous volumes attached to containers').action(
    cli.action(async (engine, services: string[], o: { force?: boolean; stop?: boolean; volumes?: boolean }) => {
      const cs = await removable(engine, cli.loadOrName(services), { services, stop: o.stop });
      if (!cs.length) {
        process.stderr.write('No stopped containers\n');
        return;
      }
      if (!o.force) {
        process.stdout.write(`Going to remove ${cs.map((x) => x.name).join(', ')}\n`);
        if (!(await confirm('Are you sure? [yN] '))) return;
      }
      await rm(engine, cs, cli.progress, o);
    }),
  );

  c.command('exec')
    .description('Execute a command in a running container')
    .argument('<service>')
    .argument('<command...>')
    .option('-d, --detach', 'Detached mode: Run command in the background')
    .option('-T, --no-tty', 'Disable pseudo-TTY allocation (default: auto-detected)')
    .option('-e, --env <KEY=VAL>', 'Set environment variables (repeatable)', collect, [])
    .option('-u, --user <user>', 'Run the command as this user')
    .option('-w, --workdir <dir>', 'Path to workdir directory for this command')
    .option('--index <n>', 'Index of the container if service has multiple replicas', Number)
    .option('--privileged', 'Give extended privileges to the process')
    .passThroughOptions()
    .action(
      cli.action(async (engine, service: string, command: string[], o: { detach?: boolean; tty: boolean; env: string[]; user?: string; workdir?: string; index?: number; privileged?: boolean }) => {
        const p = cli.loadOrName();
        const tty = o.tty && !!process.stdin.isTTY;
        const code = await withTerminal(tty, (io) => exec(engine, p.name, { service, command, tty, interactive: true, env: o.env, user: o.user, workdir: o.workdir, index: o.index, privileged: o.privileged, detach: o.detach }, io));
        if (code) throw new ExitStatus(code);
      }),
    );

  c.command('run')
    .description('Run a one-off command on a service')
    .argument('<service>')
    .argument('[command...]')
    .option('-d, --detach', 'Run container in background and print container ID')
    .option('--rm', 'Automatically remove the container when it exits')
    .option('-e, --env <KEY=VAL>', 'Set environment variables (repeatable)', collect, [])
    .option('-l, --label <KEY=VAL>', 'Add or override a label (repeatable)', collect, [])
    .option('--name <name>', 'Assign a name to the container')
    .option('--no-deps', "Don't start linked services")
    .option('-T, --no-tty', 'Disable pseudo-TTY allocation (default: auto-detected)')
    .option('-i, --interactive', 'Keep STDIN open even if not attached', true)
    .option('--entrypoint <cmd>', 'Override the entrypoint of the image')
    .option('--service-ports', "Run command with all service's ports enabled and mapped to the host")
    .option('-p, --publish <port>', "Publish a container's port(s) to the host (repeatable)", collect, [])
    .option('-u, --user <user>', 'Run as specified username or uid')
    .option('-w, --workdir <dir>', 'Working directory inside the container')
    .option('--use-aliases', "Use the service's network aliases in the network(s) the container connects to")
    .option('--build', 'Build image before starting container')
    .passThroughOptions()
    .action(
      cli.action(async (engine, service: string, command: string[], o: Record<string, unknown>) => {
        const p = cli.load([service]);
        const tty = o.tty !== false && !!process.stdin.isTTY;
        const code = await withTerminal(tty, (io) =>
          run(engine, p, {
            service,
            command,
            tty,
            interactive: o.interactive !== false,
            rm: !!o.rm,
            detach: !!o.detach,
            env: o.env as string[],
            labels: o.label as string[],
            name: o.name as string | undefined,
            noDeps: o.deps === false,
            entrypoint: o.entrypoint as string | undefined,
            servicePorts: !!o.servicePorts,
            publish: o.publish as string[],
            user: o.user as string | undefined,
            workdir: o.workdir as string | undefined,
            useAliases: !!o.useAliases,
            build: !!o.build,
          }, io, cli.progress),
        );
        if (code) throw new ExitStatus(code);
      }),
    );

  c.command('build').description('Build or rebuild services').argument('[service...]').option('--no-cache', 'Do not use cache when building the image').option('--pull', 'Always attempt to pull a newer version of the image').option('--build-arg <KEY=VAL>', 'Set build-time variables for services (repeatable)', collect, []).option('-q, --quiet', "Don't print anything to STDOUT").action(
    cli.action(async (engine, services: string[], o: { cache: boolean; pull?: boolean; buildArg: string[]; quiet?: boolean }) => {
      const p = cli.load(services);
      const args: Record<string, string> = {};
      for (const a of o.buildArg) {
        const i = a.indexOf('=');
        if (i < 0) {
          if (process.env[a] !== undefined) args[a] = process.env[a]!;
        } else args[a.slice(0, i)] = a.slice(i + 1);
      }
      const names = (services.length ? services : Object.keys(p.services)).filter((n) => p.services[n]?.build);
      for (const n of names) {
        await buildService(engine, p, p.services[n]!, cli.progress, { noCache: !o.cache, pull: o.pull, args, quiet: o.quiet, out: o.quiet ? undefined : (l) => process.stdout.write(l) });
      }
    }),
  );
  c.command('pull').description('Pull service images').argument('[service...]').option('-q, --quiet', 'Pull without printing progress information').option('--ignore-pull-failures', 'Pull what it can and ignores images with pull failures').option('--include-deps', 'Also pull services declared as dependencies').action(
    cli.action(async (engine, services: string[], o: { ignorePullFailures?: boolean; includeDeps?: boolean }) => {
      const p = cli.load(services);
      const names = o.includeDeps ? withDependencies(p, services) : services.length ? services : Object.keys(p.services);
      await Promise.all(
        names.filter((n) => p.services[n]!.image).map(async (n) => {
          try {
            await pullService(engine, p, p.services[n]!, cli.progress);
          } catch (e) {
            if (!o.ignorePullFailures) throw e;
            cli.progress.warn((e as Error).message);
          }
        }),
      );
    }),
  );
  c.command('push').description('Push service images').argument('[service...]').option('--ignore-push-failures', 'Push what it can and ignores images with push failures').action(
    cli.action(async (engine, services: string[], o: { ignorePushFailures?: boolean }) => {
      const p = cli.load(services);
      for (const n of services.length ? services : Object.keys(p.services)) {
        const s = p.services[n]!;
        if (!s.image) continue;
        try {
          await pushService(engine, p, s, cli.progress);
        } catch (e) {
          if (!o.ignorePushFailures) throw e;
          cli.progress.warn((e as Error).message);
        }
      }
    }),
  );

  c.command('top').description('Display the running processes').argument('[service...]').action(
    cli.action(async (engine, services: string[]) => {
      process.stdout.write(await top(engine, cli.loadOrName().name, services));
    }),
  );
  c.command('port').description('Print the public port for a port binding').argument('<service>').argument('<private_port>').option('--index <n>', 'Index of the container if service has multiple replicas', Number).addOption(new Option('--protocol <proto>', 'tcp or udp').choices(['tcp', 'udp', 'sctp']).default('tcp')).action(
    cli.action(async (engine, service: string, privatePort: string, o: { index?: number; protocol: string }) => {
      process.stdout.write(await port(engine, cli.loadOrName().name, service, Number(privatePort), o));
    }),
  );
  c.command('images').description('List images used by the created containers').argument('[service...]').option('-q, --quiet', 'Only display IDs').addOption(new Option('--format <format>', 'Format the output').choices(['table', 'json']).default('table')).action(
    cli.action(async (engine, services: string[], o: { quiet?: boolean; format: 'table' | 'json' }) => {
      process.stdout.write(await images(engine, cli.loadOrName().name, { services, ...o }));
    }),
  );
  c.command('ls').description('List running compose projects').option('-a, --all', 'Show all stopped Compose projects').option('-q, --quiet', 'Only display project names').option('--filter <filter>', 'Filter output based on conditions provided').addOption(new Option('--format <format>', 'Format the output').choices(['table', 'json']).default('table')).action(
    cli.action(async (engine, o: { all?: boolean; quiet?: boolean; filter?: string; format: 'table' | 'json' }) => {
      process.stdout.write(await ls(engine, o));
    }),
  );
  c.command('scale').description('Scale services').argument('<SERVICE=REPLICAS...>').option('--no-deps', "Don't start linked services").action(
    cli.action(async (engine, specs: string[], o: { deps: boolean }) => {
      const scale: Record<string, number> = {};
      for (const s of specs) {
        const m = /^([^=]+)=(\d+)$/.exec(s);
        if (!m) throw new RuntimeError('InvalidArgument', `invalid scale option: ${s}`);
        scale[m[1]!] = Number(m[2]);
      }
      const p = cli.load(Object.keys(scale));
      await up(engine, p, { out: process.stdout, progress: cli.progress }, { services: Object.keys(scale), scale, noDeps: !o.deps, detach: true, recreate: 'never' });
    }),
  );
  c.command('events').description('Receive real time events from containers').argument('[service...]').option('--json', 'Output events as a stream of json objects').action(
    cli.action(async (engine, services: string[], o: { json?: boolean }) => {
      const name = cli.loadOrName().name;
      for await (const e of engine.events({ type: ['container'], label: [L.labelFilter(L.PROJECT, name)] })) {
        const line = formatEvent(e, { json: o.json, services });
        if (line) process.stdout.write(line);
      }
    }),
  );
  c.command('version').description('Show the Docker Compose version information').option('--short', 'Shows only Compose\'s version number').addOption(new Option('-f, --format <format>', 'Format the output').choices(['pretty', 'json']).default('pretty')).action(
    cli.action(async (_engine, o: { short?: boolean; format: string }) => {
      if (o.short) process.stdout.write(`${L.COMPOSE_VERSION}\n`);
      else if (o.format === 'json') process.stdout.write(`${JSON.stringify({ version: `v${L.COMPOSE_VERSION}` })}\n`);
      else process.stdout.write(`dock compose version v${L.COMPOSE_VERSION}\n`);
    }),
  );
}
