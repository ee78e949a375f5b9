// Runs the built CLIs (bin/keel and friends) for tests, and finds peer runtimes (runc) on PATH.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const keelBin = path.join(repoRoot, 'bin', 'keel');

export type RunResult = { code: number; stdout: string; stderr: string };

/**
 * Runs a binary synchronously and returns its exit code and output. stdout and stderr go to temp
 * files, not pipes: a detached container inherits them, and a pipe would then never reach EOF.
 */
export function run(bin: string, args: readonly string[], opts: SpawnSyncOptions = {}): RunResult {
  const dir = fs.mkdtempSync('/tmp/keel-run-');
  const outPath = path.join(dir, 'out');
  const errPath = path.join(dir, 'err');
  const out = fs.openSync(outPath, 'w+');
  const err = fs.openSync(errPath, 'w+');
  try {
    const res = spawnSync(bin, args, { timeout: 60_000, ...opts, stdio: [opts.input !== undefined ? 'pipe' : 'ignore', out, err] });
    if (res.error) throw res.error;
    return { code: res.status ?? 128 + 9, stdout: fs.readFileSync(outPath, 'utf8'), stderr: fs.readFileSync(errPath, 'utf8') };
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function keel(args: readonly string[], opts: SpawnSyncOptions = {}): RunResult {
  return run(keelBin, args, opts);
}

/** Absolute path of a command on PATH (plus the sbin dirs), or undefined. */
export function which(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin']) {
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}

export const isRoot = (process.getuid?.() ?? 1) === 0;

/** A fresh temp dir removed by the returned cleanup function. */
export function tempDir(prefix = 'keel-test-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join('/tmp', prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The message of the error line a failed command wrote to stderr, whether logrus text
 * (msg="…" with Go quoting) or JSON.
 */
export function errorMessage(r: RunResult): string {
  const lines = r.stderr.trim().split('\n');
  for (const line of lines.reverse()) {
    if (line.startsWith('{')) {
      try {
        return String((JSON.parse(line) as { msg?: unknown }).msg ?? '');
      } catch {
        /* not a log line */
      }
    }
    const m = /\bmsg=("(?:[^"\\]|\\.)*")/.exec(line);
    if (m) return JSON.parse(m[1]!) as string;
  }
  return r.stderr.trim();
}
