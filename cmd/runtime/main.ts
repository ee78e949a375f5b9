// keel: the runc-compatible OCI runtime CLI. Global flags, the verb table and exit codes; each verb
// lives in its own file and only parses, calls src/runtime and prints.
import { Command, CommanderError, type Option } from 'commander';
import { normalizeGoFlags, type FlagSet } from '../../src/util/go-flags';
import { keelCommit, keelVersion, specVersion } from '../../src/version';
import { Cli, defaultRoot, ExitError } from './context';
import { register as registerCgroupVerbs } from './cgroup-verbs';
import { register as registerCheckpoint } from './checkpoint';
import { register as registerCreate } from './create';
import { register as registerDelete } from './delete';
import { register as registerExec } from './exec';
import { register as registerFeatures } from './features';
import { register as registerKill } from './kill';
import { register as registerList } from './list';
import { register as registerRestore } from './restore';
import { register as registerRun } from './run';
import { register as registerSpec } from './spec';
import { register as registerStart } from './start';
import { register as registerState } from './state';

/** The libseccomp keel links (the native addon is loaded only for --version and -h). */
async function libseccomp(): Promise<string> {
  try {
    const { libseccompVersion } = await import('../../src/runtime/seccomp');
    return libseccompVersion();
  } catch {
    return 'unknown';
  }
}

/** runc's version lines, field for field: its "go:" line is keel's runtime, node. */
async function versionLines(): Promise<string[]> {
  return [`${keelVersion}`, `commit: ${keelCommit}`, `spec: ${specVersion}`, `node: ${process.version}`, `libseccomp: ${await libseccomp()}`];
}

const about =
  'Open Container Initiative runtime\n\n' +
  'keel is a command line client for running applications packaged according to the Open Container\n' +
  'Initiative (OCI) format and is a compliant implementation of the Open Container Initiative\n' +
  'specification, with runc\'s command line.\n\n' +
  'Containers are configured using bundles. A bundle for a container is a directory that includes a\n' +
  'specification file named "config.json" and a root filesystem. The root filesystem contains the\n' +
  'contents of the container.\n\n' +
  'To start a new instance of a container:\n\n' +
  '    # keel run [ -b bundle ] <container-id>\n\n' +
  'Where "<container-id>" is your name for the instance of the container that you are starting. The\n' +
  'name you provide for the container instance must be unique on your host. Providing the bundle\n' +
  'directory using "-b" is optional. The default value for "bundle" is the current directory.';

/** `keel -h` in runc's (urfave/cli) layout: NAME, USAGE, VERSION, COMMANDS, GLOBAL OPTIONS. */
function rootHelp(program: Command, version: string[]): string {
  const table = (rows: [string, string][]) => {
    const w = Math.max(...rows.map(([a]) => a.length));
    return rows.map(([a, b]) => `   ${a.padEnd(w)}  ${b}`.trimEnd()).join('\n');
  };
  const cmds: [string, string][] = program.commands
    .map((c): [string, string] => [[c.name(), ...c.aliases()].join(', '), c.summary() || c.description()])
    .sort(([a], [b]) => a.localeCompare(b));
  cmds.push(['help, h', 'Shows a list of commands or help for one command']);
  const opts: [string, string][] = program.options.map((o) => {
    const names = [o.long, o.short].filter(Boolean).join(', ') + (o.required || o.optional ? ' value' : '');
    const def = typeof o.defaultValue === 'string' ? ` (default: ${JSON.stringify(o.defaultValue)})` : '';
    return [names, `${o.description}${def}`];
  });
  opts.push(['--help, -h', 'show help']);
  return [
    `NAME:\n   keel - ${about}`,
    `USAGE:\n   keel [global options] command [command options] [arguments...]`,
    `VERSION:\n   ${version.join('\n')}`,
    `COMMANDS:\n${table(cmds)}`,
    `GLOBAL OPTIONS:\n${table(opts)}`,
  ].join('\n\n') + '\n';
}

function buildProgram(): { program: Command; cli: Cli } {
  const program = new Command('keel');
  const cli = new Cli(program);
  program
    .description('Open Container Initiative runtime (runc-compatible)')
    .usage('[global options] command [command options] [arguments...]')
    .option('--root <dir>', 'root directory for storage of container state (this should be located in tmpfs)', defaultRoot())
    .option('--log <path>', 'set the log file to write keel logs to (default is stderr)')
    .option('--log-format <format>', 'set the log format ("text" or "json")', 'text')
    .option('--debug', 'enable debug logging', false)
    .option('--systemd-cgroup', 'enable systemd cgroup support', false)
    .option('--rootless <value>', 'ignore cgroup permission errors ("true", "false", or "auto")', 'auto')
    .option('--criu <path>', 'path to the criu binary used for checkpoint and restore', 'criu')
    .option('-v, --version', 'print the version')
    .enablePositionalOptions()
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
  for (const reg of [registerCreate, registerStart, registerRun, registerExec, registerState, registerList, registerKill, registerDelete, registerCgroupVerbs, registerSpec, registerFeatures, registerCheckpoint, registerRestore]) {
    reg(program, cli);
  }
  for (const cmd of program.commands) cmd.exitOverride().configureOutput({ writeErr: () => undefined });
  program.hook('preAction', async () => {
    const format = cli.globals.logFormat;
    if (format !== 'text' && format !== 'json') {
      cli.globals.logFormat = 'text';
      await cli.fail(new Error(`invalid log-format: ${format}`));
    }
  });
  return { program, cli };
}

function flagSet(options: readonly Option[]): FlagSet {
  const values = new Set<string>();
  const bools = new Set<string>();
  for (const o of options) {
    const name = o.long?.replace(/^--/, '');
    if (!name) continue;
    (o.required || o.optional ? values : bools).add(name);
  }
  return { values, bools };
}

/** Go-style argv (single-dash long flags, --bool=false) into commander's dialect, per command. */
function normalize(program: Command, argv: string[]): string[] {
  const global = normalizeGoFlags(argv, flagSet(program.options), true);
  const verbAt = global.findIndex((a) => !a.startsWith('-'));
  if (verbAt < 0) return global;
  const cmd = program.commands.find((c) => c.name() === global[verbAt] || c.aliases().includes(global[verbAt]!));
  if (!cmd) return global;
  const stop = (cmd as Command & { _passThroughOptions?: boolean })._passThroughOptions === true;
  return [...global.slice(0, verbAt + 1), ...normalizeGoFlags(global.slice(verbAt + 1), flagSet(cmd.options), stop)];
}

async function main(argv: string[]): Promise<number> {
  const { program, cli } = buildProgram();
  const args = normalize(program, argv);
  const verbAt = args.findIndex((a) => !a.startsWith('-'));
  const globals = verbAt < 0 ? args : args.slice(0, verbAt);
  if (globals.includes('--version') || globals.includes('-v') || (args.length === 1 && args[0] === 'version')) {
    const [v, ...rest] = await versionLines();
    process.stdout.write(`keel version ${v}\n${rest.join('\n')}\n`);
    return 0;
  }
  // A verb keel does not have, with or without -h, or as `help VERB`: runc's words and status 3.
  const known = (v: string) => program.commands.some((c) => c.name() === v || c.aliases().includes(v));
  const verb = verbAt < 0 ? undefined : args[verbAt] === 'help' || args[verbAt] === 'h' ? args[verbAt + 1] : args[verbAt];
  if (verb !== undefined && !known(verb)) {
    try {
      await cli.fail(new Error(`No help topic for '${verb}'`), 3);
    } catch (x) {
      if (x instanceof ExitError) return x.code;
    }
  }
  if (verbAt < 0 || (['help', 'h'].includes(args[verbAt]!) && verb === undefined)) {
    process.stdout.write(rootHelp(program, await versionLines()));
    return 0;
  }
  if (verbAt >= 0 && args[verbAt] === 'h') args[verbAt] = 'help';
  try {
    await program.parseAsync(args, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof ExitError) return e.code;
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version') return 0;
      try {
        await cli.fail(new Error(e.message.replace(/^error: /, '')));
      } catch (x) {
        if (x instanceof ExitError) return x.code;
      }
      return 1;
    }
    try {
      await cli.fail(e);
    } catch (x) {
      if (x instanceof ExitError) return x.code;
    }
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  },
);
