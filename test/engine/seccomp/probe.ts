// Builds the syscall probe (sysprobe.c) with gcc -static into a cache dir on first use, keyed by the
// source's hash, makes busybox rootfs trees and tars that carry it, and parses its output.
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeBusyboxRootfs } from '../../../conformance/lib/rootfs';

const source = path.join(__dirname, 'sysprobe.c');

/** Path of the built probe (compiled when the cached copy is missing). */
export function sysprobeBinary(): string {
  const src = fs.readFileSync(source);
  const hash = createHash('sha256').update(src).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), 'keel-conformance-cache');
  const bin = path.join(dir, `sysprobe-${hash}`);
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = spawnSync('gcc', ['-static', '-O2', '-Wall', '-o', tmp, source], { encoding: 'utf8' });
  if (r.error) throw new Error(`gcc: ${r.error.message} (apt-get install gcc libc6-dev)`);
  if (r.status !== 0) throw new Error(`gcc -static sysprobe.c failed:\n${r.stderr}`);
  fs.renameSync(tmp, bin); // atomic: a concurrent builder never sees a half-written binary
  return bin;
}

/** Copies the probe to <rootfs>/sysprobe. */
export function installSysprobe(rootfs: string): void {
  fs.copyFileSync(sysprobeBinary(), path.join(rootfs, 'sysprobe'));
  fs.chmodSync(path.join(rootfs, 'sysprobe'), 0o755);
}

/** A tar of a busybox rootfs with /sysprobe, for `docker import`; written under dir. */
export function sysprobeTar(dir: string): string {
  const root = path.join(dir, 'rootfs');
  fs.mkdirSync(root, { recursive: true });
  makeBusyboxRootfs(root);
  installSysprobe(root);
  const tar = path.join(dir, 'sysprobe.tar');
  execFileSync('tar', ['-C', root, '--numeric-owner', '-cf', tar, '.']);
  fs.rmSync(root, { recursive: true, force: true });
  return tar;
}

/** Probe name → "OK", an errno name or "SIG<name>". */
export type ProbeResults = Record<string, string>;

export function parseProbe(stdout: string): ProbeResults {
  const out: ProbeResults = {};
  for (const line of stdout.split('\n')) {
    const m = /^([a-z0-9_]+) (OK|E[A-Z0-9]+|SIG[A-Z0-9]+)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  if (Object.keys(out).length === 0) throw new Error(`no probe output in ${JSON.stringify(stdout.slice(0, 400))}`);
  return out;
}
