// dock's engine against its peers on this machine, in one run, interleaved, medians and ratios:
// `run --rm --network none busybox true` (docker CLI → dock, dock CLI → dock, docker CLI →
// dockerd 20.10, podman), `run -d` then `exec true`, `ps -a` with 100 containers, `logs` of
// 10,000 lines, and the engine's memory (PSS of daemon + shims) with 0, 10 and 100 sleeping
// containers. Usage: node --import tsx bench/engine.ts [run exec ps logs memory]
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { busyboxTar, BUSYBOX_CHANGES } from '../test/engine/lib/busybox';
import { DOCKER_CLI } from '../test/engine/lib/docker-cli';
import { DOCK_BIN, startDock } from '../test/engine/lib/dock';
import { startDockerd } from '../test/engine/lib/dockerd';
import type { Engine } from '../test/engine/lib/engine';
import { median } from './lib';

const N = Number(process.env.BENCH_RUNS ?? 15);

type Runner = { name: string; argv: (args: string[]) => string[]; env: NodeJS.ProcessEnv };

function dockerOn(e: Engine, name: string): Runner {
  return { name, argv: (a) => [DOCKER_CLI, ...a], env: { ...process.env, DOCKER_HOST: e.host, DOCKER_CONFIG: e.configDir } };
}

function dockCliOn(e: Engine): Runner {
  return { name: 'dock CLI → dock', argv: (a) => [process.execPath, DOCK_BIN, ...a], env: { ...process.env, DOCKER_HOST: e.host, DOCKER_CONFIG: e.configDir } };
}

/** podman with private storage; runc and explicit ulimits (crun refuses this hybrid cgroup host; the default ulimits exceed the hard limits here). */
function podmanRunner(root: string): Runner {
  const base = ['podman', '--root', path.join(root, 'root'), '--runroot', path.join(root, 'run'), '--storage-driver', 'overlay', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--runtime', 'runc'];
  return {
    name: 'podman',
    argv: (a) => (a[0] === 'run' ? [...base, 'run', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', ...a.slice(1)] : [...base, ...a]),
    env: process.env,
  };
}

function run(r: Runner, args: string[], expectOk = true): { ms: number; out: string } {
  const argv = r.argv(args);
  const t0 = process.hrtime.bigint();
  const p = spawnSync(argv[0]!, argv.slice(1), { env: r.env, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (expectOk && p.status !== 0) throw new Error(`${r.name}: ${args.join(' ')} exited ${p.status}: ${p.stderr}`);
  return { ms, out: p.stdout };
}

function line(title: string, samples: { name: string; runs: number[] }[], base?: string): void {
  const ref = base ? median(samples.find((s) => s.name === base)?.runs ?? [NaN]) : NaN;
  const cols = samples.map((s) => {
    const m = median(s.runs);
    return `${s.name} ${m.toFixed(0)} ms${base && s.name !== base ? ` (${(m / ref).toFixed(2)}x)` : ''}`;
  });
  process.stdout.write(`${title.padEnd(34)} ${cols.join('  ')}\n`);
}

/** The 1, 5 and 15 minute load averages (the machine is shared: figures mean little without them). */
function loadavg(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(' ');
}

/** Proportional set size (kB) of the processes whose cmdline contains any of the needles. */
function pss(needles: string[]): number {
  let total = 0;
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (!needles.some((n) => cmd.includes(n))) continue;
      const m = /^Pss:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'));
      total += m ? Number(m[1]) : 0;
    } catch {
      /* gone */
    }
  }
  return total;
}

async function main(): Promise<void> {
  const want = new Set(process.argv.slice(2).length ? process.argv.slice(2) : ['run', 'exec', 'ps', 'logs', 'memory']);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-engine-'));
  const dock = await startDock();
  const ref = await startDockerd();
  const podRoot = path.join(work, 'podman');
  try {
    const dockD = dockerOn(dock, 'docker CLI → dock');
    const dockC = dockCliOn(dock);
    const refD = dockerOn(ref, 'docker CLI → dockerd');
    const pod = podmanRunner(podRoot);
    for (const r of [dockD, refD]) run(r, ['import', ...BUSYBOX_CHANGES.flatMap((c) => ['-c', c]), busyboxTar(), 'busybox:latest']);
    execFileSync(pod.argv(['import', '-c', 'ENV PATH=/bin', busyboxTar(), 'localhost/busybox:latest'])[0]!, pod.argv(['import', '-c', 'ENV PATH=/bin', busyboxTar(), 'localhost/busybox:latest']).slice(1), { stdio: 'ignore' });
    const img = (r: Runner) => (r === pod ? 'localhost/busybox' : 'busybox');
    process.stdout.write(`dock engine benchmarks, ${N} interleaved runs each, medians (ratio to docker CLI → dockerd); load ${loadavg()}\n`);

    if (want.has('run')) {
      const rs = [dockD, dockC, refD, pod];
      const s = rs.map((r) => ({ name: r.name, runs: [] as number[] }));
      for (const r of rs) run(r, ['run', '--rm', '--network', 'none', img(r), 'true']);
      for (let i = 0; i < N; i++) rs.forEach((r, j) => s[j]!.runs.push(run(r, ['run', '--rm', '--network', 'none', img(r), 'true']).ms));
      line('run --rm --network none true', s, refD.name);
    }

    if (want.has('exec')) {
      const rs = [dockD, dockC, refD, pod];
      const ids = rs.map((r) => run(r, ['run', '-d', '--network', 'none', img(r), 'sleep', '3600']).out.trim());
      const s = rs.map((r) => ({ name: r.name, runs: [] as number[] }));
      for (let i = 0; i < N; i++) rs.forEach((r, j) => s[j]!.runs.push(run(r, ['exec', ids[j]!, 'true']).ms));
      line('exec true (running container)', s, refD.name);
      rs.forEach((r, j) => run(r, ['rm', '-f', ids[j]!]));
    }

    if (want.has('ps')) {
      const rs = [dockD, refD];
      for (const r of rs) for (let i = 0; i < 100; i++) run(r, ['create', '--network', 'none', '--label', 'bench=ps', 'busybox', 'true']);
      const s = rs.map((r) => ({ name: r.name, runs: [] as number[] }));
      for (let i = 0; i < N; i++) rs.forEach((r, j) => s[j]!.runs.push(run(r, ['ps', '-a']).ms));
      line('ps -a with 100 containers', s, refD.name);
      for (const r of rs) {
        const ids = run(r, ['ps', '-aq', '--filter', 'label=bench=ps']).out.trim().split('\n').filter(Boolean);
        for (let i = 0; i < ids.length; i += 50) run(r, ['rm', ...ids.slice(i, i + 50)]);
      }
    }

    if (want.has('logs')) {
      const rs = [dockD, refD];
      const ids = rs.map((r) => run(r, ['run', '-d', '--network', 'none', 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 10000 ]; do echo "line $i of the benchmark log"; i=$((i+1)); done']).out.trim());
      rs.forEach((r, j) => run(r, ['wait', ids[j]!]));
      const s = rs.map((r) => ({ name: r.name, runs: [] as number[] }));
      for (let i = 0; i < N; i++) rs.forEach((r, j) => s[j]!.runs.push(run(r, ['logs', ids[j]!]).ms));
      line('logs of 10,000 lines', s, refD.name);
      rs.forEach((r, j) => run(r, ['rm', ids[j]!]));
    }

    if (want.has('memory')) {
      const dockNeedles = [`${dock.dataRoot}`, `${dock.execRoot}`];
      const refNeedles = [path.dirname(ref.dataRoot)];
      for (const n of [0, 10, 100]) {
        const made: { r: Runner; id: string }[] = [];
        for (const r of [dockD, refD]) for (let i = 0; i < n; i++) made.push({ r, id: run(r, ['run', '-d', '--network', 'none', 'busybox', 'sleep', '3600']).out.trim() });
        await new Promise((res) => setTimeout(res, 2000));
        const a = pss(dockNeedles) / 1024;
        const b = pss(refNeedles) / 1024;
        process.stdout.write(`${`memory (PSS) with ${n} containers`.padEnd(34)} dock daemon+shim ${a.toFixed(1)} MB  dockerd+containerd+shims ${b.toFixed(1)} MB  ratio ${(a / b).toFixed(2)}x\n`);
        for (const m of made) run(m.r, ['rm', '-f', m.id]);
      }
    }
    process.stdout.write(`load at the end ${loadavg()}\n`);
  } finally {
    await dock.stop();
    await ref.stop();
    spawnSync('podman', ['--root', path.join(podRoot, 'root'), '--runroot', path.join(podRoot, 'run'), '--storage-driver', 'overlay', 'rm', '-af'], { stdio: 'ignore' });
    spawnSync('sh', ['-c', `grep ' ${work}' /proc/self/mountinfo | cut -d' ' -f5 | sort -r | xargs -r -n1 umount -l`], { stdio: 'ignore' });
    fs.rmSync(work, { recursive: true, force: true });
  }
}

void main();
