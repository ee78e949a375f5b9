// Observed state of a project: its containers, networks and volumes as the engine reports them,
// found by the com.docker.compose.project label (compose keeps no state of its own).
import { ApiError } from '../api/client';
import type { ContainerSummary, Engine, MountSummary, NetworkSummary, VolumeSummary } from './engine';
import * as L from './labels';
import type { Project } from './model';

export type ObservedContainer = {
  id: string;
  name: string;
  service: string;
  number: number;
  oneoff: boolean;
  /** created, running, paused, restarting, removing, exited, dead */
  state: string;
  status: string;
  hash: string;
  imageId: string;
  image: string;
  labels: Record<string, string>;
  mounts: MountSummary[];
  created: number;
  summary: ContainerSummary;
};

export type Observed = {
  containers: ObservedContainer[];
  /** Networks by engine name. */
  networks: Map<string, NetworkSummary>;
  /** Volumes by engine name. */
  volumes: Map<string, VolumeSummary>;
};

/** The container's own name (Names also lists legacy link names such as /web-1/db). */
export function canonicalName(c: ContainerSummary): string {
  const n = c.Names.find((x) => x.lastIndexOf('/') === 0) ?? c.Names[0] ?? c.Id.slice(0, 12);
  return n.replace(/^\//, '');
}

export function toObserved(c: ContainerSummary): ObservedContainer {
  const labels = c.Labels ?? {};
  return {
    id: c.Id,
    name: canonicalName(c),
    service: labels[L.SERVICE] ?? '',
    number: Number(labels[L.CONTAINER_NUMBER] ?? 0),
    oneoff: (labels[L.ONEOFF] ?? 'False').toLowerCase() === 'true',
    state: c.State,
    status: c.Status,
    hash: labels[L.CONFIG_HASH] ?? '',
    imageId: c.ImageID,
    image: c.Image,
    labels,
    mounts: c.Mounts ?? [],
    created: c.Created,
    summary: c,
  };
}

/** Containers of a project (all states); one-off containers only when asked. */
export async function projectContainers(engine: Engine, project: string, o: { oneoff?: boolean; services?: string[] } = {}): Promise<ObservedContainer[]> {
  const list = await engine.listContainers(L.projectFilter(project, o.oneoff ? {} : { oneoff: false }), true);
  return list
    .map(toObserved)
    .filter((c) => (o.oneoff ? true : !c.oneoff))
    .filter((c) => !o.services?.length || o.services.includes(c.service))
    .sort((a, b) => (a.service === b.service ? a.number - b.number : a.service < b.service ? -1 : 1));
}

/** Everything `up` and `down` compare the project with (one-off containers too when asked: down). */
export async function observe(engine: Engine, project: Project | string, o: { oneoff?: boolean } = {}): Promise<Observed> {
  const name = typeof project === 'string' ? project : project.name;
  // An engine without the networks API (404 on the list) has no networks to compare with; creating
  // one would still fail loudly.
  const noApi = (e: unknown): never[] => {
    if (e instanceof ApiError && e.status === 404) return [];
    throw e;
  };
  const [containers, nets, vols] = await Promise.all([projectContainers(engine, name, { oneoff: o.oneoff }), engine.listNetworks().catch(noApi), engine.listVolumes().catch(noApi)]);
  return {
    containers,
    networks: new Map(nets.map((n) => [n.Name, n])),
    volumes: new Map(vols.map((v) => [v.Name, v])),
  };
}
