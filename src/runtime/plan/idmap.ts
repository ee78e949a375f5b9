// Id-mapped mounts in the plan (runtime-spec config.md "Mounts": uidMappings, gidMappings, the
// idmap and ridmap options): which mapping a mount gets and the configurations that are errors.
// Pure; the parent makes the mounts (src/runtime/idmap.ts), the child attaches them.
import type { LinuxIDMapping, Mount } from '../../../spec/types/runtime';
import { errors } from '../../errors/index';
import type { ParsedOptions } from './mount-options';
import type { PlanIdmap, PlanMount } from './types';

/** The container's user namespace, as far as id-mapped mounts care. */
export type IdmapContext = {
  /** 'new': linux.uidMappings apply; 'join': linux.namespaces[user].path; 'none': no user namespace. */
  userns: 'new' | 'join' | 'none';
  usernsPath: string | null;
  uidMappings: LinuxIDMapping[];
  gidMappings: LinuxIDMapping[];
  /** The runtime runs as real root: only then can it set MOUNT_ATTR_IDMAP on host filesystems. */
  isRoot: boolean;
};

/**
 * The id mapping of one mount, or undefined when it has none. As runc (specconv
 * createLibcontainerMount, validate checkIDMapMounts) and crun: mappings without an option mean
 * `idmap`; an option without mappings takes the container's user namespace; only bind mounts.
 */
export function mountIdmap(m: Mount, parsed: ParsedOptions, kind: PlanMount['kind'], destination: string, ctx: IdmapContext): PlanIdmap | undefined {
  const hasUid = (m.uidMappings?.length ?? 0) > 0;
  const hasGid = (m.gidMappings?.length ?? 0) > 0;
  if (hasUid !== hasGid) throw errors.invalid(`mount ${destination}: uidMappings and gidMappings must be given together`);
  if (!parsed.idmap && !hasUid) return undefined;
  const what = parsed.idmap ?? 'uidMappings';
  if (kind !== 'bind') throw errors.invalid(`mount ${destination}: ${what}: id-mapped mounts are only supported for bind mounts`);
  if (!ctx.isRoot) throw errors.notImplemented(`mount ${destination}: ${what}: id-mapped mounts are not supported for rootless containers`);
  const recursive = parsed.idmap === 'ridmap';
  if (hasUid) return { recursive, usernsPath: null, uidMappings: m.uidMappings!, gidMappings: m.gidMappings! };
  if (ctx.userns === 'join') return { recursive, usernsPath: ctx.usernsPath, uidMappings: [], gidMappings: [] };
  if (ctx.userns === 'new') return { recursive, usernsPath: null, uidMappings: ctx.uidMappings, gidMappings: ctx.gidMappings };
  throw errors.invalid(`mount ${destination}: ${what} without uidMappings and gidMappings needs a user namespace`);
}
