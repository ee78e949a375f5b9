// Runs one of dock's commander-parsed commands (daemon, compose) on its arguments. It lives with
// the command's own bundle (cmd/manager/daemon.ts, compose-entry.ts), so commander is loaded and
// bundled only where it is used, never by the rest of the CLI.
import { Command, CommanderError } from 'commander';

/**
 * Parses [name, ...args] with a program on which register() defined `name`, runs its action and
 * resolves with the exit status: the action's process.exitCode, 0 after --help, 125 on a flag error
 * (commander has printed it).
 */
export async function runCommander(name: string, register: (program: Command) => void, args: string[]): Promise<number> {
  const program = new Command('dock').exitOverride().enablePositionalOptions();
  register(program);
  for (const c of program.commands) c.exitOverride();
  try {
    await program.parseAsync([name, ...args], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 125;
    throw e;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}
