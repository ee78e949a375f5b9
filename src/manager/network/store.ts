// Persistence of networks and sandboxes under <data-root>/network: one JSON file per object,
// written atomically (temp file, fsync, rename), so a kill -9 leaves either the old or the new
// record. IP leases are not separate files: an address is leased while an endpoint holds it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write';
import type { NetworkRecord, SandboxRecord } from './types';

export class NetworkStore {
  readonly networksDir: string;
  readonly sandboxesDir: string;

  constructor(readonly root: string) {
    this.networksDir = path.join(root, 'networks');
    this.sandboxesDir = path.join(root, 'sandboxes');
    fs.mkdirSync(this.networksDir, { recursive: true, mode: 0o700 });
    fs.mkdirSync(this.sandboxesDir, { recursive: true, mode: 0o700 });
  }

  loadNetworks(): NetworkRecord[] {
    return readAll<NetworkRecord>(this.networksDir);
  }

  loadSandboxes(): SandboxRecord[] {
    return readAll<SandboxRecord>(this.sandboxesDir);
  }

  saveNetwork(n: NetworkRecord): void {
    writeFileAtomic(path.join(this.networksDir, `${n.id}.json`), JSON.stringify(n, null, 1));
  }

  deleteNetwork(id: string): void {
    fs.rmSync(path.join(this.networksDir, `${id}.json`), { force: true });
  }

  saveSandbox(s: SandboxRecord): void {
    writeFileAtomic(path.join(this.sandboxesDir, `${s.containerId}.json`), JSON.stringify(s, null, 1));
  }

  deleteSandbox(id: string): void {
    fs.rmSync(path.join(this.sandboxesDir, `${id}.json`), { force: true });
  }
}

function readAll<T>(dir: string): T[] {
  const out: T[] = [];
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith('.json')) {
      // A temp file left by a kill -9 between write and rename.
      if (f.startsWith('.')) fs.rmSync(path.join(dir, f), { force: true });
      continue;
    }
    try {
      out.push(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as T);
    } catch {
      /* an unreadable record cannot be acted on; reconcile removes what it described */
    }
  }
  return out;
}
