// Driver for the OCI runtime-tools validation suite: runs every validation/*/*.t of an existing
// runtime-tools build against a runtime and counts TAP assertions. It never fetches or builds the
// suite; point RUNTIME_TOOLS_DIR at a built checkout (see README "Conformance").
// Usage: node --import tsx conformance/runtime-tools.ts RUNTIME [test-name ...]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export type TapResult = { test: string; passed: number; failed: number; failures: string[]; skipped: number };

/** Counts "ok"/"not ok" lines of one TAP stream; "# SKIP" counts as skipped. */
export function parseTap(test: string, tap: string): TapResult {
  const r: TapResult = { test, passed: 0, failed: 0, failures: [], skipped: 0 };
  for (const line of tap.split('\n')) {
    const m = /^(not ok|ok)\s+\d+\s*-?\s*(.*)$/.exec(line);
    if (!m) continue;
    if (/#\s*SKIP/i.test(m[2]!)) r.skipped++;
    else if (m[1] === 'ok') r.passed++;
    else {
      r.failed++;
      r.failures.push(m[2]!);
    }
  }
  return r;
}

export function runSuite(dir: string, runtime: string, only: readonly string[] = []): TapResult[] {
  const vdir = path.join(dir, 'validation');
  const tests = fs
    .readdirSync(vdir)
    .filter((t) => fs.existsSync(path.join(vdir, t, `${t}.t`)))
    .filter((t) => only.length === 0 || only.includes(t))
    .sort();
  const results: TapResult[] = [];
  for (const t of tests) {
    const res = spawnSync(path.join(vdir, t, `${t}.t`), [], {
      cwd: dir,
      env: { ...process.env, RUNTIME: runtime },
      encoding: 'utf8',
      timeout: 120_000,
    });
    const r = parseTap(t, `${res.stdout}`);
    if (r.passed + r.failed === 0 && res.status === 0) {
      // Some validations (the hook ones, the *_fail ones) print no TAP and report by exit status.
      r.passed = 1;
    } else if (r.passed + r.failed === 0) {
      r.failed = 1;
      r.failures.push(`no TAP output (exit ${res.status}${res.signal ? `, ${res.signal}` : ''}): ${String(res.stderr).trim().split('\n').slice(-1)[0] ?? ''}`);
    }
    results.push(r);
  }
  return results;
}

if (require.main === module) {
  const dir = process.env.RUNTIME_TOOLS_DIR;
  const [runtime, ...only] = process.argv.slice(2);
  if (!dir || !runtime) {
    process.stderr.write('usage: RUNTIME_TOOLS_DIR=/path/to/built/runtime-tools node --import tsx conformance/runtime-tools.ts RUNTIME [test ...]\n');
    process.exit(2);
  }
  const results = runSuite(dir, runtime, only);
  let p = 0;
  let f = 0;
  for (const r of results) {
    p += r.passed;
    f += r.failed;
    for (const msg of r.failures) process.stdout.write(`FAIL ${r.test}: ${msg}\n`);
  }
  process.stdout.write(`${runtime}: ${p} of ${p + f} assertions passed in ${results.length} tests\n`);
}
