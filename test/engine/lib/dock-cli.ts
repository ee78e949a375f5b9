// Runs the dock CLI (bundled once per test process from cmd/manager/main.ts, the way `make` builds
// bin/dock) against an engine, and helpers to compare it with the docker CLI on the same engine.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { docker, runCli, type CliResult, type CliTarget } from './docker-cli';

const REPO = path.resolve(__dirname, '..', '..', '..');
let bundle: string | undefined;

/** The dock CLI bundle (esbuild, as the Makefile builds bin/dock); removed at exit. */
export function dockBin(): string {
  if (bundle && fs.existsSync(bundle)) return bundle;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dock-cli-bin-'));
  const out = path.join(dir, 'dock');
  execFileSync(path.join(REPO, 'node_modules', '.bin', 'esbuild'), [
    path.join(REPO, 'cmd', 'manager', 'main.ts'),
    '--bundle',
    '--platform=node',
    '--target=node20',
    '--format=cjs',
    '--log-level=warning',
    '--define:KEEL_VERSION="test"',
    '--define:KEEL_COMMIT="test"',
    '--banner:js=#!/usr/bin/env -S node --',
    `--outfile=${out}`,
  ]);
  fs.chmodSync(out, 0o755);
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  bundle = out;
  return out;
}

export type RunOpts = { input?: string | Buffer; timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv; configDir?: string };

/** `dock ARGS` against target (DOCKER_HOST set, so no auto-start). */
export function dock(t: CliTarget, argv: string[], opts: RunOpts = {}): Promise<CliResult> {
  // "--": node 20 would otherwise take a `--env-file` anywhere in argv as its own option.
  return runCli(process.execPath, ['--', dockBin(), ...argv], { DOCKER_HOST: t.host, DOCKER_CONFIG: opts.configDir ?? t.configDir, ...opts.env }, opts);
}

/** `docker ARGS` with the same options shape. */
export function dockerCli(t: CliTarget, argv: string[], opts: RunOpts = {}): Promise<CliResult> {
  return docker({ host: t.host, configDir: opts.configDir ?? t.configDir }, argv, opts);
}

const DURATION = /(Less than a second|About a minute|About an hour|\d+ (second|minute|hour|day|week|month|year)s?)/g;

/**
 * What may legitimately differ between the two CLIs' output: the binary's own name, and relative
 * times (the runs are seconds apart). IDs and names are the engine's and compare as they are.
 */
export function normalize(s: string): string {
  const timed = DURATION.test(s);
  DURATION.lastIndex = 0;
  let out = s
    .replace(/docs\.docker\.com/g, 'DOCS')
    .replace(/\bdocker\b/g, 'dock')
    .replace(/DOCS/g, 'docs.docker.com')
    .replace(DURATION, 'N ago-ish');
  // A relative time of another length shifts the columns after it: compare the cells, not the padding.
  if (timed) out = out.replace(/ {2,}/g, '  ');
  return out;
}

export type Pair = { docker: CliResult; dock: CliResult };

/** Runs both CLIs with the same arguments (docker first). */
export async function both(t: CliTarget, argv: string[], opts: RunOpts = {}): Promise<Pair> {
  const d = await dockerCli(t, argv, opts);
  const k = await dock(t, argv, opts);
  return { docker: d, dock: k };
}

/** Asserts equal exit codes and normalised stdout/stderr; returns the pair for further checks. */
export async function same(assert: typeof import('node:assert/strict'), t: CliTarget, argv: string[], opts: RunOpts & { stdout?: (s: string) => string; stderr?: (s: string) => string } = {}): Promise<Pair> {
  const p = await both(t, argv, opts);
  const fo = opts.stdout ?? ((s: string) => s);
  const fe = opts.stderr ?? ((s: string) => s);
  const label = `dock ${argv.join(' ')}`;
  assert.equal(p.dock.code, p.docker.code, `${label}: exit code (docker stderr: ${p.docker.stderr}; dock stderr: ${p.dock.stderr})`);
  assert.equal(normalize(fo(p.dock.stdout)), normalize(fo(p.docker.stdout)), `${label}: stdout`);
  assert.equal(normalize(fe(p.dock.stderr)), normalize(fe(p.docker.stderr)), `${label}: stderr`);
  return p;
}
