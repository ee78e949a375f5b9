// Auto-start of the engine: when neither -H nor DOCKER_HOST is given and nothing answers on dock's
// default socket, the CLI starts `dock daemon` detached (same executable, its own session, output
// appended to <exec-root>/dock.log), says so in one stderr line, and waits for /_ping. The daemon's
// flags live here only, so they can change in one place.
import type * as ChildProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EngineClient } from '../api/client';

export const EXEC_ROOT = '/run/dock';
export const DEFAULT_HOST = `unix://${EXEC_ROOT}/dock.sock`;
export const DAEMON_LOG = `${EXEC_ROOT}/dock.log`;
/** Arguments after the executable: the daemon verb and its flags. */
export const DAEMON_ARGS = ['daemon'];
const START_TIMEOUT_MS = 60_000;

/** Where auto-start keeps its lock and log (dock's exec root unless a test says otherwise). */
export type AutostartPaths = { execRoot: string; log: string; timeoutMs: number };
const DEFAULT_PATHS: AutostartPaths = { execRoot: EXEC_ROOT, log: DAEMON_LOG, timeoutMs: START_TIMEOUT_MS };

function isDown(e: unknown): boolean {
  const code = ((e as { cause?: NodeJS.ErrnoException }).cause ?? (e as NodeJS.ErrnoException))?.code;
  return code === 'ENOENT' || code === 'ECONNREFUSED';
}

async function answers(client: EngineClient): Promise<boolean> {
  try {
    await client.ping();
    return true;
  } catch (e) {
    if (isDown(e)) return false;
    throw e;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Makes sure a daemon answers on client's socket, starting one with argv (e.g. [node, script]) when
 * none does. Concurrent CLIs agree through a lock directory: one starts, the others wait.
 */
export async function ensureDaemon(client: EngineClient, argv: string[], say: (line: string) => void, paths: AutostartPaths = DEFAULT_PATHS): Promise<void> {
  if (await answers(client)) return;
  fs.mkdirSync(paths.execRoot, { recursive: true, mode: 0o711 });
  const lock = path.join(paths.execRoot, '.autostart');
  let owner = false;
  try {
    fs.mkdirSync(lock);
    owner = true;
  } catch {
    // Someone else is starting it; a lock older than the start timeout is stale.
    try {
      if (Date.now() - fs.statSync(lock).mtimeMs > paths.timeoutMs) {
        fs.rmSync(lock, { recursive: true, force: true });
        fs.mkdirSync(lock);
        owner = true;
      }
    } catch {
      /* raced: wait below */
    }
  }
  let exited: string | undefined;
  try {
    if (owner && !(await answers(client))) {
      const log = fs.openSync(paths.log, 'a', 0o600);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { spawn } = require('node:child_process') as typeof ChildProcess;
      const child = spawn(argv[0]!, [...argv.slice(1), ...DAEMON_ARGS], { detached: true, stdio: ['ignore', log, log] });
      fs.closeSync(log);
      child.on('exit', (code, sig) => (exited = sig ? `killed by ${sig}` : `exit status ${code}`));
      child.on('error', (e) => (exited = e.message));
      child.unref();
      say(`dock: no daemon was running; started one (pid ${child.pid}, log ${paths.log})\n`);
    }
    const end = Date.now() + paths.timeoutMs;
    for (;;) {
      if (await answers(client)) return;
      if (exited) throw new Error(`Cannot start the dock daemon: ${exited}; see ${paths.log}`);
      if (Date.now() > end) throw new Error(`Cannot start the dock daemon: no answer after ${paths.timeoutMs / 1000}s; see ${paths.log}`);
      await sleep(50);
    }
  } finally {
    if (owner) fs.rmSync(lock, { recursive: true, force: true });
  }
}
