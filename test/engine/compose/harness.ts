// Harness of the compose scenarios: an engine (dock or dockerd) in a test netns with busybox
// imported, `dock compose` from a bundle of the current sources, docker-compose 1.29.2, project
// directories, HTTP checks from inside the netns, and a leak check of a project's resources.
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BUSYBOX_CHANGES, busyboxTar } from '../lib/busybox';
import { docker, runCli, type CliResult } from '../lib/docker-cli';
import type { Engine } from '../lib/engine';
import { DOCK_BIN } from '../lib/dock';
import { createNetns, type Netns } from '../lib/netns';

export const REPO = path.resolve(__dirname, '..', '..', '..');

/**
 * The dock executable as `make` builds it and users run it: bin/dock, the loader that starts the CLI
 * bundle and loads dist/compose-entry.js (with its code cache) for `dock compose`. The engine tests
 * start the daemon from the same file (lib/dock.ts), and `make test` builds it first.
 */
export function dockBundle(): string {
  if (!fs.existsSync(DOCK_BIN)) throw new Error(`${DOCK_BIN} is missing: run make first`);
  return DOCK_BIN;
}

/** With COMPOSE_TEST_TIMING=1, each command's wall time goes to stderr (to see where a slow run goes). */
async function timed<T>(what: string, p: Promise<T>): Promise<T> {
  const t0 = Date.now();
  const r = await p;
  if (process.env.COMPOSE_TEST_TIMING) process.stderr.write(`# ${Date.now() - t0} ms ${what}\n`);
  return r;
}

export type StartEngine = (netns: Netns) => Promise<Engine>;

export type Env = {
  engine: Engine;
  netns: Netns;
  work: string;
  /** dock compose ARGS in cwd. */
  compose(cwd: string, args: string[], o?: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): Promise<CliResult>;
  /** docker-compose 1.29.2 ARGS in cwd. */
  composeV1(cwd: string, args: string[], o?: { env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CliResult>;
  docker(args: string[]): Promise<CliResult>;
  /** wget -qO- URL run inside the test netns (the published ports live there). */
  fetch(url: string): string;
  /** A project directory with files. */
  project(name: string, files: Record<string, string>): string;
  close(): Promise<void>;
};

export async function setUp(start: StartEngine): Promise<Env> {
  const netns = createNetns('kcmp');
  let engine: Engine;
  try {
    engine = await start(netns);
  } catch (e) {
    netns.remove();
    throw e;
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-scn-'));
  const bin = dockBundle();
  const base = { DOCKER_HOST: engine.host, DOCKER_CONFIG: engine.configDir, COMPOSE_PROJECT_NAME: '', NO_COLOR: '' };
  const env: Env = {
    engine,
    netns,
    work,
    compose: (cwd, args, o = {}) => timed(`dock compose ${args.join(' ')}`, runCli(process.execPath, [bin, 'compose', ...args], { ...base, ...o.env }, { cwd, input: o.input, timeoutMs: o.timeoutMs ?? 120_000 })),
    composeV1: (cwd, args, o = {}) => timed(`docker-compose ${args.join(' ')}`, runCli('docker-compose', args, { ...base, COMPOSE_HTTP_TIMEOUT: '120', ...o.env }, { cwd, timeoutMs: o.timeoutMs ?? 180_000 })),
    docker: (args) => docker(engine, args),
    fetch(url) {
      const w = netns.wrap(['wget', '-qO-', '-T', '10', url]);
      const r = spawnSync(w[0]!, w.slice(1), { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`wget ${url}: ${r.stderr.trim() || `exit ${r.status}`}`);
      return r.stdout;
    },
    project(name, files) {
      const d = path.join(work, name);
      for (const [f, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
        fs.writeFileSync(path.join(d, f), text);
      }
      return d;
    },
    async close() {
      await engine.stop();
      netns.remove();
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
  const imp = await env.docker(['import', ...BUSYBOX_CHANGES.flatMap((c) => ['--change', c]), busyboxTar(), 'busybox:latest']);
  if (imp.code !== 0) {
    await env.close();
    throw new Error(`docker import: ${imp.stderr}`);
  }
  return env;
}

/**
 * Debian's docker-registry inside the test netns on 127.0.0.1:5000 (dockerd treats 127.0.0.0/8 as
 * an insecure registry, so plain HTTP works); stopped by pid.
 */
export async function startRegistry(env: Env): Promise<{ host: string; stop(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(env.work, 'registry-'));
  const host = '127.0.0.1:5000';
  fs.writeFileSync(
    path.join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/storage\nhttp:\n  addr: ${host}\n`,
  );
  const argv = env.netns.wrap(['/usr/bin/docker-registry', 'serve', path.join(dir, 'config.yml')]);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => (exited = true));
  const stop = async () => {
    if (!exited && child.pid) {
      const done = new Promise((r) => child.once('exit', r));
      process.kill(child.pid, 'SIGTERM');
      await Promise.race([done, sleep(5000)]);
      if (!exited) process.kill(child.pid, 'SIGKILL');
    }
  };
  for (let i = 0; i < 400 && !exited; i++) {
    try {
      env.fetch(`http://${host}/v2/`);
      return { host, stop };
    } catch {
      await sleep(25);
    }
  }
  await stop();
  throw new Error('docker-registry did not start in the test netns');
}

/** Throws with the command's output unless it exited 0; returns stdout. */
export function ok(r: CliResult, what: string): string {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/** The project's containers, networks and volumes as the docker CLI lists them by label. */
export async function resources(env: Env, project: string): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
  const f = `label=com.docker.compose.project=${project}`;
  const lines = (r: CliResult) => r.stdout.split('\n').filter(Boolean).sort();
  return {
    containers: lines(await env.docker(['ps', '-a', '--filter', f, '--format', '{{.Names}} {{.State}}'])),
    networks: lines(await env.docker(['network', 'ls', '--filter', f, '--format', '{{.Name}}'])),
    volumes: lines(await env.docker(['volume', 'ls', '--filter', f, '--format', '{{.Name}}'])),
  };
}

/** Container name → state of a project, from `dock compose ps -a --format json`. */
export function states(psJson: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of psJson.split('\n').filter(Boolean)) {
    const o = JSON.parse(l) as { Name: string; State: string };
    out[o.Name] = o.State;
  }
  return out;
}
