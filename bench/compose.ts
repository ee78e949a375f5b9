// Benchmark: `dock compose up -d` and `down` of a 5-service project with a network, a published
// port and a volume, against docker-compose 1.29.2, both driving the same engine in a test netns
// (BENCH_ENGINE=dockerd, the default, or dock). dock compose is bin/dock as `make` built it (loader
// and code cache, what users run); BENCH_DOCK_BASE=[label=]/path/to/bin/dock[,...] adds other
// builds' dock compose (each copied with its dist/ first, so a rebuild there cannot change it
// mid-run). Interleaved runs; medians and ratios. Measures; asserts nothing.
// Usage: node --import tsx bench/compose.ts   (BENCH_RUNS=N, default 5; BENCH_ENGINE; needs root)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO } from '../test/engine/compose/harness';
import { BUSYBOX_CHANGES, busyboxTar } from '../test/engine/lib/busybox';
import { docker } from '../test/engine/lib/docker-cli';
import type { EngineKind } from '../test/engine/lib/engine';
import { startEngine } from '../test/engine/lib/engines';
import { createNetns } from '../test/engine/lib/netns';
import { report, type Sample } from './lib';

const N = Number(process.env.BENCH_RUNS ?? 5);

const KIND = (process.env.BENCH_ENGINE ?? 'dockerd') as EngineKind;

const SERVICES = ['web', 'api', 'worker', 'cache', 'db'];

/** The project: every service on network back; the first publishes a port and mounts the volume. */
function project(): string {
  const svc = (s: string, i: number) =>
    `  ${s}:\n    image: busybox\n    command: sleep 100000\n    stop_signal: SIGKILL\n    networks: [back]\n` + (i === 0 ? '    ports: ["80"]\n    volumes: [data:/data]\n' : '');
  return `services:\n${SERVICES.map(svc).join('')}networks:\n  back: {}\nvolumes:\n  data: {}\n`;
}

/** A copy of a built bin/dock with its dist/ bundle and code cache (the loader finds ../dist). */
function copyDock(bin: string, into: string): string {
  const dist = path.join(path.dirname(path.dirname(fs.realpathSync(bin))), 'dist');
  fs.mkdirSync(path.join(into, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(into, 'dist'));
  fs.copyFileSync(bin, path.join(into, 'bin', 'dock'));
  for (const f of ['dock.js', 'dock.js.cache']) if (fs.existsSync(path.join(dist, f))) fs.copyFileSync(path.join(dist, f), path.join(into, 'dist', f));
  return path.join(into, 'bin', 'dock');
}

async function main(): Promise<void> {
  const netns = createNetns('kbcmp');
  const engine = await startEngine(KIND, { netns });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-bench-'));
  try {
    const imp = await docker(engine, ['import', ...BUSYBOX_CHANGES.flatMap((c) => ['--change', c]), busyboxTar(), 'busybox:latest']);
    if (imp.code !== 0) throw new Error(imp.stderr);
    fs.writeFileSync(path.join(dir, 'compose.yaml'), project());
    const env = { ...process.env, DOCKER_HOST: engine.host };
    const tools: Record<string, (args: string[]) => string[]> = {
      'dock compose': (args) => [path.join(REPO, 'bin', 'dock'), 'compose', '-p', 'bdock', ...args],
      'docker-compose': (args) => ['docker-compose', '-p', 'bv1', ...args],
    };
    const bases = (process.env.BENCH_DOCK_BASE ?? '').split(',').filter(Boolean).map((b, i) => {
      const [label, bin] = b.includes('=') ? (b.split('=', 2) as [string, string]) : [`base${i || ''}`, b];
      const copy = copyDock(bin, path.join(dir, `base${i}`));
      tools[`${label} dock compose`] = (args) => [copy, 'compose', '-p', `bbase${i}`, ...args];
      return label;
    });
    const samples: Record<string, Sample> = {};
    const time = (name: string, argv: string[], record: boolean) => {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(argv[0]!, argv.slice(1), { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr}`);
      if (record) (samples[name] ??= { name, runs: [] }).runs.push(ms);
    };
    // The first round checks that the project really runs: every service up, the port published.
    const check = async (proj: string) => {
      const ps = await docker(engine, ['ps', '--filter', `label=com.docker.compose.project=${proj}`, '--format', '{{.Names}} {{.Ports}}']);
      const lines = ps.stdout.trim().split('\n').filter(Boolean);
      if (lines.length !== SERVICES.length || !lines.some((l) => /->80\/tcp/.test(l))) throw new Error(`project ${proj} is not up as expected:\n${ps.stdout}${ps.stderr}`);
    };
    for (let i = 0; i < N + 1; i++) {
      for (const [tool, argv] of Object.entries(tools)) {
        time(`${tool} up -d`, argv(['up', '-d']), i > 0);
        if (i === 0) await check(argv([])[argv([]).indexOf('-p') + 1]!);
        time(`${tool} down`, argv(['down', '-v', '-t', '1']), i > 0);
      }
    }
    for (const op of ['up -d', 'down']) {
      const title = `compose ${op} (5 services, ${KIND})`;
      report(title, samples[`dock compose ${op}`]!, samples[`docker-compose ${op}`]);
      for (const b of bases) {
        report(title, samples[`${b} dock compose ${op}`]!, samples[`docker-compose ${op}`]);
        report(title, samples[`dock compose ${op}`]!, samples[`${b} dock compose ${op}`]);
      }
    }
  } finally {
    await engine.stop();
    netns.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
