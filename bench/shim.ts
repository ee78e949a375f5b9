// containerd shim benchmark: `ctr run --rm busybox true` latency and 100 sequential containers,
// keel's shim (in-process runtime) against containerd's runc shim with runc, plus shim RSS per
// running container at 1, 10 and 50 containers. A private containerd; measures, asserts nothing.
// Usage: node --import tsx bench/shim.ts [latency] [sequential] [cold] [rss]   (default: all)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Containerd, IMAGE, NS, buildBusyboxImage, ensureContainerd, pidsMatching, unmountUnder } from '../test/shim/containerd-fixture';
import { median, report, timeCommand, timeFn } from './lib';

const N = Number(process.env.BENCH_RUNS ?? 15);
const SEQ = Number(process.env.BENCH_SEQ ?? 100);
const RSS_COUNTS = (process.env.BENCH_RSS ?? '1,10,50').split(',').map(Number);
const KEEL = 'io.containerd.keel.v2';
const RUNC = 'io.containerd.runc.v2';

let seq = 0;
const nextId = (p: string) => `${p}-${process.pid}-${seq++}`;

function ctrArgv(c: Containerd, args: string[]): string[] {
  return ['/usr/bin/ctr', '-a', c.sock, '-n', NS, ...args];
}

function ctrSync(c: Containerd, args: string[]): void {
  const r = spawnSync(ctrArgv(c, args)[0]!, ctrArgv(c, args).slice(1), { stdio: 'ignore', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`ctr ${args.join(' ')} exited ${r.status}`);
}

/** One `ctr run --rm IMAGE <fresh id> true`, in ms. */
function runRmOnce(c: Containerd, runtime: string): number {
  return timeCommand(ctrArgv(c, ['run', '--rm', '--runtime', runtime, IMAGE, nextId('lat'), 'true']), 1, { warmup: 0, expectOk: true })[0]!;
}

/**
 * Latency samples of both runtimes, interleaved run by run so that load from other processes on
 * the machine hits both alike; two untimed warm-up runs each.
 */
function interleaved(c: Containerd, n: number): { keel: number[]; runc: number[] } {
  const out = { keel: [] as number[], runc: [] as number[] };
  for (let i = 0; i < n + 2; i++) {
    const k = runRmOnce(c, KEEL);
    const r = runRmOnce(c, RUNC);
    if (i >= 2) {
      out.keel.push(k);
      out.runc.push(r);
    }
  }
  return out;
}

/** A /proc/<pid>/status field in kB (VmRSS, or RssAnon: private anonymous memory, no shared text). */
function statusKb(pid: number, field: 'VmRSS' | 'RssAnon'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+)`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Total RSS (MB) of the shim processes serving this containerd. */
function shimRssMb(c: Containerd, binary: string): { mb: number; anonMb: number; procs: number } {
  const pids = pidsMatching(c.sock).filter((p) => {
    try {
      return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(binary);
    } catch {
      return false;
    }
  });
  const sum = (f: 'VmRSS' | 'RssAnon') => pids.reduce((a, p) => a + statusKb(p, f), 0) / 1024;
  return { mb: sum('VmRSS'), anonMb: sum('RssAnon'), procs: pids.length };
}

function rss(c: Containerd, runtime: string, binary: string, count: number): { perContainer: number; total: number; anonPer: number; procs: number } {
  const ids: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const id = nextId('rss');
      ids.push(id);
      ctrSync(c, ['run', '-d', '--runtime', runtime, IMAGE, id, 'sleep', '100000']);
    }
    spawnSync('sleep', ['1']);
    const { mb, anonMb, procs } = shimRssMb(c, binary);
    return { perContainer: mb / count, total: mb, anonPer: anonMb / count, procs };
  } finally {
    for (const id of ids) spawnSync(ctrArgv(c, [])[0]!, ctrArgv(c, ['task', 'kill', '-s', 'SIGKILL', id]).slice(1), { stdio: 'ignore' });
    spawnSync('sleep', ['0.5']);
    for (const id of ids) {
      spawnSync(ctrArgv(c, [])[0]!, ctrArgv(c, ['task', 'delete', '-f', id]).slice(1), { stdio: 'ignore' });
      spawnSync(ctrArgv(c, [])[0]!, ctrArgv(c, ['container', 'delete', id]).slice(1), { stdio: 'ignore' });
    }
  }
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const want = (s: string) => wanted.length === 0 || wanted.includes(s);
  if (!ensureContainerd()) throw new Error('containerd is not installed');
  const dir = fs.mkdtempSync('/tmp/keel-shim-bench-');
  // Info level, as containerd runs by default: with debug it passes -debug to every shim.
  const c = new Containerd(dir, { KEEL_SHIM_ROOT: path.join(dir, 'rt'), KEEL_SHIM_SOCKET_DIR: path.join(dir, 's') }, 'info');
  try {
    await c.start();
    await c.importImage(buildBusyboxImage(dir));
    process.stdout.write(`containerd 1.6 (private, ${dir}); keel shim: in-process runtime, one daemon per namespace\n`);
    if (want('latency')) {
      const { keel, runc } = interleaved(c, N);
      const ours = { name: 'keel-shim', runs: keel };
      const theirs = { name: 'runc-shim', runs: runc };
      report('ctr run --rm busybox true', ours, theirs);
      process.stdout.write(`  speed-up runc-shim/keel-shim: ${(median(theirs.runs) / median(ours.runs)).toFixed(2)}x\n`);
    }
    if (want('sequential')) {
      // SEQ containers per runtime, in alternating blocks of 10 (same reason as above).
      let keel = 0;
      let runc = 0;
      for (let done = 0; done < SEQ; done += 10) {
        const block = Math.min(10, SEQ - done);
        keel += timeFn(() => {
          for (let i = 0; i < block; i++) ctrSync(c, ['run', '--rm', '--runtime', KEEL, IMAGE, nextId('seq'), 'true']);
        }, 1, 0)[0]!;
        runc += timeFn(() => {
          for (let i = 0; i < block; i++) ctrSync(c, ['run', '--rm', '--runtime', RUNC, IMAGE, nextId('seq'), 'true']);
        }, 1, 0)[0]!;
      }
      report(`${SEQ} sequential ctr run --rm (total)`, { name: 'keel-shim', runs: [keel] }, { name: 'runc-shim', runs: [runc] });
      process.stdout.write(`  speed-up runc-shim/keel-shim: ${(runc / keel).toFixed(2)}x\n`);
    }
    if (want('cold')) {
      // Every keel container pays a Node start for `start` and another for the daemon when no
      // daemon lingers (KEEL_SHIM_IDLE_MS=0): the first container of a namespace.
      const cdir = fs.mkdtempSync('/tmp/keel-shim-bench-cold-');
      const cold = new Containerd(cdir, { KEEL_SHIM_ROOT: path.join(cdir, 'rt'), KEEL_SHIM_SOCKET_DIR: path.join(cdir, 's'), KEEL_SHIM_IDLE_MS: '0' }, 'info');
      try {
        await cold.start();
        await cold.importImage(buildBusyboxImage(cdir));
        const { keel, runc } = interleaved(cold, Math.min(N, 11));
        report('cold daemon: ctr run --rm busybox true', { name: 'keel-shim', runs: keel }, { name: 'runc-shim', runs: runc });
      } finally {
        await cold.stop();
        for (const pid of pidsMatching(cdir)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
        unmountUnder(cdir);
        fs.rmSync(cdir, { recursive: true, force: true });
      }
    }
    if (want('rss')) {
      for (const n of RSS_COUNTS) {
        const k = rss(c, KEEL, 'containerd-shim-keel-v2', n);
        const r = rss(c, RUNC, 'containerd-shim-runc-v2', n);
        process.stdout.write(
          `shim RSS with ${String(n).padStart(2)} running:  keel ${k.total.toFixed(1)} MB in ${k.procs} process(es) = ${k.perContainer.toFixed(2)} MB/container (anon ${k.anonPer.toFixed(2)})` +
            `   runc ${r.total.toFixed(1)} MB in ${r.procs} process(es) = ${r.perContainer.toFixed(2)} MB/container (anon ${r.anonPer.toFixed(2)})` +
            `   runc/keel ${(r.perContainer / k.perContainer).toFixed(2)}x\n`,
        );
      }
    }
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

main().catch((e: unknown) => {
  process.stderr.write(`bench/shim: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
