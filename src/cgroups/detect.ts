// Host cgroup layout: v1/hybrid/v2 detection (statfs magic, as runc's IsCgroup2UnifiedMode and
// IsCgroup2HybridMode), mountinfo parsing for v1 hierarchies, /proc/<pid>/cgroup parsing, and
// runc's cgroupsPath cleaning. Reads only; creates nothing.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { parseMountinfo } from '../util/mountinfo';
import { fsError } from './fsutil';
import type { CgroupMode } from './types';

const CGROUP2_SUPER_MAGIC = 0x63677270;
const CGROUP_SUPER_MAGIC = 0x27e0eb;

/** statfs(2) f_type of p, or undefined when p does not exist. */
async function fsType(p: string): Promise<number | undefined> {
  try {
    return Number((await fsp.statfs(p)).type);
  } catch {
    return undefined;
  }
}

/**
 * v2 when root itself is cgroup2; hybrid when root/unified is cgroup2 beside v1 hierarchies
 * (systemd's hybrid layout, this host's); otherwise v1.
 */
export async function detectCgroupMode(root = '/sys/fs/cgroup'): Promise<CgroupMode> {
  if ((await fsType(root)) === CGROUP2_SUPER_MAGIC) return 'v2';
  if ((await fsType(path.join(root, 'unified'))) === CGROUP2_SUPER_MAGIC) return 'hybrid';
  return 'v1';
}

/** Whether p is a cgroup (v1) or cgroup2 filesystem; false for a fixture on tmpfs. */
export async function isCgroupFs(p: string): Promise<boolean> {
  const t = await fsType(p);
  return t === CGROUP2_SUPER_MAGIC || t === CGROUP_SUPER_MAGIC;
}

/** A cgroup v1 hierarchy: where it is mounted, which cgroup is its root, and its controllers. */
export type V1Hierarchy = { mountPoint: string; root: string; subsystems: string[] };

/**
 * The cgroup v1 hierarchies in a mountinfo text (proc(5)): fstype "cgroup", controllers from the
 * super options ("rw,cpu,cpuacct", "rw,name=systemd"). The first mount of a hierarchy wins.
 */
export function parseV1Hierarchies(mountinfo: string): V1Hierarchy[] {
  const out: V1Hierarchy[] = [];
  const seen = new Set<string>();
  for (const m of parseMountinfo(mountinfo)) {
    if (m.fsType !== 'cgroup') continue;
    const subsystems = m.superOptions
      .split(',')
      .filter((o) => o !== 'rw' && o !== 'ro' && !o.startsWith('release_agent=') && o !== 'clone_children' && o !== 'noprefix' && o !== 'xattr' && o !== 'cpuset_v2_mode');
    const key = subsystems.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ mountPoint: m.mountPoint, root: m.root, subsystems });
  }
  return out;
}

/** Parses /proc/<pid>/cgroup: controller (or "" for the v2 line, "name=x" for named) → path. */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const ctrls = line.slice(first + 1, second);
    const p = line.slice(second + 1);
    if (ctrls === '') out.set('', p);
    else for (const c of ctrls.split(',')) out.set(c, p);
  }
  return out;
}

/** Reads and parses a proc file, naming it in the error. */
export async function readProc(file: string): Promise<string> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    throw fsError('read', file, err);
  }
}

/**
 * runc's CleanPath for cgroupsPath: an absolute path is cleaned lexically; a relative one is
 * cleaned as if rooted at "/" and made relative again, so "../../x" cannot climb out.
 */
export function cleanCgroupPath(p: string): string {
  if (p === '') return '';
  if (path.isAbsolute(p)) return path.posix.normalize(p).replace(/\/+$/, '') || '/';
  const rooted = path.posix.normalize('/' + p);
  return path.posix.relative('/', rooted);
}

/**
 * The inner cgroup path: linux.cgroupsPath when given, else the container id (relative), as
 * runc's specconv.CreateCgroupConfig sets Name = id and internal/path.Inner joins it.
 */
export function innerCgroupPath(cgroupsPath: string | undefined, id: string): string {
  return cleanCgroupPath(cgroupsPath ?? '') || cleanCgroupPath(id);
}
