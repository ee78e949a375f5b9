// Daemon start-up: make the kernel match the records. Sandboxes of containers that are not live
// are torn down (their leases go with the record); live ones get missing veths back and their
// proxies re-bound; bridges of known networks are (re)made, ours that no record names are
// deleted, like veths no endpoint names and netns files no sandbox names; the iptables chains are
// rebuilt in one restore; DNS servers start. Safe to run twice.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Controller } from './controller';
import type { ReconcileReport } from './index';
import { isMounted } from './kernel';

export async function reconcile(c: Controller, live: Set<string>): Promise<ReconcileReport> {
  const report: ReconcileReport = { sandboxes: 0, veths: 0, bridges: 0, netns: 0, restoredPorts: 0, lostPorts: [] };
  for (const s of [...c.sandboxes.values()]) {
    if (!live.has(s.containerId) || !isMounted(s.netnsPath)) {
      await c.teardown(s.containerId);
      report.sandboxes++;
    }
  }
  const owned = await c.kernel.ownedLinks();
  const byName = new Map(owned.map((l) => [l.ifname, l]));
  for (const n of c.bridgeNetworks()) {
    if (!byName.has(n.bridge!)) {
      await c.kernel.createBridge(n.bridge!, `${n.gateway}/${n.subnet!.split('/')[1]}`, `keel:n:${n.id}`, !!c.iptables && c.opts.loopbackDnat !== false);
    }
  }
  const wantedBridges = new Set(c.bridgeNetworks().map((n) => n.bridge));
  const wantedVeths = new Set<string>();
  for (const s of c.sandboxes.values()) for (const e of s.endpoints) wantedVeths.add(e.hostIf);
  for (const l of owned) {
    if (l.kind === 'bridge' && !wantedBridges.has(l.ifname)) {
      await c.kernel.deleteLink(l.ifname);
      report.bridges++;
    } else if (l.kind === 'veth' && !wantedVeths.has(l.ifname)) {
      await c.kernel.deleteLinks([l.ifname]);
      report.veths++;
    }
  }
  for (const s of c.sandboxes.values()) {
    for (const e of [...s.endpoints]) {
      if (byName.has(e.hostIf)) continue;
      const n = c.networks.get(e.networkId);
      if (!n) {
        s.endpoints = s.endpoints.filter((x) => x !== e);
        continue;
      }
      // The record was written but the veth never made (or was lost): make it now. A crash between
      // creating the pair and tagging it leaves a host end without our ifalias: it goes first.
      await c.kernel.deleteLinks([e.hostIf]).catch(() => undefined);
      await c.kernel.inNetns(s.netnsPath, [`link del ${e.ifname}`]).catch(() => undefined);
      c.kernel.forgetSandbox(s.netnsPath);
      await c.realizeEndpoint(s, e, n, false);
    }
    c.store.saveSandbox(s);
    await c.updateGateway(s);
  }
  const known = new Set([...c.sandboxes.values()].map((s) => path.basename(s.netnsPath)));
  let files: string[] = [];
  try {
    files = fs.readdirSync(c.netnsDir);
  } catch {
    /* no sandboxes yet */
  }
  for (const f of files) {
    if (known.has(f)) continue;
    await c.kernel.removeNetns(path.join(c.netnsDir, f));
    report.netns++;
  }
  await c.applyRules();
  await c.publisher.closeEverything();
  for (const s of c.sandboxes.values()) {
    const r = await c.publisher.restore(s);
    report.restoredPorts += r.restored;
    report.lostPorts.push(...r.lost.map((l) => `${s.containerId.slice(0, 12)} ${l}`));
  }
  if (report.lostPorts.length > 0) await c.applyRules();
  for (const n of c.bridgeNetworks()) {
    if (n.isDefault) continue;
    try {
      await c.startDns(n);
    } catch (e) {
      c.log.warn({ network: n.name, err: (e as Error).message }, 'embedded DNS server not started');
    }
  }
  c.log.info({ ...report }, 'network state reconciled');
  return report;
}
