// The prune operations (container, network, volume, image, build cache) shared by each `X prune`
// and by `system prune`: one POST each, returning the reclaimed bytes and docker's report text.
import type { EngineClient } from '../../api/client';
import type { DockCli } from '../cli';
import { encodeFilters, type Filters } from '../opts/values';

export type PruneResult = { space: number; output: string };

function q(filters: Filters): Record<string, string> {
  return Object.keys(filters).length ? { filters: encodeFilters(filters) } : {};
}

export async function pruneContainers(client: EngineClient, filters: Filters): Promise<PruneResult> {
  const r = await client.json<{ ContainersDeleted?: string[] | null; SpaceReclaimed?: number }>('POST', '/containers/prune', { query: q(filters) });
  if (!r?.ContainersDeleted?.length) return { space: 0, output: '' };
  return { space: r.SpaceReclaimed ?? 0, output: `Deleted Containers:\n${r.ContainersDeleted.map((id) => `${id}\n`).join('')}` };
}

export async function pruneNetworks(client: EngineClient, filters: Filters): Promise<PruneResult> {
  const r = await client.json<{ NetworksDeleted?: string[] | null }>('POST', '/networks/prune', { query: q(filters) });
  if (!r?.NetworksDeleted?.length) return { space: 0, output: '' };
  return { space: 0, output: `Deleted Networks:\n${r.NetworksDeleted.map((id) => `${id}\n`).join('')}` };
}

export async function pruneVolumes(client: EngineClient, filters: Filters): Promise<PruneResult> {
  const r = await client.json<{ VolumesDeleted?: string[] | null; SpaceReclaimed?: number }>('POST', '/volumes/prune', { query: q(filters) });
  if (!r?.VolumesDeleted?.length) return { space: 0, output: '' };
  return { space: r.SpaceReclaimed ?? 0, output: `Deleted Volumes:\n${r.VolumesDeleted.map((id) => `${id}\n`).join('')}` };
}

export async function pruneImages(client: EngineClient, filters: Filters, all: boolean): Promise<PruneResult> {
  const f: Filters = { ...filters, dangling: { ...(filters.dangling ?? {}), [String(!all)]: true } };
  const r = await client.json<{ ImagesDeleted?: { Untagged?: string; Deleted?: string }[] | null; SpaceReclaimed?: number }>('POST', '/images/prune', { query: q(f) });
  if (!r?.ImagesDeleted?.length) return { space: 0, output: '' };
  let out = 'Deleted Images:\n';
  for (const d of r.ImagesDeleted) out += d.Untagged ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted}\n`;
  return { space: r.SpaceReclaimed ?? 0, output: out };
}

export async function pruneBuildCache(client: EngineClient, filters: Filters, all: boolean): Promise<PruneResult> {
  const r = await client.json<{ CachesDeleted?: string[] | null; SpaceReclaimed?: number }>('POST', '/build/prune', { query: { ...(all ? { all: '1' } : {}), filters: Object.keys(filters).length ? encodeFilters(filters) : '' } });
  const out = r?.CachesDeleted?.length ? `Deleted build cache objects:\n${r.CachesDeleted.map((id) => `${id}\n`).join('')}` : '';
  return { space: r?.SpaceReclaimed ?? 0, output: out };
}

/** config.json's pruneFilters merged into the user's (command.PruneFilters). */
export function withConfigPruneFilters(cli: DockCli, filters: Filters): Filters {
  const out: Filters = JSON.parse(JSON.stringify(filters)) as Filters;
  const extra = cli.configFile().value<string[]>('pruneFilters') ?? [];
  for (const f of extra) {
    const i = f.indexOf('=');
    if (i < 0) continue;
    const k = f.slice(0, i);
    const v = f.slice(i + 1);
    if (k === 'label' && out['label!']?.[v]) continue;
    if (k === 'label!' && out.label?.[v]) continue;
    (out[k] ??= {})[v] = true;
  }
  return out;
}
