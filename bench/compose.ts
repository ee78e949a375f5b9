// Benchmark: `dock compose up -d` and `down` of a 5-service project with a network and a volume,
// against docker-compose 1.29.2, both driving the same engine in a test netns (BENCH_ENGINE=dockerd,
// the default, or dock; on dock, which has no bridge networking yet, the services use the host
// network). Interleaved runs; medians and ratios. Measures; asserts nothing.
// Usage: node --import tsx bench/compose.ts   (BENCH_RUNS=N, default 5; BENCH_ENGINE; needs root)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dockBundle } from '../test/engine/compose/harness';
import { BUSYBOX_CHANGES, busyboxTar } from '../test/engine/lib/busybox';
import { docker } from '../test/engine/lib/docker-cli';
import type { EngineKind } from '../test/engine/lib/engine';
import { startEngine } from '../test/engine/lib/engines';
import { createNetns } from '../test/engine/lib/netns';
import { report, type Sample } from './lib';

const N = Number(process.env.BENCH_RUNS ?? 5);

const KIND = (process.env.BENCH_ENGINE ?? 'dockerd') as EngineKind;

function project(hostNetwork: boolean): string {
  const svc = (s: string, i: number) =>
    `  ${s}:\n    image: busybox\n    command: sleep 100000\n    stop_signal: SIGKILL\n` +
    (hostNetwork ? '    network_mode: host\n' : '    networks: [back]\n') +
    (i === 0 ? `${hostNetwork ? '' : '    ports: ["80"]\n'}    volumes: [data:/data]\n` : '');
  return `services:\n${['web', 'api', 'worker', 'cache', 'db'].map(svc).join('')}${hostNetwork ? '' : 'networks:\n  back: {}\n'}volumes:\n  data: {}\n`;
}

async function main(): Promise<void> {
  const netns = createNetns('kbcmp');
  const engine = await startEngine(KIND, { netns });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-bench-'));
  try {
    const imp = await docker(engine, ['import', ...BUSYBOX_CHANGES.flatMap((c) => ['--change', c]), busyboxTar(), 'busybox:latest']);
    if (imp.code !== 0) throw new Error(imp.stderr);
    fs.writeFileSync(path.join(dir, 'compose.yaml'), project(KIND === 'dock'));
    const env = { ...process.env, DOCKER_HOST: engine.host };
    const bin = dockBundle();
    const tools = {
      'dock compose': (args: string[]) => [process.execPath, bin, 'compose', '-p', 'bdock', ...args],
      'docker-compose': (args: string[]) => ['docker-compose', '-p', 'bv1', ...args],
    };
    const samples: Record<string, Sample> = {};
    const time = (name: string, argv: string[], record: boolean) => {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(argv[0]!, argv.slice(1), { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'] });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr}`);
      if (record) (samples[name] ??= { name, runs: [] }).runs.push(ms);
    };
    for (let i = 0; i < N + 1; i++) {
      for (const [tool, argv] of Object.entries(tools)) {
        time(`${tool} up -d`, argv(['up', '-d']), i > 0);
        time(`${tool} down`, argv(['down', '-v', '-t', '1']), i > 0);
      }
    }
    for (const op of ['up -d', 'down']) report(`compose ${op} (5 services, ${KIND})`, samples[`dock compose ${op}`]!, samples[`docker-compose ${op}`]);
  } finally {
    await engine.stop();
    netns.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
