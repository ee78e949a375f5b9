// Runs a command line through the command tree as docker's main does: global flags first (stopping
// at the command name), then traversal, the command's own flags, --help, argument rules, and the
// run function. Errors become docker's stderr text and exit status; nothing else exits the process.
import { ApiError } from '../api/client';
import { Command, noArgs, StatusError, type CommandSpec } from './command';
import type { DockCli, GlobalOptions } from './cli';
import { FlagSet, HelpRequested } from './flags';

/** Adds the global options of the docker CLI to the root flag set. */
export function globalFlags(f: FlagSet, configDefault: string): void {
  f.string('config', '', configDefault, 'Location of client config files');
  f.bool('debug', 'D', false, 'Enable debug mode');
  f.list('host', 'H', 'Daemon socket to connect to');
  f.string('log-level', 'l', 'info', 'Set the logging level ("debug", "info", "warn", "error", "fatal")');
  f.bool('tls', '', false, 'Use TLS; implied by --tlsverify');
  const certDir = process.env.DOCKER_CERT_PATH || configDefault;
  f.string('tlscacert', '', `${certDir}/ca.pem`, 'Trust certs signed only by this CA');
  f.string('tlscert', '', `${certDir}/cert.pem`, 'Path to TLS certificate file');
  f.string('tlskey', '', `${certDir}/key.pem`, 'Path to TLS key file');
  f.bool('tlsverify', '', false, 'Use TLS and verify the remote');
  f.bool('version', 'v', false, 'Print version information and quit');
}

function readGlobals(f: FlagSet): GlobalOptions {
  const s = (n: string) => (f.changed(n) ? f.get<string>(n) : undefined);
  return {
    ...(s('config') ? { config: s('config') } : {}),
    debug: f.get<boolean>('debug'),
    logLevel: f.get<string>('log-level'),
    tls: f.get<boolean>('tls') || f.get<boolean>('tlsverify'),
    tlsverify: f.get<boolean>('tlsverify'),
    ...(s('tlscacert') ? { tlscacert: s('tlscacert') } : {}),
    ...(s('tlscert') ? { tlscert: s('tlscert') } : {}),
    ...(s('tlskey') ? { tlskey: s('tlskey') } : {}),
    hosts: f.get<string[]>('host'),
  };
}

/** Gives every command below the root cobra's hidden persistent --help (-h deprecated). */
function addHelpFlags(c: Command<DockCli>): void {
  for (const ch of c.children) {
    if (!ch.flags.has('help')) {
      const shortFree = !ch.flags.all().some((f) => f.shorthand === 'h');
      ch.flags.add({ name: 'help', ...(shortFree ? { shorthand: 'h', shorthandDeprecated: 'use --help' } : {}), usage: 'Print usage', value: new HelpValue(), zero: 'bool', noOptDefVal: 'true', hidden: true });
    }
    addHelpFlags(ch);
  }
}

class HelpValue {
  readonly type = 'bool';
  private v = false;
  set(s: string): void {
    this.v = s === 'true' || s === '1';
  }
  string(): string {
    return String(this.v);
  }
  get(): boolean {
    return this.v;
  }
}

/** Terminal width for help: stdin's window (moby/term GetWinsize(0)), else 80. */
function helpWidth(): number {
  const s = process.stdin as { isTTY?: boolean };
  if (s.isTTY) {
    const cols = (process.stdout as { columns?: number }).columns;
    if (cols) return cols;
  }
  return 80;
}

/** The text docker prints for an error (API errors carry "Error response from daemon: "). */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return `Error response from daemon: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** docker's withHelp: "docker: <err>\n\nRun 'docker <cmd> --help' for more information". */
export function withHelp(cmd: { root: { name: string }; path: string }, e: unknown): string {
  return `${cmd.root.name}: ${errorText(e)}\n\nRun '${cmd.path} --help' for more information`;
}

/** Builds the tree for a root spec (its flags are the global options). */
export function buildTree(root: CommandSpec<DockCli>): Command<DockCli> {
  const tree = new Command(root);
  addHelpFlags(tree);
  return tree;
}

/**
 * Runs argv (without the executable) and resolves with the exit status, or null for a long-running
 * command (the daemon) whose process must not be ended.
 */
export async function execute(tree: Command<DockCli>, argv: string[], cli: DockCli): Promise<number | null> {
  const bin = tree.name;
  const print = (s: string) => {
    if (s) cli.err.write(s.endsWith('\n') ? s : s + '\n');
  };
  try {
    const rootFlags = tree.flags;
    rootFlags.interspersed = false;
    try {
      rootFlags.parse(argv);
    } catch (e) {
      if (e instanceof HelpRequested) {
        cli.out.write(tree.help(helpWidth()));
        return 0;
      }
      throw tree.flagError((e as Error).message);
    }
    cli.opts = readGlobals(rootFlags);
    if (rootFlags.get<boolean>('version')) {
      cli.out.write(`${bin} version ${cli.version}, build ${cli.gitCommit}\n`);
      return 0;
    }
    const rest = rootFlags.args;
    if (rest.length === 0) {
      cli.err.write(tree.help(helpWidth()));
      return 0;
    }
    const { cmd, args } = tree.traverse(rest);
    if (cmd === tree) {
      print(`${bin}: unknown command: ${bin} ${rest[0]}\n\nRun '${bin} --help' for more information`);
      return 1;
    }
    if (cmd.spec.passthrough) {
      const code = await cmd.spec.run!({ cli, cmd, flags: cmd.flags, args });
      return cmd.spec.longRunning ? null : (code ?? 0);
    }
    try {
      cmd.parseFlags(args);
    } catch (e) {
      if (!(e instanceof HelpRequested)) throw e;
      cli.out.write(cmd.help(helpWidth()));
      return 0;
    }
    if (cmd.flags.get<boolean>('help')) {
      cli.out.write(cmd.help(helpWidth()));
      return 0;
    }
    const positional = cmd.flags.args;
    const rule = cmd.spec.args ?? (cmd.hasSubCommands && !cmd.spec.run ? noArgs : undefined);
    rule?.(cmd as Command<unknown>, positional);
    if (!cmd.spec.run) {
      cli.err.write(cmd.help(helpWidth()));
      return 0;
    }
    const code = await cmd.spec.run({ cli, cmd, flags: cmd.flags, args: positional });
    return code ?? 0;
  } catch (e) {
    if (e instanceof StatusError) {
      print(e.status);
      return e.code;
    }
    print(errorText(e));
    if (cli.opts.debug && e instanceof Error && e.stack && !(e instanceof ApiError)) cli.err.write(e.stack + '\n');
    return 1;
  } finally {
    if (!tree.traverse(tree.flags.args).cmd.spec.longRunning) cli.close();
  }
}

/** `help [command]`: the help of a command, or "unknown help topic". */
export function helpCommand(): CommandSpec<DockCli> {
  return {
    use: 'help [command]',
    short: 'Help about the command',
    run: async ({ cli, cmd, args }) => {
      const { cmd: target, args: left } = cmd.root.traverse(args);
      if (left.length > 0) throw new Error(`unknown help topic: ${args.join(' ')}`);
      cli.out.write(target.help(helpWidth()));
    },
  };
}
