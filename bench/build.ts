// `docker build` of a small Dockerfile (FROM busybox, ENV, COPY, two RUNs, WORKDIR, CMD) and of a
// multi-stage one (two independent stages, each a COPY or RUN, joined by COPY --from): dock against
// dockerd 20.10's classic builder (both through the docker CLI 28, DOCKER_BUILDKIT=0, private roots,
// no bridge), buildah bud (private vfs storage, --layers) and podman build (private overlay
// storage, --layers), cold (--no-cache) and cached, interleaved, medians. `docker commit` is
// bench/commit.ts. Timings are printed, never asserted.
// Run: make && node --import tsx bench/build.ts [--runs N]
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { busyboxTar, BUSYBOX_CHANGES } from '../test/engine/lib/busybox';
import type { Engine } from '../test/engine/lib/engine';
import { importBusybox, startEngine } from '../test/engine/lib/engines';
import { median } from './lib';

const argv = process.argv.slice(2);
const RUNS = Number(argv[argv.indexOf('--runs') + 1] || 5) || 5;
const DOCKERFILE = `FROM busybox
ENV APP=/app
COPY files/ /app/
RUN cd /app && for i in 1 2 3 4 5 6 7 8 9 10; do cat f* > all.$i; done
WORKDIR /app
RUN echo built > /app/built && ls | wc -l
CMD ["cat", "/app/built"]
`;
const MULTI = `FROM busybox AS files
COPY files/ /files/
RUN cd /files && cat f* > /all
FROM busybox AS made
RUN mkdir /made && cd /made && i=0; while [ $i -lt 200 ]; do echo "made $i" > m$i; i=$((i+1)); done; cat m* > /all
FROM busybox
COPY --from=files /all /files.all
COPY --from=made /all /made.all
CMD ["cat", "/files.all"]
`;

function timeSync(argv0: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(argv0, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${argv0} ${args.join(' ')}: ${r.stderr}`);
  return ms;
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-build-'));
  const ctx = path.join(work, 'ctx');
  fs.mkdirSync(path.join(ctx, 'files'), { recursive: true });
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), DOCKERFILE);
  fs.writeFileSync(path.join(ctx, 'Dockerfile.multi'), MULTI);
  for (let i = 0; i < 200; i++) fs.writeFileSync(path.join(ctx, 'files', `f${i}`), `file ${i}\n`.repeat(50));
  const bah = ['--root', path.join(work, 'bah', 'store'), '--runroot', path.join(work, 'bah', 'run'), '--storage-driver', 'vfs'];
  const pod = ['--root', path.join(work, 'pod', 'root'), '--runroot', path.join(work, 'pod', 'run'), '--storage-driver', 'overlay', '--cgroup-manager', 'cgroupfs', '--events-backend', 'none', '--runtime', 'runc'];
  let dock: Engine | undefined;
  let dockerd: Engine | undefined;
  try {
    dock = await startEngine('dock');
    dockerd = await startEngine('dockerd');
    await importBusybox(dock);
    await importBusybox(dockerd);
    // busybox for buildah: the same rootfs tar added to a scratch container, PATH and CMD as imported.
    const ctr = execFileSync('buildah', [...bah, 'from', 'scratch'], { encoding: 'utf8' }).trim();
    execFileSync('buildah', [...bah, 'add', ctr, busyboxTar(), '/'], { stdio: 'ignore' });
    execFileSync('buildah', [...bah, 'config', '--env', BUSYBOX_CHANGES[0]!.replace(/^ENV /, ''), '--cmd', 'sh', ctr], { stdio: 'ignore' });
    execFileSync('buildah', [...bah, 'commit', '-q', ctr, 'busybox'], { stdio: 'ignore' });
    execFileSync('buildah', [...bah, 'rm', ctr], { stdio: 'ignore' });
    execFileSync('podman', [...pod, 'import', ...BUSYBOX_CHANGES.flatMap((c) => ['-c', c]), busyboxTar(), 'busybox'], { stdio: 'ignore' });
    const env = (e: Engine) => ({ DOCKER_HOST: e.host, DOCKER_CONFIG: e.configDir, DOCKER_BUILDKIT: '0' });
    type Tool = [string, (cold: boolean, file: string) => number];
    const tools: Tool[] = [
      ['dock', (cold, f) => timeSync('docker', ['build', ...(cold ? ['--no-cache'] : []), '-f', path.join(ctx, f), '-t', 'bench:1', ctx], env(dock!))],
      ['dockerd', (cold, f) => timeSync('docker', ['build', ...(cold ? ['--no-cache'] : []), '-f', path.join(ctx, f), '-t', 'bench:1', ctx], env(dockerd!))],
      ['buildah', (cold, f) => timeSync('buildah', [...bah, 'bud', '--layers', ...(cold ? ['--no-cache'] : []), '--network', 'none', '--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '-q', '-f', path.join(ctx, f), '-t', 'bench:1', ctx])],
      ['podman', (cold, f) => timeSync('podman', [...pod, 'build', '--layers', ...(cold ? ['--no-cache'] : []), '--pull=never', '--network', 'none', '-q', '-f', path.join(ctx, f), '-t', 'bench:1', ctx])],
    ];
    for (const [what, file] of [['a 7-step Dockerfile', 'Dockerfile'], ['a multi-stage Dockerfile (two independent stages)', 'Dockerfile.multi']] as const) {
      for (const cold of [true, false]) {
        const runs = new Map<string, number[]>(tools.map(([n]) => [n, []]));
        for (let i = 0; i < RUNS + 1; i++) {
          for (const [n, fn] of tools) {
            const ms = fn(cold, file);
            if (i > 0) runs.get(n)!.push(ms); // the first round warms up (and fills the cache)
          }
        }
        console.log(`docker build of ${what}, ${cold ? 'cold (--no-cache)' : 'cached'}, median of ${RUNS} (ms), load ${os.loadavg()[0]!.toFixed(2)}:`);
        for (const [n, v] of runs) console.log(`  ${n.padEnd(8)} ${median(v).toFixed(0).padStart(6)}`);
        const m = (n: string) => median(runs.get(n)!);
        const best = Math.min(m('dockerd'), m('buildah'), m('podman'));
        console.log(`  dock/dockerd ${(m('dock') / m('dockerd')).toFixed(2)}  dock/buildah ${(m('dock') / m('buildah')).toFixed(2)}  dock/podman ${(m('dock') / m('podman')).toFixed(2)}  dock/best peer ${(m('dock') / best).toFixed(2)}`);
      }
    }
  } finally {
    await dock?.stop();
    await dockerd?.stop();
    spawnSync('buildah', [...bah, 'rm', '--all'], { stdio: 'ignore' });
    spawnSync('podman', [...pod, 'rm', '--all', '--force'], { stdio: 'ignore' });
    spawnSync('sh', ['-c', `umount -R ${work}/pod/root/overlay 2>/dev/null; true`]);
    spawnSync('sh', ['-c', `umount -R ${work}/bah 2>/dev/null; true`]);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

void main();
