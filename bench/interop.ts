// Benchmark: keel against runc as the runtime under the real managers. `ctr run --rm busybox true`
// through containerd 1.6's runc shim (--runc-binary), and `podman run --rm --network=none busybox
// true` (--runtime), each interleaved runc/keel; prints medians and ratios. Measures; asserts nothing.
// Usage: node --import tsx bench/interop.ts   (BENCH_RUNS=N, default 15; needs root)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Containerd, IMAGE, NS, buildBusyboxImage, ensureContainerd, pidsMatching, unmountUnder } from '../test/shim/containerd-fixture';
import { ensurePodman, PODMAN_IMAGE, podmanEnv, podmanGlobals, writePodmanConfig } from '../test/interop/podman-fixture';
import { which } from '../test/helpers/keel';
import { report, type Sample } from './lib';

const repo = path.resolve(__dirname, '..');
const keel = path.join(repo, 'bin', 'keel');
const N = Number(process.env.BENCH_RUNS ?? 15);

/** Times argv(i) for keel and runc alternately so machine load hits both alike. */
function interleave(argv: (rt: 'keel' | 'runc', i: number) => string[], env?: NodeJS.ProcessEnv): { keel: Sample; runc: Sample } {
  const out = { keel: { name: 'keel', runs: [] as number[] }, runc: { name: 'runc', runs: [] as number[] } };
  const warmup = 2;
  for (let i = 0; i < warmup + N; i++) {
    for (const rt of ['runc', 'keel'] as const) {
      const a = argv(rt, i);
      const t0 = process.hrtime.bigint();
      const r = spawnSync(a[0]!, a.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0) throw new Error(`${a.join(' ')} exited ${r.status}: ${r.stderr}`);
      if (i >= warmup) out[rt].runs.push(ms);
    }
  }
  return out;
}

async function benchContainerd(runc: string): Promise<void> {
  if (!ensureContainerd()) {
    process.stdout.write('containerd: not installed, skipped\n');
    return;
  }
  const dir = fs.mkdtempSync('/tmp/keel-bench-ctrd-');
  const c = new Containerd(dir);
  try {
    await c.start();
    await c.importImage(buildBusyboxImage(dir));
    const bins = { keel, runc };
    const s = interleave((rt, i) => ['/usr/bin/ctr', '-a', c.sock, '-n', NS, 'run', '--rm', '--runc-binary', bins[rt], '--runc-root', path.join(dir, 'rt', rt), IMAGE, `bench-${rt}-${i}`, 'true']);
    report('ctr run --rm busybox true (runc shim)', s.keel, s.runc);
  } finally {
    await c.stop();
    for (const pid of pidsMatching(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    unmountUnder(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function benchPodman(runc: string): void {
  if (!ensurePodman()) {
    process.stdout.write('podman: not installed, skipped\n');
    return;
  }
  const dir = fs.mkdtempSync('/tmp/keel-bench-podman-');
  const env = podmanEnv(dir);
  const podman = (args: string[]) => spawnSync('/usr/bin/podman', [...podmanGlobals(dir), ...args], { env, encoding: 'utf8' });
  try {
    writePodmanConfig(dir);
    buildBusyboxImage(dir);
    const imp = podman(['import', path.join(dir, 'layer.tar'), PODMAN_IMAGE]);
    if (imp.status !== 0) throw new Error(`podman import: ${imp.stderr}`);
    const bins = { keel, runc };
    const s = interleave((rt) => ['/usr/bin/podman', ...podmanGlobals(dir), 'run', '--rm', '--network=none', '--runtime', bins[rt], PODMAN_IMAGE, 'true'], env);
    report('podman run --rm --network=none busybox true', s.keel, s.runc);
  } finally {
    podman(['rm', '-a', '-f']);
    podman(['rmi', '-a', '-f']);
    unmountUnder(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const runc = which('runc');
  if (process.getuid?.() !== 0 || !runc || !fs.existsSync(keel)) {
    process.stdout.write('bench/interop: needs root, runc and bin/keel (make)\n');
    return;
  }
  await benchContainerd(runc);
  benchPodman(runc);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
});
