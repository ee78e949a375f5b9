// `docker commit` of a container with 10,000 changed files: dock against dockerd 20.10 (each with
// private roots, through the docker CLI) and podman (private storage), interleaved, medians.
// Run: make && node --import tsx bench/commit.ts [--runs N] [--files N]
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { busyboxTar, BUSYBOX_CHANGES } from '../test/engine/lib/busybox';
import { docker } from '../test/engine/lib/docker-cli';
import type { Engine } from '../test/engine/lib/engine';
import { importBusybox, startEngine } from '../test/engine/lib/engines';

const argv = process.argv.slice(2);
const RUNS = Number(argv[argv.indexOf('--runs') + 1] || 7) || 7;
const FILES = Number(argv[argv.indexOf('--files') + 1] || 10_000) || 10_000;
const MAKE = `mkdir -p /data && cd /data && i=0; while [ $i -lt ${FILES} ]; do echo "file $i" > f$i; i=$((i+1)); done`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function timeSync(argv0: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(argv0, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${argv0} ${args.join(' ')}: ${r.stderr}`);
  return ms;
}

async function prepareEngine(e: Engine): Promise<void> {
  await importBusybox(e);
  const r = await docker(e, ['run', '-d', '--name', 'bench', '--network', 'none', 'busybox', 'sh', '-c', `${MAKE}; touch /ready; sleep 100000`]);
  if (r.code !== 0) throw new Error(r.stderr);
  for (;;) {
    if ((await docker(e, ['exec', 'bench', 'test', '-f', '/ready'])).code === 0) break;
    await new Promise((res) => setTimeout(res, 200));
  }
}

async function main(): Promise<void> {
  const dock = await startEngine('dock');
  const dockerd = await startEngine('dockerd');
  const pod = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-podman-'));
  const podman = ['--root', path.join(pod, 'root'), '--runroot', path.join(pod, 'run'), '--storage-driver', 'overlay', '--cgroup-manager', 'cgroupfs', '--events-backend', 'none', '--runtime', 'runc'];
  try {
    await prepareEngine(dock);
    await prepareEngine(dockerd);
    execFileSync('podman', [...podman, 'import', ...BUSYBOX_CHANGES.flatMap((c) => ['-c', c]), busyboxTar(), 'busybox'], { stdio: 'ignore' });
    execFileSync('podman', [...podman, 'run', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--name', 'bench', '--network', 'none', 'busybox', 'sh', '-c', MAKE], { stdio: 'ignore' });
    const runs: Record<string, number[]> = { dock: [], dockerd: [], podman: [] };
    const env = (e: Engine) => ({ DOCKER_HOST: e.host, DOCKER_CONFIG: e.configDir });
    for (let i = 0; i < RUNS + 1; i++) {
      const d = timeSync('docker', ['commit', 'bench', `bench:${i}`], env(dock));
      const r = timeSync('docker', ['commit', 'bench', `bench:${i}`], env(dockerd));
      const p = timeSync('podman', [...podman, 'commit', '-q', 'bench', `bench:${i}`]);
      if (i === 0) continue; // warm-up
      runs.dock!.push(d);
      runs.dockerd!.push(r);
      runs.podman!.push(p);
    }
    console.log(`docker commit of a container with ${FILES} new files, median of ${RUNS} (ms):`);
    for (const [k, v] of Object.entries(runs)) console.log(`  ${k.padEnd(8)} ${median(v).toFixed(0).padStart(6)}`);
    const best = Math.min(median(runs.dockerd!), median(runs.podman!));
    console.log(`  dock / best peer: ${(median(runs.dock!) / best).toFixed(2)}`);
  } finally {
    await dock.stop();
    await dockerd.stop();
    spawnSync('podman', [...podman, 'rm', '-f', 'bench'], { stdio: 'ignore' });
    spawnSync('sh', ['-c', `umount -R ${pod}/root/overlay 2>/dev/null; true`]);
    fs.rmSync(pod, { recursive: true, force: true });
  }
}

void main();
