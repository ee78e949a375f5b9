// Builds the static in-container attacker (attacker.c) into a cache dir keyed by its source hash,
// and sets up bundles for the security tests. Test support only; never shipped.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { keelBin, type RunResult } from '../../helpers/keel';

const source = path.join(__dirname, 'attacker.c');

/** Path of the built attacker; compiles it with `gcc -static` when the cached copy is missing. */
export function attackerBinary(): string {
  const src = fs.readFileSync(source);
  const hash = createHash('sha256').update(src).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), 'keel-security-cache');
  const bin = path.join(dir, `attacker-${hash}`);
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = spawnSync('gcc', ['-static', '-O2', '-Wall', '-o', tmp, source], { encoding: 'utf8' });
  if (r.error) throw new Error(`gcc: ${r.error.message} (apt-get install gcc libc6-dev)`);
  if (r.status !== 0) throw new Error(`gcc -static attacker.c failed:\n${r.stderr}`);
  fs.renameSync(tmp, bin);
  return bin;
}

/** Copies the attacker into <rootfs>/attacker (mode 0755). */
export function installAttacker(rootfs: string): void {
  fs.copyFileSync(attackerBinary(), path.join(rootfs, 'attacker'));
  fs.chmodSync(path.join(rootfs, 'attacker'), 0o755);
}

/** sha256 of a file (the host binaries whose integrity the CVE-2019-5736 test checks). */
export function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Sleeps synchronously (polling loops in tests; never a timing assertion). */
export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Runs bin/keel with extra open fds at 3, 4, … (what a careless caller might leak into the
 * runtime). Output goes through files, as test/helpers/keel.ts does, since a detached init
 * inherits stdout.
 */
export function keelWithFds(args: readonly string[], extra: readonly number[], timeout = 60_000): RunResult {
  const dir = fs.mkdtempSync('/tmp/keel-run-');
  const out = fs.openSync(path.join(dir, 'out'), 'w+');
  const err = fs.openSync(path.join(dir, 'err'), 'w+');
  try {
    const r = spawnSync(keelBin, args, { timeout, stdio: ['ignore', out, err, ...extra] });
    if (r.error) throw r.error;
    return { code: r.status ?? 128 + 9, stdout: fs.readFileSync(path.join(dir, 'out'), 'utf8'), stderr: fs.readFileSync(path.join(dir, 'err'), 'utf8') };
  } finally {
    fs.closeSync(out);
    fs.closeSync(err);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** True when a CLI's stderr carries a JavaScript stack trace (a crash rather than a clean error). */
export function hasStackTrace(stderr: string): boolean {
  return /\n\s+at .+[:(]/.test(stderr) || /\b(TypeError|ReferenceError|RangeError|SyntaxError): /.test(stderr);
}
