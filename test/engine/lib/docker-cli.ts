// Runs the real docker CLI 28 (/usr/local/bin/docker) against an engine's socket, with a private
// DOCKER_CONFIG so that logins never touch the user's own config.
import { spawn } from 'node:child_process';

export const DOCKER_CLI = process.env.DOCKER_CLI ?? '/usr/local/bin/docker';

export type CliResult = { code: number; stdout: string; stderr: string };

export type CliTarget = { host: string; configDir: string };

export function runCli(
  bin: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  opts: { input?: string | Buffer; timeoutMs?: number; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, argv, { env: { ...process.env, ...env }, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const t = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(t);
      const stderr = Buffer.concat(err).toString();
      resolve({ code: code ?? (signal ? 128 + 9 : 1), stdout: Buffer.concat(out).toString(), stderr: signal === 'SIGKILL' && code === null ? `${stderr}\n[timed out]` : stderr });
    });
    child.stdin.on('error', () => undefined);
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

/** `docker ARGS` against target. */
export function docker(t: CliTarget, argv: string[], opts: { input?: string | Buffer; timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return runCli(DOCKER_CLI, argv, { DOCKER_HOST: t.host, DOCKER_CONFIG: t.configDir, DOCKER_BUILDKIT: '0', ...opts.env }, opts);
}
