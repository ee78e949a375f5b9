// Benchmark harness: time whole commands over repeated runs, take medians, print ratios against a
// peer (runc, the runc shim, skopeo...). Measures; asserts nothing.
import { spawnSync } from 'node:child_process';

export type Sample = { name: string; runs: number[] };

/** Median of a list of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Times `argv` n times (after `warmup` untimed runs) and returns wall-clock milliseconds. A
 * command's exit status is ignored unless expectOk is set (some benchmarks time failures on
 * purpose, like `state nosuchid`).
 */
export function timeCommand(argv: readonly string[], n: number, opts: { warmup?: number; expectOk?: boolean; setup?: () => void; teardown?: () => void } = {}): number[] {
  const out: number[] = [];
  for (let i = 0; i < (opts.warmup ?? 2) + n; i++) {
    opts.setup?.();
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    opts.teardown?.();
    if (opts.expectOk && r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
    if (i >= (opts.warmup ?? 2)) out.push(ms);
  }
  return out;
}

/** Times a function n times (for multi-command sequences). */
export function timeFn(fn: () => void, n: number, warmup = 1): number[] {
  const out: number[] = [];
  for (let i = 0; i < warmup + n; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i >= warmup) out.push(ms);
  }
  return out;
}

/** Prints one comparison line: both medians and ours/theirs. */
export function report(title: string, ours: Sample, theirs: Sample | undefined): void {
  const a = median(ours.runs);
  if (!theirs) {
    process.stdout.write(`${title.padEnd(44)} ${ours.name} ${a.toFixed(1)} ms (median of ${ours.runs.length}); no peer to compare\n`);
    return;
  }
  const b = median(theirs.runs);
  process.stdout.write(
    `${title.padEnd(44)} ${ours.name} ${a.toFixed(1)} ms  ${theirs.name} ${b.toFixed(1)} ms  ratio ${ours.name}/${theirs.name} ${(a / b).toFixed(2)}x  (median of ${ours.runs.length})\n`,
  );
}
