// Runs the built CLIs (bin/keel and friends) for tests, and finds peer runtimes (runc) on PATH.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const keelBin = path.join(repoRoot, 'bin', 'keel');

export type RunResult = { code: number; stdout: string; stderr: string };

/** Runs a binary synchronously and returns its exit code and output. */
export function run(bin: string, args: readonly string[], opts: SpawnSyncOptions = {}): RunResult {
  const res = spawnSync(bin, args, { encoding: 'utf8', timeout: 60_000, ...opts });
  if (res.error) throw res.error;
  return { code: res.status ?? 128 + 9, stdout: String(res.stdout ?? ''), stderr: String(res.stderr ?? '') };
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
