// The container engine: records (create, rename, remove, prune), the per-container lock, live
// state and waiters. Starting, stopping and exits are in lifecycle.ts, exec in exec.ts, daemon
// start-up in restore.ts; they all work on this object. Errors use Docker's wording.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { RuntimeError, messageOf } from '../../errors/index';
import type { Logger } from '../../log/index';
import type { Sys } from '../../native/index';
import type { ContentStore } from '../content/index';
import type { EventBus } from '../events';
import type { ImageStore } from '../images/image-store';
import { resolveImage, type LocalImage } from '../images/resolve';
import type { Snapshotter } from '../snapshots/index';
import { unmountDir as unmountAll } from './rootfs';
import { prepareContainerRootfs, unpackImage } from '../snapshots/unpack';
import { KeyedMutex } from '../fs-util';
import { jsonFileOptions } from '../logs/jsonfile';
import type { ShimManager } from '../tasks/shim';
import type { VolumeStore } from '../volumes/store';
import { validateCapabilities } from './capabilities';
import { Live } from './live';
import { resolveMounts } from './mounts';
import type { NetworkHooks } from './network-hooks';
import { ContainerStore, newContainerId, randomName, validateName } from './store';
import { ZERO_TIME, type ContainerConfig, type ContainerRecord, type HostConfig } from './types';

export type EngineConfig = {
  dataRoot: string;
  execRoot: string;
  /** Parent of every container's cgroup (dockerd --cgroup-parent; /dock by default). */
  cgroupParent: string;
  /** docker-init (tini) for --init. */
  initPath?: string;
  defaultUlimits: { Name: string; Soft: number; Hard: number }[];
  /** Log driver when a container names none. */
  logDriver: 'json-file' | 'none';
  logOpts: Record<string, string>;
};

export type EngineDeps = {
  store: ContainerStore;
  volumes: VolumeStore;
  events: EventBus;
  shims: ShimManager;
  sys: Pick<Sys, 'mkfifo'>;
  content: ContentStore;
  images: ImageStore;
  snapshotter: Snapshotter;
  network: NetworkHooks;
  log: Logger;
  config: EngineConfig;
};

export type CreateRequest = ContainerConfig & { HostConfig?: HostConfig; NetworkingConfig?: { EndpointsConfig?: Record<string, unknown> } };

const nowIso = () => new Date().toISOString().replace(/(\.\d{3})Z$/, '$1000000Z');

export class Engine {
  readonly lock = new KeyedMutex();
  private readonly lives = new Map<string, Live>();
  shuttingDown = false;

  constructor(readonly d: EngineDeps) {}

  live(id: string): Live {
    let l = this.lives.get(id);
    if (!l) {
      l = new Live();
      this.lives.set(id, l);
    }
    return l;
  }

  dropLive(id: string): void {
    this.lives.delete(id);
  }

  bundleDir(id: string): string {
    return path.join(this.d.config.execRoot, 'containers', id);
  }

  rootfsDir(id: string): string {
    return path.join(this.bundleDir(id), 'rootfs');
  }

  logPath(rec: ContainerRecord): string {
    return path.join(this.d.store.containerDir(rec.ID), `${rec.ID}-json.log`);
  }

  find(ref: string): ContainerRecord {
    return this.d.store.find(ref);
  }

  /** Event attributes Docker attaches to container events (image, name, labels). */
  attrs(rec: ContainerRecord, extra: Record<string, string> = {}): Record<string, string> {
    return { ...(rec.Config.Labels ?? {}), image: rec.Config.Image ?? '', name: rec.Name.replace(/^\//, ''), ...extra };
  }

  event(rec: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.d.events.publish('container', action, rec.ID, this.attrs(rec, extra));
  }

  async image(ref: string): Promise<LocalImage> {
    return (await resolveImage({ content: this.d.content, images: this.d.images }, ref)).image;
  }

  /** POST /containers/create. */
  async create(name: string | undefined, req: CreateRequest): Promise<{ Id: string; Warnings: string[] }> {
    if (!req.Image) throw new RuntimeError('InvalidArgument', 'Config cannot be empty in order to create a container');
    const hc: HostConfig = { ...(req.HostConfig ?? {}) };
    const warnings: string[] = [];
    validateHostConfig(hc);
    // Unknown capabilities are a 400 at create, as in dockerd, not a failed start.
    if (!hc.Privileged) validateCapabilities({ capAdd: hc.CapAdd ?? [], capDrop: hc.CapDrop ?? [] });
    const img = await this.image(req.Image);
    const ic = img.config.config ?? {};
    const config: ContainerConfig = { ...req };
    delete (config as CreateRequest).HostConfig;
    delete (config as CreateRequest).NetworkingConfig;
    // Docker's merge of the image config into the container's (daemon/create.go, runconfig merge).
    const env = new Map<string, string>();
    for (const e of [...(ic.Env ?? []), ...(req.Env ?? [])]) env.set(e.split('=', 1)[0]!, e);
    config.Env = [...env.values()];
    const userEntrypoint = req.Entrypoint && req.Entrypoint.length > 0 ? req.Entrypoint : undefined;
    const emptyEntrypoint = Array.isArray(req.Entrypoint) && req.Entrypoint.length === 0 ? true : false;
    config.Entrypoint = userEntrypoint ?? (emptyEntrypoint ? null : (ic.Entrypoint ?? null));
    config.Cmd = req.Cmd && req.Cmd.length > 0 ? req.Cmd : userEntrypoint || emptyEntrypoint ? null : (ic.Cmd ?? null);
    config.WorkingDir = req.WorkingDir || ic.WorkingDir || '';
    config.User = req.User || ic.User || '';
    config.ExposedPorts = { ...(ic.ExposedPorts ?? {}), ...(req.ExposedPorts ?? {}) };
    config.Volumes = { ...(ic.Volumes ?? {}), ...(req.Volumes ?? {}) };
    config.Labels = { ...(ic.Labels ?? {}), ...(req.Labels ?? {}) };
    config.StopSignal = req.StopSignal || ic.StopSignal || undefined;
    if (!req.Healthcheck && (ic as { Healthcheck?: ContainerConfig['Healthcheck'] }).Healthcheck) config.Healthcheck = (ic as { Healthcheck?: ContainerConfig['Healthcheck'] }).Healthcheck;
    if (config.WorkingDir && !config.WorkingDir.startsWith('/')) throw new RuntimeError('InvalidArgument', `the working directory '${config.WorkingDir}' is invalid, it needs to be an absolute path`);
    const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
    if (argv.length === 0) throw new RuntimeError('InvalidArgument', 'No command specified');
    hc.NetworkMode ||= 'default';
    hc.LogConfig = hc.LogConfig?.Type ? hc.LogConfig : { Type: this.d.config.logDriver, Config: { ...this.d.config.logOpts, ...(hc.LogConfig?.Config ?? {}) } };
    if (hc.LogConfig.Type === 'json-file') jsonFileOptions(hc.LogConfig.Config);
    else if (hc.LogConfig.Type !== 'none') throw new RuntimeError('InvalidArgument', `logger: no log driver named '${hc.LogConfig.Type}' is registered`);
    hc.RestartPolicy ??= { Name: 'no', MaximumRetryCount: 0 };
    if (!hc.RestartPolicy.Name) hc.RestartPolicy.Name = 'no';
    await this.d.network.validate({ HostConfig: hc, Config: config }, req.NetworkingConfig?.EndpointsConfig ?? {});

    const id = newContainerId();
    const n = name ? validateName(name) : randomName((x) => this.d.store.nameTaken(x) !== undefined);
    this.d.store.reserveName(n, id);
    config.Hostname ||= id.slice(0, 12);
    const rec: ContainerRecord = {
      ID: id,
      Created: nowIso(),
      Path: argv[0]!,
      Args: argv.slice(1),
      State: { Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME },
      Image: img.id,
      Name: `/${n}`,
      RestartCount: 0,
      Driver: 'overlay2',
      Platform: 'linux',
      Config: config,
      HostConfig: hc,
      NetworkSettings: { Bridge: '', SandboxID: '', SandboxKey: '', Ports: {}, IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '', Networks: {} },
      MountPoints: [],
      SnapshotKey: `container-${id}`,
      HasBeenManuallyStopped: false,
      HasBeenStartedBefore: false,
      AnonymousVolumes: [],
    };
    let created: string[] = [];
    let snapshot = false;
    try {
      const top = await unpackImage({ content: this.d.content, snapshotter: this.d.snapshotter }, img.manifest, img.config);
      await prepareContainerRootfs(this.d.snapshotter, id, top);
      snapshot = true;
      const r = await resolveMounts({ volumes: this.d.volumes, findContainer: (x) => this.find(x) }, rec, []);
      created = r.createdVolumes;
      rec.MountPoints = r.mounts;
      rec.AnonymousVolumes = r.mounts.filter((m) => m.Type === 'volume' && m.Name && this.d.volumes.get(m.Name).Anonymous).map((m) => m.Name!);
      rec.NetworkSettings = await this.d.network.created(rec, req.NetworkingConfig?.EndpointsConfig ?? {});
      await this.d.store.save(rec);
    } catch (e) {
      this.d.store.releaseName(n, id);
      for (const v of created) await this.d.volumes.remove(v, [], true).catch(() => undefined);
      if (snapshot) await this.d.snapshotter.remove(rec.SnapshotKey).catch(() => undefined);
      await fs.rm(this.d.store.containerDir(id), { recursive: true, force: true });
      await this.d.network.removed(rec).catch(() => undefined);
      throw e;
    }
    this.event(rec, 'create');
    return { Id: id, Warnings: warnings };
  }

  /** DELETE /containers/{id}: a running container needs force (killed first). */
  async remove(ref: string, o: { force?: boolean; volumes?: boolean; link?: boolean }): Promise<void> {
    const rec = this.find(ref);
    if (o.link) throw new RuntimeError('InvalidArgument', `Conflict, cannot remove the default link name of the container`);
    const { stopForRemove } = await import('./lifecycle');
    await this.lock.run(rec.ID, async () => {
      if (rec.State.Status === 'removing') throw new RuntimeError('AlreadyExists', `removal of container ${rec.ID} is already in progress`);
      if (rec.State.Running || rec.State.Restarting) {
        if (!o.force) {
          const what = rec.State.Paused ? 'paused' : rec.State.Restarting ? 'restarting' : 'running';
          throw new RuntimeError(
            'AlreadyExists',
            `You cannot remove a ${what} container ${rec.ID}. ${what === 'paused' ? 'Unpause and then stop' : 'Stop'} the container before attempting removal or force remove`,
          );
        }
        await stopForRemove(this, rec);
      }
      await this.destroy(rec, !!o.volumes);
    });
  }

  /** Removes a stopped container's layer, files and record (and its anonymous volumes with v). */
  async destroy(rec: ContainerRecord, volumes: boolean): Promise<void> {
    const l = this.live(rec.ID);
    if (l.restartTimer) clearTimeout(l.restartTimer);
    rec.State.Status = 'removing';
    try {
      await unmountAll(this.rootfsDir(rec.ID)).catch(() => undefined);
      await fs.rm(this.bundleDir(rec.ID), { recursive: true, force: true });
      await this.d.snapshotter.remove(rec.SnapshotKey).catch((e) => {
        if ((e as RuntimeError).kind !== 'NotFound') throw e;
      });
      await this.d.network.removed(rec);
    } catch (e) {
      rec.State.Status = rec.State.Dead ? 'dead' : 'exited';
      throw new RuntimeError('Internal', `unable to remove filesystem for ${rec.ID}: ${messageOf(e)}`);
    }
    await this.d.store.remove(rec);
    if (volumes) {
      for (const v of rec.AnonymousVolumes) {
        if (this.volumeUsers(v).length === 0) await this.d.volumes.remove(v, [], true).catch((e) => this.d.log.warn({ volume: v, err: messageOf(e) }, 'remove anonymous volume'));
      }
    }
    this.event(rec, 'destroy');
    l.removed();
    this.dropLive(rec.ID);
  }

  /** Ids of containers that mount volume name. */
  volumeUsers(name: string): string[] {
    return this.d.store.all().filter((c) => c.MountPoints.some((m) => m.Type === 'volume' && m.Name === name)).map((c) => c.ID);
  }

  /** POST /containers/{id}/rename. */
  async rename(ref: string, newName: string): Promise<void> {
    const rec = this.find(ref);
    if (!newName) throw new RuntimeError('InvalidArgument', 'Neither old nor new names may be empty');
    const n = validateName(newName);
    await this.lock.run(rec.ID, async () => {
      const old = rec.Name;
      if (old === `/${n}`) throw new RuntimeError('InvalidArgument', 'Renaming a container with the same name as its current name');
      this.d.store.reserveName(n, rec.ID);
      rec.Name = `/${n}`;
      this.d.store.releaseName(old, rec.ID);
      await this.d.store.save(rec);
      await this.d.network.renamed(rec, old).catch(() => undefined);
      this.event(rec, 'rename', { oldName: old });
    });
  }

  /** POST /containers/prune: removes every stopped container matching the filters. */
  async prune(match: (rec: ContainerRecord) => boolean): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    const deleted: string[] = [];
    let space = 0;
    for (const rec of this.d.store.all()) {
      if (rec.State.Running || rec.State.Restarting || rec.State.Status === 'removing' || !match(rec)) continue;
      try {
        space += await this.layerSize(rec);
        await this.remove(rec.ID, {});
        deleted.push(rec.ID);
      } catch (e) {
        this.d.log.warn({ id: rec.ID, err: messageOf(e) }, 'prune');
      }
    }
    return { ContainersDeleted: deleted, SpaceReclaimed: space };
  }

  /** Size of the container's writable layer in bytes. */
  async layerSize(rec: ContainerRecord): Promise<number> {
    try {
      const upper = await this.d.snapshotter.upperDir(rec.SnapshotKey);
      return await duBytes(upper);
    } catch {
      return 0;
    }
  }
}

async function duBytes(dir: string): Promise<number> {
  let total = 0;
  const walk = async (d: string) => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) total += (await fs.lstat(p)).size;
    }
  };
  await walk(dir).catch(() => undefined);
  return total;
}

/** Checks HostConfig values dockerd refuses at create. */
export function validateHostConfig(hc: HostConfig): void {
  const rp = hc.RestartPolicy;
  if (rp && rp.Name) {
    if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(rp.Name)) throw new RuntimeError('InvalidArgument', `invalid restart policy '${rp.Name}'`);
    if ((rp.MaximumRetryCount ?? 0) < 0) throw new RuntimeError('InvalidArgument', 'maximum retry count cannot be negative');
    if (rp.Name !== 'on-failure' && (rp.MaximumRetryCount ?? 0) > 0) throw new RuntimeError('InvalidArgument', `maximum retry count cannot be used with restart policy '${rp.Name}'`);
    if (hc.AutoRemove && rp.Name !== 'no') throw new RuntimeError('InvalidArgument', `can't create 'AutoRemove' container with restart policy`);
  }
  if (hc.Memory && hc.Memory < 6 * 1024 * 1024) throw new RuntimeError('InvalidArgument', 'Minimum memory limit allowed is 6MB');
  if (hc.MemorySwap && hc.MemorySwap > 0 && hc.Memory && hc.MemorySwap < hc.Memory) throw new RuntimeError('InvalidArgument', 'Minimum memoryswap limit should be larger than memory limit, see usage');
  if (hc.MemorySwap && hc.MemorySwap > 0 && !hc.Memory) throw new RuntimeError('InvalidArgument', 'You should always set the Memory limit when using Memoryswap limit, see usage');
  if (hc.NanoCpus && (hc.CpuQuota || hc.CpuPeriod)) throw new RuntimeError('InvalidArgument', 'Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (hc.NanoCpus && hc.NanoCpus < 0) throw new RuntimeError('InvalidArgument', 'Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available');
  if (hc.ShmSize !== undefined && hc.ShmSize < 0) throw new RuntimeError('InvalidArgument', 'SHM size can not be less than 0');
  if (hc.OomScoreAdj !== undefined && (hc.OomScoreAdj < -1000 || hc.OomScoreAdj > 1000)) throw new RuntimeError('InvalidArgument', `Invalid value ${hc.OomScoreAdj}, range for oom score adj is [-1000, 1000]`);
  for (const [k, v] of Object.entries(hc.Tmpfs ?? {})) {
    if (!k.startsWith('/')) throw new RuntimeError('InvalidArgument', `invalid mount path: '${k}' mount path must be absolute`);
    void v;
  }
}
