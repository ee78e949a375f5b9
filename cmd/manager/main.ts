// dock: the Docker-compatible CLI, a pure client of the Engine API (src/manager/cli), plus `dock daemon`
// (the engine) and `dock compose`. This file only assembles the command tree and exits with the
// status the command chose. A command is one line: addCommand(root, makeSpec[, { under, shortcut }]).
import { DockCli } from '../../src/manager/cli/cli';
import { addCommand, commanderCommand, rootCommand } from '../../src/manager/cli/commands/index';
import { buildTree, execute } from '../../src/manager/cli/execute';

// The engine and compose are bundles of their own (dist/daemon-entry.js, dist/compose-entry.js), run
// by cmd/loader.js when their command runs, so every other command starts without their modules.
// Without the loader (tsx) they are plain modules.
/* eslint-disable @typescript-eslint/no-require-imports */
type Part = { run(args: string[]): Promise<number> };
const loadBundle = (globalThis as Record<symbol, ((entry: string) => Part) | undefined>)[Symbol.for('keel.loadBundle')];
const daemonPart = (): Part => (loadBundle ? loadBundle('daemon-entry') : (require('./daemon') as Part));
const composePart = (): Part => (loadBundle ? loadBundle('compose-entry') : (require('./compose-entry') as Part));

declare const KEEL_VERSION: string;
declare const KEEL_COMMIT: string;

const root = rootCommand('dock');
addCommand(root, commanderCommand('daemon', 'Run the dock engine (the Docker Engine API on a unix socket) in the foreground', daemonPart, { longRunning: true }));
addCommand(root, commanderCommand('compose', 'Define and run multi-container applications', composePart, { needsEngine: true }));
// build (cmd/manager/build.ts): addCommand(root, buildCommand, { under: 'image', shortcut: true });

// The auto-started daemon is this same executable with argv `daemon` (src/manager/cli/autostart.ts);
// "--" ends node's options (node 20 would read a later --env-file as its own).
const daemonArgv = [process.execPath, ...process.execArgv, '--', process.argv[1]!];

const cli = new DockCli({
  version: typeof KEEL_VERSION === 'string' ? KEEL_VERSION : 'dev',
  gitCommit: typeof KEEL_COMMIT === 'string' ? KEEL_COMMIT : 'unknown',
  daemonArgv,
});

void execute(buildTree(root), process.argv.slice(2), cli).then(
  (code) => {
    if (code !== null) process.exit(code);
  },
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
