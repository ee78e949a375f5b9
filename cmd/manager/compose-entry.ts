// dock compose as a bundle of its own (dist/compose-entry.js), loaded by the CLI when `dock compose`
// runs: the compose command line (./compose) and its runner, nothing else.
import { runCommander } from '../../src/manager/cli/commander-run';
import { register } from './compose';

/** `dock compose ARGS`: resolves with the exit status. */
export function run(args: string[]): Promise<number> {
  return runCommander('compose', register, args);
}
