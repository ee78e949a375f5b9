// Builds the static conformance probe (conformance/probe/probe.c) into a cache dir on first use,
// keyed by the source's hash, and parses its `report` output. Never commits or ships the binary.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const source = path.join(__dirname, '..', 'probe', 'probe.c');

/** Path of the built probe; compiles it with `gcc -static -O2` when the cached copy is missing. */
export function probeBinary(): string {
  const src = fs.readFileSync(source);
  const hash = createHash('sha256').update(src).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), 'keel-conformance-cache');
  const bin = path.join(dir, `probe-${hash}`);
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = spawnSync('gcc', ['-static', '-O2', '-Wall', '-o', tmp, source], { encoding: 'utf8' });
  if (r.error) throw new Error(`gcc: ${r.error.message} (apt-get install gcc libc6-dev)`);
  if (r.status !== 0) throw new Error(`gcc -static probe.c failed:\n${r.stderr}`);
  fs.renameSync(tmp, bin); // atomic: a concurrent builder never sees a half-written binary
  return bin;
}

/** What `probe report` prints, parsed. */
export interface ProbeReport {
  pid: number;
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  groups: number[];
  umask: number;
  cwd: string;
  hostname: string;
  domainname: string;
  /** isatty(0), isatty(1), isatty(2). */
  isatty: [number, number, number];
  noNewPrivs: number;
  env: string[];
  /** [soft, hard] as decimal strings (RLIM_INFINITY is 18446744073709551615). */
  rlimits: Record<string, [string, string]>;
  /** readlink of /proc/self/ns/* ("" when the kernel lacks that namespace). */
  ns: Record<string, string>;
  status: string;
  mountinfo: string;
  uidMap: string;
  gidMap: string;
  setgroups: string;
}

export function parseReport(stdout: string): ProbeReport {
  const line = stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`no probe report in output: ${JSON.stringify(stdout.slice(0, 500))}`);
  return JSON.parse(line) as ProbeReport;
}

/** One /proc/self/status field, e.g. statusField(r, 'CapEff') → "00000000a80425fb". */
export function statusField(r: ProbeReport, name: string): string | undefined {
  const m = new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(r.status);
  return m?.[1]?.trim();
}

export interface MountEntry {
  mountPoint: string;
  /** The directory of the filesystem that is mounted (field 4), e.g. a bind's subtree. */
  root: string;
  /** Per-mount options (field 6), e.g. ["ro","nosuid"]. */
  options: string[];
  fsType: string;
  source: string;
  /** Per-superblock options, e.g. ["size=1024k","mode=750"]. */
  superOptions: string[];
}

/** Parses /proc/self/mountinfo text (proc(5)). */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const [left, right] = line.split(' - ');
    const f = left!.split(' ');
    const g = (right ?? '').split(' ');
    out.push({
      mountPoint: unescape(f[4]!),
      root: unescape(f[3]!),
      options: f[5]!.split(','),
      fsType: g[0]!,
      source: g[1] ?? '',
      superOptions: (g[2] ?? '').split(','),
    });
  }
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The last mount at a mount point (the visible one). */
export function mountAt(entries: MountEntry[], mountPoint: string): MountEntry | undefined {
  return entries.filter((e) => e.mountPoint === mountPoint).pop();
}
