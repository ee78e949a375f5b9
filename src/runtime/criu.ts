// CRIU's command line for checkpoint and restore (criu(8) dump, pre-dump, restore), built from
// runc's CriuOpts, and one place that runs it and turns a failure into CRIU's own last error line.
// Pure argv builders plus a synchronous runner; it knows nothing of container state.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errors, RuntimeError } from '../errors/index';

/** runc's checkpoint/restore flags (libcontainer CriuOpts), as the verbs parse them. */
export type CriuOptions = {
  /** --image-path: where the images go (dump) or come from (restore) */
  imagesDir: string;
  /** --work-path: logs and work files (default: the images directory) */
  workDir: string;
  /** --parent-path: previous pre-dump images, relative to imagesDir */
  parentPath?: string;
  leaveRunning?: boolean;
  tcpEstablished?: boolean;
  extUnixSk?: boolean;
  shellJob?: boolean;
  fileLocks?: boolean;
  preDump?: boolean;
  autoDedup?: boolean;
  lazyPages?: boolean;
  /** --status-fd with --lazy-pages */
  statusFd?: number;
  /** --page-server ADDRESS:PORT, split */
  pageServer?: { address: string; port: number };
  /** --manage-cgroups-mode: soft (default), full, strict (ignore is CRIU's too) */
  manageCgroupsMode?: string;
  /** namespaces created empty at restore: runc always adds network (it does not manage devices) */
  emptyNs: string[];
  lsmProfile?: string;
  lsmMountContext?: string;
};

/** What runc asks CRIU to treat as outside the dump: bind sources, an external network namespace. */
export type CriuContainer = {
  /** host pid of the container's init */
  pid: number;
  /** the rootfs as CRIU must see it (a mount point for restore) */
  root: string;
  /** bind mounts of the config: destination inside, source on the host */
  binds: { destination: string; source: string }[];
  /** cgroup v1 freezer directory, frozen by CRIU while it dumps */
  freezer?: string;
  /** the init's network namespace inode when it was joined, not made (runc: extRootNetNS) */
  externalNetNs?: string;
  /** restore: controller → the container's new cgroup, below which CRIU puts the tasks */
  cgroupRoots?: Record<string, string>;
  /** restore: our fds CRIU passes to the restored tasks in place of the dumped pipes (fd → key) */
  inheritFds?: { fd: number; key: string }[];
};

const MODES = new Set(['soft', 'full', 'strict', 'ignore']);

/** Checks the mode the way runc's setManageCgroupsMode does. */
export function checkManageCgroupsMode(mode: string | undefined): void {
  if (mode && !MODES.has(mode)) throw errors.invalid('Invalid manage cgroups mode');
}

/** --page-server ADDRESS:PORT as runc splits it (net.SplitHostPort). */
export function parsePageServer(v: string): { address: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d*)$/.exec(v);
  if (!m || !m[1] || !m[2]) throw errors.invalid('Use --page-server ADDRESS:PORT to specify page server');
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port > 65535) throw errors.invalid('Invalid port number');
  return { address: m[1], port };
}

/** --empty-ns values: runc supports only "network"; the network namespace is always empty. */
export function emptyNamespaces(values: readonly string[]): string[] {
  for (const ns of values) if (ns !== 'network') throw errors.invalid(`namespace ${JSON.stringify(ns)} is not supported`);
  return ['net'];
}

function common(o: CriuOptions, c: CriuContainer, log: string): string[] {
  const a = ['--images-dir', o.imagesDir, '--work-dir', o.workDir, '--log-file', log, '-v4', '--root', c.root];
  a.push(o.manageCgroupsMode ? `--manage-cgroups=${o.manageCgroupsMode}` : '--manage-cgroups');
  if (o.tcpEstablished) a.push('--tcp-established');
  if (o.extUnixSk) a.push('--ext-unix-sk');
  if (o.shellJob) a.push('--shell-job');
  if (o.fileLocks) a.push('--file-locks');
  if (o.autoDedup) a.push('--auto-dedup');
  for (const ns of o.emptyNs) a.push('--empty-ns', ns);
  return a;
}

/** `criu dump` (or `pre-dump`) of a container, with runc's mandatory options. */
export function dumpArgs(o: CriuOptions, c: CriuContainer): string[] {
  const a = [o.preDump ? 'pre-dump' : 'dump', '--tree', String(c.pid), ...common(o, c, 'dump.log')];
  if (o.leaveRunning && !o.preDump) a.push('--leave-running');
  if (o.parentPath) a.push('--prev-images-dir', o.parentPath, '--track-mem');
  if (o.preDump) a.push('--track-mem');
  if (o.lazyPages) a.push('--lazy-pages', ...(o.statusFd !== undefined && o.statusFd >= 0 ? ['--status-fd', String(o.statusFd)] : []));
  if (o.pageServer) a.push('--page-server', '--address', o.pageServer.address, '--port', String(o.pageServer.port));
  if (c.freezer) a.push('--freeze-cgroup', c.freezer);
  // Bind mounts are the host's, not the container's: dumped as external, by destination.
  for (const b of c.binds) a.push('--external', `mnt[${b.destination}]:${b.destination}`);
  if (c.externalNetNs) a.push('--external', `net[${c.externalNetNs}]:extRootNetNS`);
  return a;
}

/** `criu restore` of a container's images, detached, with its pid written to pidFile. */
export function restoreArgs(o: CriuOptions, c: CriuContainer, pidFile: string): string[] {
  const a = ['restore', ...common(o, c, 'restore.log'), '--restore-detached', '--pidfile', pidFile];
  if (o.lazyPages) a.push('--lazy-pages');
  if (o.lsmProfile) a.push('--lsm-profile', o.lsmProfile);
  if (o.lsmMountContext) a.push('--lsm-mount-context', o.lsmMountContext);
  for (const b of c.binds) a.push('--external', `mnt[${b.destination}]:${b.source}`);
  for (const [ctrl, dir] of Object.entries(c.cgroupRoots ?? {})) a.push('--cgroup-root', ctrl ? `${ctrl}:${dir}` : dir);
  for (const f of c.inheritFds ?? []) a.push('--inherit-fd', `fd[${f.fd}]:${f.key}`);
  return a;
}

/** CRIU's own account of a failure: the last "Error (file:line): …" line of its log, if any. */
export function criuError(logText: string): string | undefined {
  const lines = logText.split('\n').filter((l) => /\bError \(/.test(l));
  const last = lines.at(-1);
  if (!last) return undefined;
  return last.replace(/^\(\s*[\d.]+\)\s*/, '').replace(/^Error \([^)]*\):\s*/, '').trim();
}

/** The criu binary: --criu as given when it holds a slash, else looked up in PATH and the sbin dirs. */
export function findCriu(bin: string): string {
  if (bin.includes('/')) return bin;
  for (const dir of [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin']) {
    const p = path.join(dir, bin);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* keep looking */
    }
  }
  throw new RuntimeError('NotFound', `exec: ${JSON.stringify(bin)}: executable file not found in $PATH`);
}

/** CRIU's version as a number (3.17.1 → 31701); runc needs at least 3.0.0 (30000). */
export function criuVersion(bin: string): number {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new RuntimeError('Unavailable', `${bin} --version: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`);
  const m = /Version:\s*(\d+)\.(\d+)(?:\.(\d+))?/.exec(String(r.stdout));
  if (!m) throw new RuntimeError('Unavailable', `unable to parse the CRIU version: ${String(r.stdout).trim() || String(r.stderr).trim()}`);
  const v = Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3] ?? 0);
  if (v < 30000) throw new RuntimeError('FailedPrecondition', `CRIU version ${m[0].replace(/^Version:\s*/, '')} must be 3.0.0 or higher`);
  return v;
}

/**
 * Runs criu with args; on failure throws "criu failed: <CRIU's last error> (log file: <log>)". The
 * log is written by CRIU itself (--log-file, in the work directory). stdio are the runtime's own,
 * except what `stdio` overrides (restore passes the container's).
 */
export function runCriu(bin: string, args: string[], logFile: string, stdio: ('ignore' | 'inherit' | 'pipe')[] = ['ignore', 'ignore', 'pipe']): void {
  const r = spawnSync(bin, args, { stdio, encoding: 'utf8' });
  if (r.error) throw new RuntimeError('Unavailable', `criu failed: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`);
  if (r.status === 0) return;
  let text = '';
  try {
    text = fs.readFileSync(logFile, 'utf8');
  } catch {
    /* no log: criu failed before it opened one (its complaint went to stderr) */
  }
  const stderr = String(r.stderr ?? '').trim().split('\n').find((l) => l.trim()) ?? '';
  const why = criuError(text) ?? (stderr || (r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`));
  throw new RuntimeError('Internal', `criu failed: ${why} (log file: ${logFile})`);
}
