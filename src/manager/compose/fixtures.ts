// Test fixtures of the compose unit tests: projects loaded from YAML text in a temp directory and
// observed containers shaped as the engine lists them. Used by *.test.ts only.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ContainerSummary, NetworkSummary, VolumeSummary } from './engine';
import { serviceHash } from './hash';
import * as L from './labels';
import { loadProject, type LoadOptions } from './load';
import type { Project } from './model';
import { toObserved, type Observed, type ObservedContainer } from './observe';

/** Loads a project from compose YAML text (the directory is removed before returning). */
export function projectOf(yaml: string, o: LoadOptions & { dirName?: string } = {}): Project {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-fx-'));
  const d = path.join(base, o.dirName ?? 'proj');
  fs.mkdirSync(d);
  try {
    fs.writeFileSync(path.join(d, 'compose.yaml'), yaml);
    return loadProject({ cwd: d, env: {}, ...o });
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}

let seq = 0;

/** A container of a service as GET /containers/json reports it. */
export function container(p: Project, service: string, number: number, o: { state?: string; hash?: string; imageId?: string; oneoff?: boolean; name?: string } = {}): ObservedContainer {
  const id = (++seq).toString(16).padStart(12, '0') + 'f'.repeat(52);
  const s = p.services[service];
  const summary: ContainerSummary = {
    Id: id,
    Names: [`/${o.name ?? `${p.name}-${service}-${number}`}`],
    Image: s?.image ?? 'img',
    ImageID: o.imageId ?? 'sha256:img',
    Command: '',
    Created: 1,
    State: o.state ?? 'running',
    Status: '',
    Ports: [],
    Labels: {
      [L.PROJECT]: p.name,
      [L.SERVICE]: service,
      [L.CONTAINER_NUMBER]: String(number),
      [L.ONEOFF]: o.oneoff ? 'True' : 'False',
      [L.CONFIG_HASH]: o.hash ?? (s ? serviceHash(s) : 'old'),
    },
    Mounts: [],
  };
  return toObserved(summary);
}

export function observed(containers: ObservedContainer[], networks: string[] = [], volumes: string[] = [], project?: string): Observed {
  const labels: Record<string, string> = project ? { [L.PROJECT]: project } : {};
  return {
    containers,
    networks: new Map(networks.map((n): [string, NetworkSummary] => [n, { Id: n, Name: n, Driver: 'bridge', Labels: labels }])),
    volumes: new Map(volumes.map((v): [string, VolumeSummary] => [v, { Name: v, Driver: 'local', Labels: labels }])),
  };
}
