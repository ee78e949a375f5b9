// `make bench`: every benchmark of keel against its peers on this machine, in one run.
// Usage: node --import tsx bench/run.ts [startup ...]   (default: all suites)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanupTemplate, makeBundle } from '../test/helpers/bundle';
import { which } from '../test/helpers/keel';
import { median, report, timeCommand, timeFn } from './lib';
import { spawnSync } from 'node:child_process';

const repo = path.resolve(__dirname, '..');
const keel = path.join(repo, 'bin', 'keel');
const N = Number(process.env.BENCH_RUNS ?? 21);

const suites: Record<string, () => void> = {
  /** CLI start-up: the cost of one runtime invocation that fails fast (runc state nosuchid). */
  startup() {
    const runc = which('runc');
    const root = `/tmp/keel-bench-root-${process.pid}`;
    const ours = { name: 'keel', runs: timeCommand([keel, '--root', root, 'state', 'nosuchid'], N) };
    const theirs = runc ? { name: 'runc', runs: timeCommand([runc, '--root', root, 'state', 'nosuchid'], N) } : undefined;
    report('CLI start-up (state nosuchid)', ours, theirs);
    const node = { name: 'node', runs: timeCommand([process.execPath, '-e', '0'], N) };
    report('  floor: node -e 0', node, theirs);
  },
  /** `run` of /bin/true (create + start + wait + delete in one invocation), and the three-call cycle. */
  run() {
    const runc = which('runc');
    const work = fs.mkdtempSync('/tmp/keel-bench-run-');
    try {
      const bundle = makeBundle(path.join(work, 'bundle'), (s) => {
        s.process!.args = ['/bin/true'];
      });
      let n = 0;
      const root = (rt: string) => path.join(work, `root-${rt}`);
      const runOnce = (bin: string, rt: string) => [bin, '--root', root(rt), 'run', '--bundle', bundle, `b${++n}`];
      const ours = { name: 'keel', runs: [] as number[] };
      const theirs = { name: 'runc', runs: [] as number[] };
      // Interleave the two runtimes so machine load hits both alike.
      for (let i = 0; i < N; i++) {
        ours.runs.push(...timeCommand(runOnce(keel, 'keel'), 1, { warmup: i === 0 ? 2 : 0, expectOk: true }));
        if (runc) theirs.runs.push(...timeCommand(runOnce(runc, 'runc'), 1, { warmup: i === 0 ? 2 : 0, expectOk: true }));
      }
      report('run /bin/true (one invocation)', ours, runc ? theirs : undefined);
      const cycle = (bin: string, rt: string) => () => {
        const id = `c${++n}`;
        for (const args of [['create', '--bundle', bundle, id], ['start', id], ['delete', '--force', id]]) {
          const errFile = path.join(work, 'cycle.err');
          const fd = fs.openSync(errFile, 'w');
          const r = spawnSync(bin, ['--root', root(rt), ...args], { stdio: ['ignore', 'ignore', fd] });
          fs.closeSync(fd);
          if (r.status !== 0) throw new Error(`${rt} ${args.join(' ')} failed: ${fs.readFileSync(errFile, 'utf8')}`);
        }
      };
      report('create + start + delete (three invocations)', { name: 'keel', runs: timeFn(cycle(keel, 'keel'), N) }, runc ? { name: 'runc', runs: timeFn(cycle(runc, 'runc'), N) } : undefined);
      breakdown(bundle, root('keel'));
    } finally {
      cleanupTemplate();
      fs.rmSync(work, { recursive: true, force: true });
    }
  },
  /** dock networking: attach cost, published-port paths against the raw veth and docker-proxy, DNS (bench/network.ts). */
  network() {
    spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'network.ts')], { stdio: 'inherit' });
  },
};

/** Where the time of one `keel run` goes, from its own --debug timeline (median of 7 runs). */
function breakdown(bundle: string, root: string): void {
  const phases = new Map<string, number[]>();
  for (let i = 0; i < 7; i++) {
    // tmpfs: the log is opened O_SYNC (as runc's), which on a disk would dominate the timeline.
    const log = `/dev/shm/keel-bench-debug-${process.pid}-${i}.json`;
    const t0 = Date.now();
    spawnSync(keel, ['--root', root, '--debug', '--log', log, '--log-format', 'json', 'run', '--bundle', bundle, `bd${i}`], { stdio: 'ignore' });
    const t1 = Date.now();
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { time: string; msg: string; stage?: string });
    const at = (msg: string) => Date.parse(lines.find((l) => l.msg === msg && !l.stage)?.time ?? '');
    const marks: [string, number][] = [
      ['node start-up, CLI load, bundle validation', at('bundle loaded') - t0],
      ['cgroup create and set', at('cgroup ready') - at('bundle loaded')],
      ['clone to init ready (namespaces, mounts, pivot, exec check)', at('container created') - at('cgroup ready')],
      ['start and /bin/true', at('container exited') - at('container created')],
      ['delete (cgroup removal, state)', at('cgroup removed') - at('container exited')],
      ['process exit', t1 - at('cgroup removed')],
    ];
    for (const [k, v] of marks) phases.set(k, [...(phases.get(k) ?? []), v]);
    fs.rmSync(log, { force: true });
  }
  for (const [k, v] of phases) process.stdout.write(`    ${k.padEnd(60)} ${median(v).toFixed(0)} ms\n`);
}

const wanted = process.argv.slice(2);
for (const [name, fn] of Object.entries(suites)) {
  if (wanted.length === 0 || wanted.includes(name)) fn();
}
