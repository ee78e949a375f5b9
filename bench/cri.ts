// CRI benchmark: critest's benchmark mode (pod and container lifecycle latency) against one
// private containerd 1.6 with its CRI plugin (test/cri's fixture), with the keel and runc runtime
// handlers in one run, rounds interleaved so that machine load hits both alike. Prints the median
// of each operation and keel's ratio, and the median over rounds of each round's ratio (a paired
// comparison: a busy spell of the host moves both handlers of a round). Measures, asserts nothing.
// critest is Kubernetes' own tool (kubernetes-sigs/cri-tools v1.26.1), built outside this
// repository and never vendored: CRITEST=/path/to/critest node --import tsx bench/cri.ts
// BENCH_ROUNDS (default 3) rounds of BENCH_CYCLES (default 20) pods and containers per handler.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CriEnv, HANDLERS, IMAGE, type Handler } from '../test/cri/cri-fixture';
import { median } from './lib';

const CRITEST = process.env.CRITEST ?? '';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CYCLES = Number(process.env.BENCH_CYCLES ?? 20);

type ResultsSet = { operationsNames: string[]; datapoints: { operationsDurationsNs: number[] }[] };

async function main(): Promise<void> {
  if (!CRITEST || !fs.existsSync(CRITEST)) throw new Error('set CRITEST to a critest binary (cri-tools v1.26.1, built outside this repository)');
  const env = new CriEnv();
  await env.start();
  const samples = new Map<string, number[]>(); // `${handler} ${operation}` -> ms
  const perRound = new Map<string, number[]>(); // `${operation}` -> keel ÷ runc of each round's medians
  try {
    const params = path.join(env.dir, 'bench-params.yaml');
    fs.writeFileSync(params, `containersNumber: ${CYCLES}\ncontainersNumberParallel: 1\npodsNumber: ${CYCLES}\npodsNumberParallel: 1\n`);
    const images = path.join(env.dir, 'bench-images.yaml');
    fs.writeFileSync(images, `defaultTestContainerImage: ${IMAGE}\nwebServerTestImage: ${IMAGE}\n`);
    for (let round = 0; round < ROUNDS; round++) {
      for (const handler of round % 2 === 0 ? HANDLERS : [...HANDLERS].reverse()) {
        const out = path.join(env.dir, `bench-${handler}-${round}`);
        fs.mkdirSync(out);
        const r = spawnSync(
          CRITEST,
          [
            '-benchmark',
            '-runtime-endpoint', `unix://${env.containerd.sock}`,
            '-image-endpoint', `unix://${env.containerd.sock}`,
            '-runtime-handler', handler,
            '-benchmarking-params-file', params,
            '-test-images-file', images,
            '-benchmarking-output-dir', out,
            '-ginkgo.focus', 'lifecycle of PodSandbox|basic operations on Container',
            '-ginkgo.no-color',
          ],
          { encoding: 'utf8', timeout: 600_000 },
        );
        if (r.status !== 0) throw new Error(`critest -benchmark (${handler}) exited ${r.status}:\n${(r.stdout + r.stderr).slice(-3000)}`);
        for (const f of fs.readdirSync(out)) collect(samples, handler, JSON.parse(fs.readFileSync(path.join(out, f), 'utf8')) as ResultsSet);
        process.stderr.write(`round ${round + 1}/${ROUNDS} ${handler} done\n`);
      }
      const round1 = new Map<string, number[]>();
      for (const handler of HANDLERS) {
        for (const f of fs.readdirSync(path.join(env.dir, `bench-${handler}-${round}`)))
          collect(round1, handler, JSON.parse(fs.readFileSync(path.join(env.dir, `bench-${handler}-${round}`, f), 'utf8')) as ResultsSet);
      }
      for (const k of round1.keys()) {
        if (!k.startsWith('keel ')) continue;
        const op = k.slice(5);
        const r = median(round1.get(`runc ${op}`) ?? []);
        if (r > 0) perRound.set(op, [...(perRound.get(op) ?? []), median(round1.get(k)!) / r]);
      }
    }
  } finally {
    await env.stop();
  }
  print(samples, perRound);
}

function collect(samples: Map<string, number[]>, handler: Handler, set: ResultsSet): void {
  for (const d of set.datapoints) {
    set.operationsNames.forEach((op, i) => {
      const k = `${handler} ${op}`;
      const v = d.operationsDurationsNs[i];
      if (v !== undefined) samples.set(k, [...(samples.get(k) ?? []), v / 1e6]);
    });
  }
}

function print(samples: Map<string, number[]>, perRound: Map<string, number[]>): void {
  const ops = [...new Set([...samples.keys()].map((k) => k.slice(k.indexOf(' ') + 1)))];
  const rows = [['operation', 'keel (ms)', 'runc (ms)', 'keel ÷ runc', 'median of round ratios', 'rounds keel ahead', 'n']];
  for (const op of ops) {
    const k = median(samples.get(`keel ${op}`) ?? []);
    const r = median(samples.get(`runc ${op}`) ?? []);
    const pr = perRound.get(op) ?? [];
    rows.push([op, k.toFixed(1), r.toFixed(1), (k / r).toFixed(2), pr.length ? median(pr).toFixed(2) : '-', `${pr.filter((x) => x < 1).length}/${pr.length}`, String(samples.get(`keel ${op}`)?.length ?? 0)]);
  }
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(w[i]!)).join('  '));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
