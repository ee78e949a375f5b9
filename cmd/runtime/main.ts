// keel: the runc-compatible OCI runtime CLI. Global flags, the verb table and exit codes; each verb
// lives in its own file and only parses, calls src/runtime and prints.
import { Command, CommanderError, type Option } from 'commander';
import { normalizeGoFlags, type FlagSet } from '../../src/util/go-flags';
import { keelCommit, keelVersion, specVersion } from '../../src/version';
import { Cli, defaultRoot, ExitError } from './context';
import { register as registerCgroupVerbs } from './cgroup-verbs';
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


const versionText = () => `keel version ${keelVersion}\ncommit: ${keelCommit}\nspec: ${specVersion}\nnode: ${process.version}\n`;

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
    .option('--criu <path>', 'accepted for compatibility and ignored (keel has no checkpoint/restore)')
    .option('-v, --version', 'print the version')
    .enablePositionalOptions()
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
  for (const reg of [registerCreate, registerStart, registerRun, registerExec, registerState, registerList, registerKill, registerDelete, registerCgroupVerbs, registerSpec, registerFeatures, registerRestore]) {
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
  if (args[0] === '--version' || args[0] === '-v' || (args.length === 1 && args[0] === 'version')) {
    process.stdout.write(versionText());
    return 0;
  }
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
