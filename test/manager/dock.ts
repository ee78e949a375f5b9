// Runs the daemonless image CLI (test/manager/legacy-cli, the former cmd/manager) with a private --root.
import { execFile } from 'node:child_process';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export type RunResult = { code: number; stdout: string; stderr: string };

export function dock(root: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'test', 'manager', 'legacy-cli', 'main.ts'), '--root', root, ...args],
      { cwd: REPO_ROOT, maxBuffer: 1 << 26, env: { ...process.env, ...(opts.env ?? {}) } },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}
