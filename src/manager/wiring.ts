// Builds dock's image-side services for one state root with explicit constructor calls: content
// store and image records in <root>/content (an OCI layout), partial downloads in <root>/ingest,
// snapshots in <root>/snapshots, registry client with config.json credentials. No registry of plugins.
import * as path from 'node:path';
import { LocalContentStore } from './content/local/store';
import { LayoutImageStore } from './images/image-store';
import { Leases } from './leases';
import { RegistryClient } from './images/registry/client';
import { CredentialStore } from './images/registry/credentials';
import { OverlaySnapshotter } from './snapshots/overlay/overlay';

export const DEFAULT_ROOT = '/var/lib/dock';

export type DockOptions = {
  root?: string;
  /** Hosts spoken to over plain http (dockerd's --insecure-registry). */
  insecureRegistries?: string[];
  /** Docker-format config.json holding credentials; default $DOCKER_CONFIG or ~/.docker. */
  authConfig?: string;
};

export type Dock = {
  root: string;
  layoutDir: string;
  content: LocalContentStore;
  images: LayoutImageStore;
  credentials: CredentialStore;
  client: RegistryClient;
  snapshotter: OverlaySnapshotter;
  leases: Leases;
  close(): Promise<void>;
};

export function createDock(opts: DockOptions = {}): Dock {
  const root = opts.root ?? DEFAULT_ROOT;
  const layoutDir = path.join(root, 'content');
  const content = new LocalContentStore({ layoutDir, ingestDir: path.join(root, 'ingest') });
  const images = new LayoutImageStore(layoutDir);
  const credentials = new CredentialStore(opts.authConfig);
  const client = new RegistryClient({ insecureRegistries: opts.insecureRegistries ?? [], credentials: (h) => credentials.get(h) });
  const snapshotter = new OverlaySnapshotter(path.join(root, 'snapshots'));
  const leases = new Leases(path.join(root, 'leases'));
  return { root, layoutDir, content, images, credentials, client, snapshotter, leases, close: () => client.close() };
}
