// /networks routes over the network controller: create, list (filters), inspect, remove, prune,
// and connect/disconnect of running and created containers (a created one is attached at its next
// start; docker-compose 1.29 disconnects and reconnects before each start). Without bridge
// networking (--bridge=none) only host and none exist and creating networks is refused.
import { RuntimeError } from '../../../errors/index';
import type { Engine } from '../../containers/engine';
import type { ContainerRecord, EndpointSettings } from '../../containers/types';
import type { BridgeNetworking } from '../../network/hooks';
import type { NetworkResource } from '../../network/types';
import { HttpError, qfilters, readJson, sendEmpty, sendJson, type Router } from '../http';

type CreateBody = {
  Name?: string;
  Driver?: string;
  Internal?: boolean;
  Attachable?: boolean;
  EnableIPv6?: boolean;
  Labels?: Record<string, string>;
  Options?: Record<string, string>;
  CheckDuplicate?: boolean;
  IPAM?: { Driver?: string; Options?: Record<string, string>; Config?: { Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }[] };
};

const BUILTIN = ['bridge', 'host', 'none'];

/** The two networks that exist without bridge networking. */
function basicNetworks(): NetworkResource[] {
  const mk = (name: string, driver: string, id: string): NetworkResource => ({
    Name: name,
    Id: id,
    Created: new Date(0).toISOString(),
    Scope: 'local',
    Driver: driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: {},
    Options: {},
    Labels: {},
  });
  return [mk('host', 'host', '0'.repeat(63) + '1'), mk('none', 'null', '0'.repeat(63) + '2')];
}

function matchFilters(n: NetworkResource, f: Map<string, string[]>): boolean {
  for (const k of f.keys()) if (!['name', 'id', 'label', 'driver', 'type', 'scope', 'dangling'].includes(k)) throw new RuntimeError('InvalidArgument', `invalid filter '${k}'`);
  const any = (k: string, pred: (v: string) => boolean) => !f.get(k)?.length || f.get(k)!.some(pred);
  if (!any('name', (v) => n.Name.includes(v))) return false;
  if (!any('id', (v) => n.Id.startsWith(v))) return false;
  if (!any('driver', (v) => n.Driver === v)) return false;
  if (!any('scope', (v) => v === 'local')) return false;
  if (!any('type', (v) => (v === 'builtin') === BUILTIN.includes(n.Name))) return false;
  if (!any('dangling', (v) => (['true', '1'].includes(v.toLowerCase()) ? Object.keys(n.Containers).length === 0 && !BUILTIN.includes(n.Name) : true))) return false;
  for (const l of f.get('label') ?? []) {
    const eq = l.indexOf('=');
    const k = eq < 0 ? l : l.slice(0, eq);
    if (!(k in n.Labels) || (eq >= 0 && n.Labels[k] !== l.slice(eq + 1))) return false;
  }
  return true;
}

export function networkRoutes(r: Router, o: { engine: Engine; bridge?: BridgeNetworking }): void {
  const e = o.engine;
  const ctl = o.bridge?.controller;
  const list = (): NetworkResource[] => (ctl ? ctl.listNetworks() : basicNetworks());
  const inspect = (ref: string): NetworkResource => {
    if (ctl) return ctl.inspectNetwork(ref);
    const n = basicNetworks().find((x) => x.Name === ref || x.Id.startsWith(ref));
    if (!n) throw new RuntimeError('NotFound', `network ${ref} not found`);
    return n;
  };
  const event = (action: string, n: NetworkResource, extra: Record<string, string> = {}) => e.d.events.publish('network', action, n.Id, { name: n.Name, type: n.Driver, ...extra });

  r.add('GET', /^\/networks$/, async (ctx) => {
    const f = qfilters(ctx.query);
    sendJson(ctx, 200, list().filter((n) => matchFilters(n, f)));
  });

  r.add('POST', /^\/networks\/create$/, async (ctx) => {
    const b = await readJson<CreateBody>(ctx, {});
    if (!b.Name) throw new RuntimeError('InvalidArgument', 'network name is required');
    if (!ctl) throw new RuntimeError('NotImplemented', 'bridge networking is disabled on this daemon (--bridge=none)');
    const res = await ctl.createNetwork({
      name: b.Name,
      driver: b.Driver,
      internal: b.Internal,
      attachable: b.Attachable,
      enableIPv6: b.EnableIPv6,
      labels: b.Labels ?? {},
      options: b.Options ?? {},
      ipam: { driver: b.IPAM?.Driver, options: b.IPAM?.Options, config: (b.IPAM?.Config ?? []).map((c) => ({ subnet: c.Subnet, ipRange: c.IPRange, gateway: c.Gateway, auxAddresses: c.AuxiliaryAddresses })) },
    });
    event('create', ctl.inspectNetwork(res.Id));
    sendJson(ctx, 201, res);
  });

  r.add('POST', /^\/networks\/prune$/, async (ctx) => {
    if (!ctl) return sendJson(ctx, 200, { NetworksDeleted: null });
    const f = qfilters(ctx.query);
    const inUse = new Set(e.d.store.all().flatMap((c) => Object.keys(c.NetworkSettings.Networks)));
    const gone = await ctl.pruneNetworks((n) => !inUse.has(n.Name) && matchFilters(n, new Map([...f].filter(([k]) => k === 'label'))));
    for (const name of gone) e.d.events.publish('network', 'destroy', name, { name, type: 'bridge' });
    sendJson(ctx, 200, { NetworksDeleted: gone.length ? gone : null });
  });

  r.add('GET', /^\/networks\/([^/]+)$/, async (ctx) => sendJson(ctx, 200, inspect(ctx.params[0]!)));

  r.add('DELETE', /^\/networks\/([^/]+)$/, async (ctx) => {
    const n = inspect(ctx.params[0]!);
    if (!ctl || BUILTIN.includes(n.Name)) throw new RuntimeError('PermissionDenied', `${n.Name} is a pre-defined network and cannot be removed`);
    // Created (not running) containers hold the network too: dockerd refuses those as well.
    const holders = e.d.store.all().filter((c) => n.Name in c.NetworkSettings.Networks);
    if (holders.length) throw new RuntimeError('PermissionDenied', `error while removing network: network ${n.Name} id ${n.Id} has active endpoints`);
    await ctl.removeNetwork(n.Id);
    event('destroy', n);
    sendEmpty(ctx, 204);
  });

  r.add('POST', /^\/networks\/([^/]+)\/connect$/, async (ctx) => {
    const b = await readJson<{ Container?: string; EndpointConfig?: EndpointSettings }>(ctx, {});
    if (!ctl) throw new RuntimeError('NotImplemented', 'bridge networking is disabled on this daemon (--bridge=none)');
    const n = inspect(ctx.params[0]!);
    const rec = e.find(b.Container ?? '');
    await connect(e, o.bridge!, rec, n, b.EndpointConfig ?? {});
    event('connect', n, { container: rec.ID });
    sendEmpty(ctx, 200);
  });

  r.add('POST', /^\/networks\/([^/]+)\/disconnect$/, async (ctx) => {
    const b = await readJson<{ Container?: string; Force?: boolean }>(ctx, {});
    if (!ctl) throw new RuntimeError('NotImplemented', 'bridge networking is disabled on this daemon (--bridge=none)');
    const n = inspect(ctx.params[0]!);
    const rec = e.find(b.Container ?? '');
    await disconnect(e, o.bridge!, rec, n);
    event('disconnect', n, { container: rec.ID });
    sendEmpty(ctx, 200);
  });
}

function isUserMode(rec: ContainerRecord): boolean {
  const m = rec.HostConfig.NetworkMode || 'default';
  return !(m === 'host' || m === 'none' || m.startsWith('container:'));
}

async function connect(e: Engine, bridge: BridgeNetworking, rec: ContainerRecord, n: NetworkResource, cfg: EndpointSettings): Promise<void> {
  if (!isUserMode(rec)) throw new HttpError(400, 'container cannot be disconnected from host network or connected to host network', 'InvalidArgument');
  await e.lock.run(rec.ID, async () => {
    if (n.Name in rec.NetworkSettings.Networks) throw new RuntimeError('PermissionDenied', `endpoint with name ${rec.Name.slice(1)} already exists in network ${n.Name}`);
    const isDefault = n.Options['com.docker.network.bridge.default_bridge'] === 'true';
    if (isDefault && cfg.Aliases?.length) throw new RuntimeError('InvalidArgument', 'network-scoped alias is supported only for containers in user defined networks');
    const ep: EndpointSettings = { IPAMConfig: cfg.IPAMConfig ?? null, Links: cfg.Links ?? null, Aliases: cfg.Aliases ?? null, NetworkID: n.Id, EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: cfg.MacAddress ?? '', DriverOpts: null };
    if (rec.State.Running) {
      const attached = await bridge.controller.attach(rec.ID, n.Name, {
        aliases: isDefault ? [] : (cfg.Aliases ?? []),
        ipv4Address: cfg.IPAMConfig?.IPv4Address || undefined,
        macAddress: cfg.MacAddress || undefined,
      });
      rec.NetworkSettings.Networks[n.Name] = { ...attached, Aliases: isDefault ? null : attached.Aliases };
      await bridge.refreshFiles(rec, e.d.store.containerDir(rec.ID));
    } else rec.NetworkSettings.Networks[n.Name] = ep;
    await e.d.store.save(rec);
  });
}

async function disconnect(e: Engine, bridge: BridgeNetworking, rec: ContainerRecord, n: NetworkResource): Promise<void> {
  if (!isUserMode(rec)) throw new HttpError(400, 'container cannot be disconnected from host network or connected to host network', 'InvalidArgument');
  await e.lock.run(rec.ID, async () => {
    if (!(n.Name in rec.NetworkSettings.Networks)) throw new RuntimeError('InvalidArgument', `container ${rec.ID} is not connected to network ${n.Name}`);
    delete rec.NetworkSettings.Networks[n.Name];
    if (rec.State.Running) {
      await bridge.controller.detach(rec.ID, n.Name);
      await bridge.refreshFiles(rec, e.d.store.containerDir(rec.ID));
    }
    await e.d.store.save(rec);
  });
}
