// dock compose as a bundle of its own (dist/compose-entry.js): the compose command line (./compose)
// and its runner, nothing else. The CLI loads it for `dock [OPTIONS] compose`; cmd/loader.js runs
// main() for `dock compose` without the CLI's bundle.
import { runCommander } from '../../src/manager/cli/commander-run';
import { register } from './compose';

/** `dock compose ARGS`: resolves with the exit status. */
export function run(args: string[]): Promise<number> {
  return runCommander('compose', register, args);
}

/**
 * `dock compose ARGS` run directly by cmd/loader.js. With DOCKER_HOST set the CLI would only hand
 * over to run() (no global options precede `compose`, and an explicit host is never auto-started),
 * so its bundle (a fifth of this start-up) is skipped. Without DOCKER_HOST the CLI runs as usual:
 * it may have to start the engine first (src/manager/cli/autostart.ts).
 */
export function main(args: string[]): void {
  if (!process.env.DOCKER_HOST) {
    const loadBundle = (globalThis as Record<symbol, ((entry: string) => unknown) | undefined>)[Symbol.for('keel.loadBundle')]!;
    loadBundle('dock');
    return;
  }
  run(args).then(
    (code) => process.exit(code),
    (e: unknown) => {
      // What the CLI prints for an error escaping a passthrough command (execute.ts errorText).
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
