// Which engines a scenario runs against: dock and the reference dockerd (DOCK_TEST_ENGINES=dock or
// =dockerd narrows it), each with the busybox image imported, the same way.
import { busyboxTar, BUSYBOX_CHANGES } from './busybox';
import { docker } from './docker-cli';
import { dockerdSkipReason, startDockerd } from './dockerd';
import { dockSkipReason, startDock } from './dock';
import type { Engine, EngineKind } from './engine';
import type { Netns } from './netns';

export const ENGINE_KINDS: EngineKind[] = ((process.env.DOCK_TEST_ENGINES ?? 'dock,dockerd').split(',').filter(Boolean) as EngineKind[]);

export function engineSkipReason(kind: EngineKind): string | undefined {
  return kind === 'dock' ? dockSkipReason() : dockerdSkipReason();
}

export async function startEngine(kind: EngineKind, opts: { netns?: Netns } = {}): Promise<Engine> {
  return kind === 'dock' ? startDock(opts) : startDockerd(opts);
}

/** Imports busybox:latest into the engine (docker import with PATH and CMD). */
export async function importBusybox(e: Engine, tag = 'busybox:latest'): Promise<void> {
  const r = await docker(e, ['import', ...BUSYBOX_CHANGES.flatMap((c) => ['-c', c]), busyboxTar(), tag]);
  if (r.code !== 0) throw new Error(`docker import: ${r.stderr}`);
}
