// Persistence of networks and sandboxes under <data-root>/network: one JSON file per object,
// replaced by rename, so a kill -9 leaves either the old or the new record. Networks are fsynced;
// sandboxes are not (see saveSandbox). IP leases are not separate files: an address is leased while
// an endpoint holds it.
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

  /** Sandbox records; torn ones (see saveSandbox) are deleted, and reconcile removes what they described. */
  loadSandboxes(): SandboxRecord[] {
    return readAll<SandboxRecord>(this.sandboxesDir, (s) => typeof s.containerId === 'string' && typeof s.netnsPath === 'string' && Array.isArray(s.endpoints) && Array.isArray(s.ports));
  }

  saveNetwork(n: NetworkRecord): void {
    writeFileAtomic(path.join(this.networksDir, `${n.id}.json`), JSON.stringify(n, null, 1));
  }

  deleteNetwork(id: string): void {
    fs.rmSync(path.join(this.networksDir, `${id}.json`), { force: true });
  }

  /**
   * Written without fsync, unlike dock-engine.md §2's rule for durable state: a container start
   * writes its sandbox record three times (create, attach, publish), and each fsync cost milliseconds
   * on a loaded machine. The rename alone is atomic against a daemon crash (the page cache survives
   * it); only a machine crash can lose or tear the record, and that crash also takes every netns,
   * veth and iptables rule the record described, so nothing is left to find. Should a record still
   * be lost or torn with its kernel objects alive, start-up needs none of it: loadSandboxes drops a
   * torn file, and reconcile deletes netns files no record names, links whose ifalias no endpoint
   * names, and rebuilds our chains from the records alone (recovery.test.ts, "a lost or torn
   * sandbox record", counts what is left). The lease goes with the record.
   */
  saveSandbox(s: SandboxRecord): void {
    const file = path.join(this.sandboxesDir, `${s.containerId}.json`);
    const tmp = path.join(this.sandboxesDir, `.${s.containerId}.json.${process.pid}.tmp`);
    fs.writeFileSync(tmp, JSON.stringify(s, null, 1), { mode: 0o600 });
    fs.renameSync(tmp, file);
  }

  deleteSandbox(id: string): void {
    fs.rmSync(path.join(this.sandboxesDir, `${id}.json`), { force: true });
  }
}

function readAll<T>(dir: string, valid?: (x: T) => boolean): T[] {
  const out: T[] = [];
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith('.json')) {
      // A temp file left by a kill -9 between write and rename.
      if (f.startsWith('.')) fs.rmSync(path.join(dir, f), { force: true });
      continue;
    }
    let x: T;
    try {
      x = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as T;
    } catch {
      /* an unreadable record cannot be acted on; reconcile removes what it described */
      if (valid) fs.rmSync(path.join(dir, f), { force: true });
      continue;
    }
    if (!valid || (x !== null && typeof x === 'object' && valid(x))) out.push(x);
    else fs.rmSync(path.join(dir, f), { force: true });
  }
  return out;
}
