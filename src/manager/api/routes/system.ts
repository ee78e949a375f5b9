// /_ping, /version, /info, /events, /system/df and the volumes routes. /version and /info are
// answered from memory (podman runs its runtime for each /version: 0.35 s; ours must be cheap).
import * as os from 'node:os';
import { RuntimeError } from '../../../errors/index';
import type { Engine } from '../../containers/engine';
import { parseTimeArg, type EngineEvent, type EventBus, type EventFilters, eventMatches } from '../../events';
import { imageSize, repoTags } from '../../images/inspect';
import { listImages, type ImageDeps } from '../../images/resolve';
import type { VolumeStore, Volume } from '../../volumes/store';
import { compareVersions } from '../client';
import { API_VERSION, MIN_API_VERSION, qbool, qfilters, readJson, sendEmpty, sendJson, sendText, startStream, type Router } from '../http';

export type SystemInfo = {
  id: string;
  version: string;
  commit: string;
  dataRoot: string;
  execRoot: string;
  cgroupVersion: '1' | '2';
  insecureRegistries: string[];
  startedAt: Date;
};

function kernelVersion(): string {
  return os.release();
}

let osName: string | undefined;
function operatingSystem(): string {
  if (osName) return osName;
  try {
    const text = require('node:fs').readFileSync('/etc/os-release', 'utf8') as string;
    osName = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? 'Linux';
  } catch {
    osName = 'Linux';
  }
  return osName;
}

function volumeView(v: Volume): Record<string, unknown> {
  return { CreatedAt: v.CreatedAt, Driver: v.Driver, Labels: v.Labels, Mountpoint: v.Mountpoint, Name: v.Name, Options: v.Options, Scope: v.Scope };
}

export function systemRoutes(r: Router, o: { engine: Engine; events: EventBus; volumes: VolumeStore; images: ImageDeps; info: SystemInfo }): void {
  const { engine: e, events, volumes, info } = o;
  const pingHeaders = { 'Api-Version': API_VERSION, Ostype: 'linux', 'Docker-Experimental': 'false', 'Builder-Version': '1', Swarm: 'inactive', 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache' };
  r.add('GET', /^\/_ping$/, async (ctx) => sendText(ctx, 200, 'OK', pingHeaders));

  r.add('GET', /^\/version$/, async (ctx) => {
    sendJson(ctx, 200, {
      Platform: { Name: 'dock' },
      Components: [
        {
          Name: 'Engine',
          Version: info.version,
          Details: {
            // dockerd sends all nine keys; dock is not built by Go, so GoVersion names the Node.js runtime.
            ApiVersion: API_VERSION,
            Arch: os.arch() === 'x64' ? 'amd64' : os.arch(),
            BuildTime: '',
            Experimental: 'false',
            GitCommit: info.commit,
            GoVersion: `node${process.versions.node}`,
            KernelVersion: kernelVersion(),
            MinAPIVersion: MIN_API_VERSION,
            Os: 'linux',
          },
        },
      ],
      Version: info.version,
      ApiVersion: API_VERSION,
      MinAPIVersion: MIN_API_VERSION,
      GitCommit: info.commit,
      GoVersion: `node${process.versions.node}`,
      Os: 'linux',
      Arch: os.arch() === 'x64' ? 'amd64' : os.arch(),
      KernelVersion: kernelVersion(),
      BuildTime: '',
    });
  });

  r.add('GET', /^\/info$/, async (ctx) => {
    const all = e.d.store.all();
    const running = all.filter((c) => c.State.Running && !c.State.Paused).length;
    const paused = all.filter((c) => c.State.Paused).length;
    const images = (await listImages(o.images)).length;
    sendJson(ctx, 200, {
      ID: info.id,
      Containers: all.length,
      ContainersRunning: running,
      ContainersPaused: paused,
      ContainersStopped: all.length - running - paused,
      Images: images,
      Driver: 'overlay2',
      DriverStatus: [['Backing Filesystem', 'extfs']],
      Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none'], Authorization: null, Log: ['json-file', 'none'] },
      MemoryLimit: true,
      SwapLimit: true,
      CpuCfsPeriod: true,
      CpuCfsQuota: true,
      CPUShares: true,
      CPUSet: true,
      PidsLimit: true,
      IPv4Forwarding: true,
      Debug: false,
      NFd: 0,
      OomKillDisable: true,
      NGoroutines: 0,
      SystemTime: new Date().toISOString(),
      LoggingDriver: e.d.config.logDriver,
      CgroupDriver: 'cgroupfs',
      CgroupVersion: info.cgroupVersion,
      NEventsListener: 0,
      KernelVersion: kernelVersion(),
      OperatingSystem: operatingSystem(),
      OSVersion: '',
      OSType: 'linux',
      Architecture: os.arch() === 'x64' ? 'x86_64' : os.arch(),
      IndexServerAddress: 'https://index.docker.io/v1/',
      RegistryConfig: {
        AllowNondistributableArtifactsCIDRs: null,
        AllowNondistributableArtifactsHostnames: null,
        InsecureRegistryCIDRs: ['127.0.0.0/8'],
        IndexConfigs: Object.fromEntries(
          ['docker.io', ...info.insecureRegistries].map((h) => [h, { Name: h, Mirrors: [], Secure: h === 'docker.io', Official: h === 'docker.io' }]),
        ),
        Mirrors: null,
      },
      NCPU: os.cpus().length,
      MemTotal: os.totalmem(),
      DockerRootDir: info.dataRoot,
      Name: os.hostname(),
      Labels: [],
      ExperimentalBuild: false,
      ServerVersion: info.version,
      Runtimes: { keel: { path: 'containerd-shim-keel-v2' } },
      DefaultRuntime: 'keel',
      Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
      LiveRestoreEnabled: true,
      Isolation: '',
      InitBinary: e.d.config.initPath ? 'docker-init' : '',
      ContainerdCommit: { ID: '', Expected: '' },
      RuncCommit: { ID: info.commit, Expected: info.commit },
      InitCommit: { ID: '', Expected: '' },
      SecurityOptions: ['name=seccomp,profile=builtin'],
      Warnings: null,
    });
  });

  r.add('GET', /^\/events$/, async (ctx) => {
    const f: EventFilters = qfilters(ctx.query);
    const since = ctx.query.get('since');
    const until = ctx.query.get('until');
    const sinceN = since ? parseTimeArg(since) : undefined;
    const untilN = until ? parseTimeArg(until) : undefined;
    const res = startStream(ctx);
    // dockerd's wire form of an events.Message: the struct's field order, the deprecated status/id/from
    // first and only when set, the Attributes map's keys sorted.
    const write = (ev: EngineEvent) => {
      const m: Record<string, unknown> = {};
      if (ev.status) m.status = ev.status;
      if (ev.id) m.id = ev.id;
      if (ev.from) m.from = ev.from;
      const attrs = ev.Actor.Attributes ?? {};
      Object.assign(m, { Type: ev.Type, Action: ev.Action, Actor: { ID: ev.Actor.ID, Attributes: Object.fromEntries(Object.keys(attrs).sort().map((k) => [k, attrs[k]])) }, scope: ev.scope, time: ev.time, timeNano: ev.timeNano });
      res.write(JSON.stringify(m) + '\n');
    };
    if (sinceN !== undefined) for (const ev of events.past(sinceN, untilN ?? Number.MAX_SAFE_INTEGER, f)) write(ev);
    if (untilN !== undefined && untilN <= Date.now() * 1e6) {
      res.end();
      return;
    }
    const off = events.subscribe((ev) => {
      if (untilN !== undefined && ev.timeNano > untilN) return;
      if (eventMatches(ev, f)) write(ev);
    });
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      res.on('close', resolve);
      if (untilN !== undefined) timer = setTimeout(resolve, Math.max(0, untilN / 1e6 - Date.now()));
    });
    if (timer) clearTimeout(timer);
    off();
    res.end();
  });

  r.add('GET', /^\/system\/df$/, async (ctx) => {
    const imgs = await listImages(o.images);
    const containers = [];
    for (const c of e.d.store.all()) {
      containers.push({ Id: c.ID, Names: [c.Name], Image: c.Config.Image, ImageID: c.Image, Command: [c.Path, ...c.Args].join(' '), Created: Math.floor(Date.parse(c.Created) / 1000), State: c.State.Status, Status: c.State.Status, SizeRw: await e.layerSize(c), SizeRootFs: 0, Labels: c.Config.Labels ?? {}, Mounts: [] });
    }
    const vols = [];
    for (const v of volumes.list()) vols.push({ ...volumeView(v), UsageData: { Size: await volumes.size(v.Name), RefCount: e.volumeUsers(v.Name).length } });
    sendJson(ctx, 200, {
      LayersSize: imgs.reduce((n, i) => n + imageSize(i), 0),
      Images: imgs.map((i) => ({ Id: i.id, RepoTags: repoTags(i), Created: i.config.created ? Math.floor(Date.parse(i.config.created) / 1000) : 0, Size: imageSize(i), SharedSize: 0, VirtualSize: imageSize(i), Containers: e.d.store.all().filter((c) => c.Image === i.id).length, Labels: i.config.config?.Labels ?? null, RepoDigests: [], ParentId: '' })),
      Containers: containers,
      Volumes: vols,
      BuildCache: [],
    });
  });

  // Volumes.
  r.add('POST', /^\/volumes\/create$/, async (ctx) => {
    const body = await readJson<{ Name?: string; Driver?: string; DriverOpts?: Record<string, string>; Labels?: Record<string, string> }>(ctx, {});
    const { volume, created } = await volumes.create({ name: body.Name, driver: body.Driver, options: body.DriverOpts ?? {}, labels: body.Labels ?? {} });
    if (created) events.publish('volume', 'create', volume.Name, { driver: 'local' });
    sendJson(ctx, 201, volumeView(volume));
  });

  r.add('GET', /^\/volumes$/, async (ctx) => {
    const f = qfilters(ctx.query);
    for (const k of f.keys()) if (!['name', 'label', 'dangling', 'driver'].includes(k)) throw new RuntimeError('InvalidArgument', `invalid filter '${k}'`);
    const list = volumes.list().filter((v) => {
      if (f.get('name')?.length && !f.get('name')!.some((n) => v.Name.includes(n))) return false;
      if (f.get('driver')?.length && !f.get('driver')!.includes(v.Driver)) return false;
      if (f.get('dangling')?.length) {
        const want = ['true', '1'].includes(f.get('dangling')![0]!);
        if (want !== (e.volumeUsers(v.Name).length === 0)) return false;
      }
      for (const l of f.get('label') ?? []) {
        const [k, val] = l.split('=', 2) as [string, string?];
        if (!(k in v.Labels) || (val !== undefined && v.Labels[k] !== val)) return false;
      }
      return true;
    });
    sendJson(ctx, 200, { Volumes: list.map(volumeView), Warnings: [] });
  });

  r.add('POST', /^\/volumes\/prune$/, async (ctx) => {
    const f = qfilters(ctx.query);
    // Before API 1.42 prune removed named volumes too; since then only anonymous ones unless all.
    const all = (f.get('all') ?? []).some((v) => ['true', '1'].includes(v)) || compareVersions(ctx.version, '1.42') < 0;
    const deleted: string[] = [];
    let space = 0;
    for (const v of volumes.list()) {
      if (e.volumeUsers(v.Name).length) continue;
      if (!all && !v.Anonymous) continue;
      let ok = true;
      for (const l of f.get('label') ?? []) {
        const [k, val] = l.split('=', 2) as [string, string?];
        if (!(k in v.Labels) || (val !== undefined && v.Labels[k] !== val)) ok = false;
      }
      if (!ok) continue;
      const size = await volumes.size(v.Name);
      await volumes.remove(v.Name, []);
      events.publish('volume', 'destroy', v.Name, { driver: 'local' });
      deleted.push(v.Name);
      space += Math.max(0, size);
    }
    sendJson(ctx, 200, { VolumesDeleted: deleted, SpaceReclaimed: space });
  });

  r.add('GET', /^\/volumes\/([^/]+)$/, async (ctx) => sendJson(ctx, 200, volumeView(volumes.get(ctx.params[0]!))));

  r.add('DELETE', /^\/volumes\/([^/]+)$/, async (ctx) => {
    const name = ctx.params[0]!;
    const force = qbool(ctx.query, 'force');
    if (force && !volumes.has(name)) return sendEmpty(ctx, 204);
    await volumes.remove(name, e.volumeUsers(name), false);
    events.publish('volume', 'destroy', name, { driver: 'local' });
    sendEmpty(ctx, 204);
  });
}
