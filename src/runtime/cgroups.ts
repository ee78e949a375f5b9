// The runtime's use of src/cgroups: build a container's manager at create time, rebuild it later
// from the paths recorded in state.json (a later keel process may sit in another cgroup, so paths
// are never re-resolved), and the synchronous reads and writes the sequential verbs need.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createCgroupManager, defaultDeviceRules, V1Manager, V2Manager, type CgroupManager, type LinuxResources } from '../cgroups/index';
import type { Spec } from '../../spec/types/runtime';
import { parseProcCgroup, parseV1Hierarchies } from '../cgroups/detect';
import { parseMountinfo } from '../util/mountinfo';
import type { StateRecord } from './state';

/** Resolves (and does not yet create) the cgroup of a container being created. */
export function newCgroupManager(id: string, spec: Spec, opts: { systemd: boolean; rootless: boolean }): Promise<CgroupManager> {
  return createCgroupManager({ id, cgroupsPath: spec.linux?.cgroupsPath ?? '', systemd: opts.systemd, rootless: opts.rootless });
}

/** Rebuilds a container's manager from its recorded paths; undefined when it has none. */
export function cgroupManagerOf(rec: StateRecord): CgroupManager | undefined {
  const paths = rec.cgroupPaths;
  if (!paths || Object.keys(paths).length === 0) return undefined;
  const keys = Object.keys(paths);
  if (keys.length === 1 && keys[0] === '') return new V2Manager(paths['']!, { rootless: rec.rootless });
  return new V1Manager(paths, { rootless: rec.rootless });
}

/**
 * The spec's resources as the cgroup drivers type them. The schema leaves a few fields optional
 * that the drivers require (a throttle's rate); the drivers check values when writing them.
 */
export function asCgroupResources(r: NonNullable<NonNullable<Spec['linux']>['resources']>): LinuxResources {
  return r as unknown as LinuxResources;
}

/** linux.resources with runc's default device rules appended (what runc applies at create). */
export function createResources(spec: Spec): LinuxResources {
  const r = asCgroupResources(spec.linux?.resources ?? {});
  return { ...r, devices: [...(r.devices ?? []), ...defaultDeviceRules] };
}

/**
 * Moves pid into every recorded cgroup synchronously. Used while the child waits at the
 * createRuntime step, where launch cannot await.
 */
export function joinCgroupsSync(paths: Record<string, string>, pid: number, rootless: boolean): void {
  const seen = new Set<string>();
  for (const dir of Object.values(paths)) {
    if (seen.has(dir)) continue;
    seen.add(dir);
    try {
      fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (rootless && (code === 'EACCES' || code === 'EPERM' || code === 'ENOENT')) continue;
      throw new Error(`join cgroup ${dir}: ${code ?? (e as Error).message}`);
    }
  }
}

/** Whether the container's cgroup is frozen, read synchronously (v1 freezer.state, v2 cgroup.freeze). */
export function isFrozenSync(paths: Record<string, string> | undefined): boolean {
  if (!paths) return false;
  try {
    if (paths.freezer) return fs.readFileSync(path.join(paths.freezer, 'freezer.state'), 'utf8').trim() !== 'THAWED';
    if (paths['']) return fs.readFileSync(path.join(paths[''], 'cgroup.freeze'), 'utf8').trim() === '1';
  } catch {
    /* no freezer, or the cgroup is gone: not paused */
  }
  return false;
}

/**
 * cgroup v1 hosts: what a container's `cgroup` mount shows, per hierarchy mounted under
 * /sys/fs/cgroup (unified included on hybrid hosts): the container's own cgroup there, or the one it
 * inherits from us (a rootless container whose cgroups were skipped). Hierarchies mounted elsewhere
 * are left out. Read synchronously: launch compiles the plan without awaiting.
 */
export function cgroupV1MountSources(paths: Record<string, string> | undefined, root = '/sys/fs/cgroup'): { name: string; source: string }[] {
  const mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  const own = parseProcCgroup(fs.readFileSync('/proc/self/cgroup', 'utf8'));
  const out: { name: string; source: string }[] = [];
  const add = (mountPoint: string, hierRoot: string, keys: string[]) => {
    if (path.dirname(mountPoint) !== root) return;
    const recorded = keys.map((k) => paths?.[k]).find((p) => p !== undefined && fs.existsSync(p));
    const mine = keys.map((k) => own.get(k)).find((p) => p !== undefined);
    const source = recorded ?? (mine !== undefined ? path.join(mountPoint, path.relative(hierRoot, mine)) : undefined);
    if (source !== undefined) out.push({ name: path.basename(mountPoint), source });
  };
  for (const h of parseV1Hierarchies(mountinfo)) add(h.mountPoint, h.root, h.subsystems);
  // The hybrid layout's cgroup2 mount (runc leaves it out; systemd in a container looks for it).
  for (const m of parseMountinfo(mountinfo)) if (m.fsType === 'cgroup2') add(m.mountPoint, m.root, ['']);
  return out;
}
