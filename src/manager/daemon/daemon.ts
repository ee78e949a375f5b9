// `dock daemon`: builds the engine with explicit constructor calls (no registry), reconciles state
// with the shims, serves the Engine API on its hosts, and shuts down leaving containers running
// (live restore). One daemon per data root (flock on <data-root>/dock.lock).
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { RuntimeError, messageOf } from '../../errors/index';
import type { Logger } from '../../log/index';
import { LOCK_EX, LOCK_NB, realMemSys, realSys } from '../../native/index';
import { IdleRelease } from '../../util/idle-release';
import { Router } from '../api/http';
import { archiveRoutes } from '../api/routes/archive';
import { containerRoutes, type ContainerBackend } from '../api/routes/containers';
import { buildRoutes } from '../api/routes/build';
import { imageRoutes } from '../api/routes/images';
import { DiskBuildCache } from '../build/cache-disk';
import { cleanupBuilds } from '../build/engine-executor';
import { networkRoutes } from '../api/routes/networks';
import { systemRoutes } from '../api/routes/system';
import { ApiServer, type Listener, type TlsConfig } from '../api/server';
import { parseHost } from '../api/client';
import { Engine } from '../containers/engine';
import { ExecStore } from '../containers/exec';
import { BasicNetworking, type NetworkHooks } from '../containers/network-hooks';
import { restoreContainers } from '../containers/restore';
import { cleanupViews } from '../containers/rootfs-view';
import { ContainerStore } from '../containers/store';
import { EventBus } from '../events';
import { listImages } from '../images/resolve';
import { repoTags } from '../images/inspect';
import { familiarString, parseNormalized, formatReference } from '../images/reference';
import { gcSnapshots } from '../snapshots/unpack';
import { createBridgeNetworking } from '../network/hooks';
import { ShimManager } from '../tasks/shim';
import { VolumeStore } from '../volumes/store';
import { createDock } from '../wiring';
import { collectGarbage } from './gc';

export type DaemonOptions = {
  hosts: string[];
  dataRoot: string;
  execRoot: string;
  pidfile?: string;
  insecureRegistries: string[];
  defaultUlimits: { Name: string; Soft: number; Hard: number }[];
  /** Group owning unix sockets (else `dock` when it exists). */
  group?: string;
  tls?: TlsConfig;
  cgroupParent: string;
  shimBinary: string;
  initPath?: string;
  logDriver: 'json-file' | 'none';
  logOpts: Record<string, string>;
  version: string;
  commit: string;
  /** Device of the default bridge (dockerd -b/--bridge); 'none': no bridge networking at all. */
  bridge: string;
  /** --bip: the default bridge's address and prefix. */
  bip?: string;
  /** --iptables=false: no rules; published ports go through the in-daemon proxy only. */
  iptables: boolean;
};

/**
 * Quiet time after the last API request before the daemon hands memory back (a full GC and
 * malloc_trim, some 10-30 ms of CPU once per busy period): a daemon mostly sits idle with its
 * containers, and what the last burst of requests left behind is paid for until the next one.
 */
const IDLE_RELEASE_MS = 1000;

export type RunningDaemon = { listeners: Listener[]; engine: Engine; close(): Promise<void> };

function cgroupVersion(): '1' | '2' {
  return fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? '2' : '1';
}

/** Writes the pid file, refusing when it names a live process (dockerd's wording). */
async function writePidfile(file: string): Promise<void> {
  try {
    const old = Number((await fsp.readFile(file, 'utf8')).trim());
    if (old && old !== process.pid) {
      try {
        process.kill(old, 0);
        throw new RuntimeError('AlreadyExists', `pid file found, ensure dock is not running or delete ${file}: process with PID ${old} is still running`);
      } catch (e) {
        if (e instanceof RuntimeError) throw e;
      }
    }
  } catch (e) {
    if (e instanceof RuntimeError) throw e;
  }
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await fsp.writeFile(file, `${process.pid}`);
}

export async function runDaemon(o: DaemonOptions, log: Logger): Promise<RunningDaemon> {
  await fsp.mkdir(o.dataRoot, { recursive: true, mode: 0o710 });
  await fsp.mkdir(o.execRoot, { recursive: true, mode: 0o700 });
  const lockFd = fs.openSync(path.join(o.dataRoot, 'dock.lock'), 'a');
  try {
    realSys.flock(lockFd, LOCK_EX | LOCK_NB);
  } catch {
    fs.closeSync(lockFd);
    throw new RuntimeError('AlreadyExists', `another dock daemon is using ${o.dataRoot}`);
  }
  if (o.pidfile) await writePidfile(o.pidfile);
  const dock = createDock({ root: o.dataRoot, insecureRegistries: o.insecureRegistries, authConfig: path.join(o.dataRoot, 'config.json') });
  const store = new ContainerStore(path.join(o.dataRoot, 'containers'));
  await store.load((id, err) => log.warn({ id, err: messageOf(err) }, 'unreadable container record'));
  const volumes = new VolumeStore(path.join(o.dataRoot, 'volumes'));
  await volumes.load((name, err) => log.warn({ volume: name, err: messageOf(err) }, 'unreadable volume record'));
  const events = new EventBus();
  const ns = `dock-${createHash('sha256').update(o.execRoot).digest('hex').slice(0, 8)}`;
  const shims = new ShimManager({ binary: o.shimBinary, namespace: ns, stateDir: path.join(o.execRoot, 'shim'), log });
  const bridge =
    o.bridge === 'none'
      ? undefined
      : await createBridgeNetworking({
          dataRoot: o.dataRoot,
          execRoot: o.execRoot,
          log,
          defaultBridge: o.bridge,
          bip: o.bip,
          iptables: o.iptables,
          lookup: (ref) => {
            try {
              return store.find(ref);
            } catch {
              return undefined;
            }
          },
        });
  const network: NetworkHooks = bridge ?? new BasicNetworking();
  const engine = new Engine({
    store,
    volumes,
    events,
    shims,
    sys: realSys,
    content: dock.content,
    images: dock.images,
    snapshotter: dock.snapshotter,
    network,
    log,
    config: { dataRoot: o.dataRoot, execRoot: o.execRoot, cgroupParent: o.cgroupParent, initPath: o.initPath, defaultUlimits: o.defaultUlimits, logDriver: o.logDriver, logOpts: o.logOpts },
  });
  await shims.serveEvents((ev) => {
    const id = String(ev.event.containerId ?? '');
    if (ev.type === 'TaskOOM' && id && store.get(id)) engine.live(id).oomKilled = true;
  });
  await collectGarbage({ content: dock.content, images: dock.images, leases: dock.leases, dataRoot: o.dataRoot, log });
  await restoreContainers(engine);
  // Sandboxes of containers that did not survive went with their exits; whatever else is ours goes now.
  if (bridge) await bridge.controller.reconcile(store.all().filter((c) => c.State.Running).map((c) => c.ID));
  await cleanupViews(engine);
  const buildWork = path.join(o.dataRoot, 'build-work');
  await cleanupBuilds(engine, buildWork, log);

  const execs = new ExecStore();
  const imageDeps = { content: dock.content, images: dock.images };
  const imageNames = new Map<string, string>();
  const refreshNames = async () => {
    imageNames.clear();
    for (const img of await listImages(imageDeps)) imageNames.set(img.id, repoTags(img)[0] ?? '');
  };
  const backend: ContainerBackend = {
    engine,
    execs,
    imageName: (rec) => rec.Config.Image || rec.Image,
    imageMatches: (rec, ref) => {
      if (rec.Image === ref || rec.Image.slice(7).startsWith(ref)) return true;
      try {
        const want = parseNormalized(ref);
        if (want.tag === undefined && want.digest === undefined) want.tag = 'latest';
        const have = parseNormalized(rec.Config.Image ?? '');
        if (have.tag === undefined && have.digest === undefined) have.tag = 'latest';
        return formatReference(want) === formatReference(have) || familiarString(want) === imageNames.get(rec.Image);
      } catch {
        return false;
      }
    },
  };
  const router = new Router();
  systemRoutes(router, { engine, events, volumes, images: imageDeps, info: { id: randomBytes(16).toString('hex'), version: o.version, commit: o.commit, dataRoot: o.dataRoot, execRoot: o.execRoot, cgroupVersion: cgroupVersion(), insecureRegistries: o.insecureRegistries, startedAt: new Date() } });
  containerRoutes(router, backend);
  networkRoutes(router, { engine, bridge });
  archiveRoutes(router, { engine, fsr: realSys });
  imageRoutes(router, {
    content: dock.content,
    images: dock.images,
    leases: dock.leases,
    events,
    registry: { insecureRegistries: o.insecureRegistries },
    imageUsers: (id) => store.all().filter((c) => c.Image === id).map((c) => c.ID),
    gcSnapshots: async () => {
      const diffIds = (await listImages(imageDeps)).map((i) => i.config.rootfs.diff_ids);
      await gcSnapshots(dock.snapshotter, diffIds).catch((e) => log.warn({ err: messageOf(e) }, 'snapshot gc'));
    },
  });
  buildRoutes(router, {
    engine,
    fsr: realSys,
    leases: dock.leases,
    cache: new DiskBuildCache(path.join(o.dataRoot, 'build-cache')),
    workRoot: buildWork,
    hasBridge: bridge !== undefined,
    registry: { insecureRegistries: o.insecureRegistries },
    log,
  });
  void refreshNames();
  const idle = new IdleRelease(() => realMemSys.releaseMemory(), IDLE_RELEASE_MS);
  const server = new ApiServer(router, log, () => idle.touch());
  const listeners: Listener[] = [];
  try {
    for (const h of o.hosts) {
      const ep = parseHost(h);
      if (ep.kind === 'unix') listeners.push(await server.listenUnix(ep.socketPath, o.group));
      else listeners.push(await server.listenTcp(ep.host, ep.port, o.tls));
    }
  } catch (e) {
    await server.close();
    await shims.close();
    throw e;
  }
  log.info({ hosts: listeners.map((l) => l.host), dataRoot: o.dataRoot }, 'API listen');
  let closed = false;
  return {
    listeners,
    engine,
    async close() {
      if (closed) return;
      closed = true;
      engine.shuttingDown = true;
      idle.stop();
      await server.close();
      // A shim with no container left has nothing to serve: it goes when asked (live ones stay).
      await shims.shutdownIdle();
      await shims.close();
      await bridge?.controller.close();
      if (o.pidfile) await fsp.rm(o.pidfile, { force: true });
      fs.closeSync(lockFd);
    },
  };
}
