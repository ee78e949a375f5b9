// The builder's Executor on the dock engine: images from the engine's stores (pulled through the
// engine's pull code when missing), a working layer per step that is a real engine container (its
// snapshot on the parent image's chain, mounted on the bundle's rootfs, run through the shim by the
// same start/exit path as `docker run`, removed with its anonymous volumes by release()), commits via
// commitSnapshot (the snapshot adopted as the new chain). Build containers carry BUILD_LABEL so a
// daemon killed mid-build removes them at start-up (cleanupBuilds); FROM scratch layers and COPY
// --from views are plain snapshots ("build-…") mounted under <exec-root>/build. Throws; never prints.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { errors, messageOf, RuntimeError } from '../../errors/index';
import type { Logger } from '../../log/index';
import { dockerConfig } from '../containers/commit';
import type { Engine } from '../containers/engine';
import { kill, start } from '../containers/lifecycle';
import { mountSnapshot, unmountDir } from '../containers/rootfs';
import type { ContainerConfig } from '../containers/types';
import type { Leases } from '../leases';
import { MediaType, parsePlatform, type ImageConfig, type ImageManifest } from '../images/manifest';
import { progressLine } from '../images/progress';
import { pullImage } from '../images/pull';
import { formatReference, parseNormalized } from '../images/reference';
import type { RegistryClient } from '../images/registry/client';
import { tagImage } from '../images/remove';
import { hasImage, resolveImage, type LocalImage } from '../images/resolve';
import { commitSnapshot } from '../snapshots/commit';
import type { FsReader } from '../snapshots/layer-writer';
import { unpackImage } from '../snapshots/unpack';
import type { BuildImage, CommitSpec, Executor, MountedImage, ProgressSink, RunSpec, StepIO, WorkingLayer } from './executor';
import { mkdirAllInRoot } from './fs-scoped';

/** Label on every build container: the daemon removes such containers when it starts. */
export const BUILD_LABEL = 'dev.keel.dock.build';
const SNAPSHOT_PREFIX = 'build-';

export type EngineExecutorOptions = {
  engine: Engine;
  fsr: FsReader;
  leases?: Leases;
  /** A registry client for this build's pulls (credentials of X-Registry-Config). */
  client: () => RegistryClient;
  /** The daemon has a default bridge ("" network = bridge, else none). */
  hasBridge: boolean;
  /** The build's --network, --add-host, --shm-size and resource limits. */
  network: string;
  extraHosts: string[];
  shmSize?: number;
  resources?: RunSpec['resources'];
  log?: Logger;
};

const nowSuffix = () => randomBytes(8).toString('hex');

export class EngineExecutor implements Executor {
  private readonly e: Engine;
  constructor(private readonly o: EngineExecutorOptions) {
    this.e = o.engine;
  }

  private get deps() {
    return { content: this.e.d.content, images: this.e.d.images, snapshotter: this.e.d.snapshotter };
  }

  private buildDir(): string {
    return path.join(this.e.d.config.execRoot, 'build');
  }

  private async local(ref: string): Promise<LocalImage | undefined> {
    try {
      return (await resolveImage(this.deps, ref)).image;
    } catch (err) {
      if (err instanceof RuntimeError && err.kind === 'NotFound') return undefined;
      throw err;
    }
  }

  async resolveImage(name: string, opts: { platform?: string; pull: boolean; localOnly?: boolean }, progress: ProgressSink): Promise<BuildImage> {
    const have = /^(sha256:)?[a-f0-9]{64}$/.test(name) || !opts.pull ? await this.local(name) : undefined;
    if (have) return { id: have.id, config: have.config };
    if (opts.localOnly) throw errors.notFound(`No such image: ${name}`);
    let ref;
    try {
      ref = parseNormalized(name);
    } catch {
      throw errors.invalid('invalid reference format');
    }
    if (ref.tag === undefined && ref.digest === undefined) ref.tag = 'latest';
    const client = this.o.client();
    try {
      const res = await pullImage({ ...this.deps, client, ...(this.o.leases ? { leases: this.o.leases } : {}) }, ref, {
        ...(opts.platform ? { platform: parsePlatform(opts.platform) } : {}),
        progress: (ev) => progress(progressLine(ev)),
      });
      if (res.record.repoDigest) progress({ status: `Digest: ${res.record.repoDigest}` });
      progress({ status: `Status: ${res.upToDate ? 'Image is up to date for' : 'Downloaded newer image for'} ${name}` });
      const img = await this.local(formatReference(ref));
      if (!img) throw errors.notFound(`No such image: ${name}`);
      this.e.d.events.publish('image', 'pull', name, { name });
      return { id: img.id, config: img.config };
    } finally {
      await client.close();
    }
  }

  hasImage(id: string): Promise<boolean> {
    return hasImage(this.deps, id);
  }

  async getImage(id: string): Promise<BuildImage | undefined> {
    const img = await this.local(id);
    return img && { id: img.id, config: img.config };
  }

  private networkMode(n: string): string {
    if (n === '' || n === 'default') return this.o.hasBridge ? 'default' : 'none';
    return n;
  }

  async prepare(image: string, signal: AbortSignal): Promise<WorkingLayer> {
    if (signal.aborted) throw new RuntimeError('Canceled', 'Build cancelled');
    if (image === '') return this.prepareScratch();
    const r = this.o.resources ?? {};
    const { Id: id } = await this.e.create(undefined, {
      Image: image,
      Cmd: ['/bin/sh', '-c', '#(nop) '],
      Entrypoint: [],
      Labels: { [BUILD_LABEL]: 'step' },
      HostConfig: {
        NetworkMode: this.networkMode(this.o.network),
        ExtraHosts: this.o.extraHosts,
        LogConfig: { Type: 'none', Config: {} },
        ...(this.o.shmSize ? { ShmSize: this.o.shmSize } : {}),
        ...(r.memory ? { Memory: r.memory } : {}),
        ...(r.memorySwap ? { MemorySwap: r.memorySwap } : {}),
        ...(r.cpuShares ? { CpuShares: r.cpuShares } : {}),
        ...(r.cpuPeriod ? { CpuPeriod: r.cpuPeriod } : {}),
        ...(r.cpuQuota ? { CpuQuota: r.cpuQuota } : {}),
        ...(r.cpusetCpus ? { CpusetCpus: r.cpusetCpus } : {}),
        ...(r.cpusetMems ? { CpusetMems: r.cpusetMems } : {}),
        ...(r.cgroupParent ? { CgroupParent: r.cgroupParent } : {}),
      },
    } as Parameters<Engine['create']>[1]);
    const rootfs = this.e.rootfsDir(id);
    const base = await this.local(image);
    const rec = this.e.find(id);
    const remount = async () => {
      await fs.mkdir(rootfs, { recursive: true, mode: 0o711 });
      await mountSnapshot(await this.e.d.snapshotter.mounts(rec.SnapshotKey), rootfs);
    };
    let released = false;
    let committed = false;
    const release = async () => {
      if (released) return;
      released = true;
      await this.e.remove(id, { force: true, volumes: true }).catch(async (err) => {
        if ((err as RuntimeError).kind === 'NotFound') return;
        this.o.log?.warn({ id, err: messageOf(err) }, 'remove build container');
      });
    };
    try {
      await remount();
    } catch (err) {
      await release();
      throw err;
    }
    return {
      id,
      rootfs,
      run: async (spec, io, sig) => {
        if (committed) throw errors.precondition(`build container ${id} is already committed`);
        return this.runStep(id, spec, io, sig, remount);
      },
      commit: async (spec) => {
        committed = true;
        await unmountDir(rootfs);
        const r = await commitSnapshot(
          { ...this.deps, fsr: this.o.fsr },
          {
            key: rec.SnapshotKey,
            ...(base ? { base: { config: base.config, manifest: base.manifest } } : {}),
            config: dockerConfig(spec.config as ContainerConfig),
            createdBy: spec.createdBy,
            ...(spec.author ? { author: spec.author } : {}),
            extra: { container: id, container_config: dockerConfig(spec.containerConfig as ContainerConfig) },
            consumeSnapshot: true,
          },
        );
        return r.id;
      },
      release,
    };
  }

  /** Runs one RUN step in the container: its config set to spec, started, waited for; abort kills it. */
  private async runStep(id: string, spec: RunSpec, io: StepIO, signal: AbortSignal, remount: () => Promise<void>): Promise<{ exitCode: number }> {
    if (spec.files.length > 0) throw new RuntimeError('NotImplemented', 'RUN heredocs with a #! line need BuildKit');
    const rec = this.e.find(id);
    await remount();
    await mkdirAllInRoot(this.e.rootfsDir(id), spec.workdir || '/', 0o755);
    Object.assign(rec.Config, { Cmd: spec.cmd, Entrypoint: null, Env: spec.env, User: spec.user, WorkingDir: spec.workdir || '/' });
    rec.Path = spec.cmd[0]!;
    rec.Args = spec.cmd.slice(1);
    rec.HostConfig.NetworkMode = this.networkMode(spec.network);
    rec.HostConfig.ExtraHosts = spec.extraHosts;
    await this.e.d.store.save(rec);
    const live = this.e.live(id);
    const listener = (stream: 'stdout' | 'stderr', data: Buffer) => (stream === 'stdout' ? io.stdout(data) : io.stderr(data));
    live.listeners.add(listener);
    const exit = live.nextExit();
    const onAbort = () => void kill(this.e, id, 'SIGKILL').catch(() => undefined);
    try {
      if (signal.aborted) throw new RuntimeError('Canceled', 'Build cancelled');
      await start(this.e, id);
      // Aborted while the start was under way: no 'abort' event will come any more.
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort);
      const x = await exit;
      await live.exitHandled;
      if (signal.aborted) throw new RuntimeError('Canceled', 'Build cancelled');
      return { exitCode: x.code };
    } finally {
      signal.removeEventListener('abort', onAbort);
      live.listeners.delete(listener);
    }
  }

  /** FROM scratch: a snapshot with no parent, mounted under <exec-root>/build; it cannot RUN. */
  private async prepareScratch(): Promise<WorkingLayer> {
    const key = `${SNAPSHOT_PREFIX}${nowSuffix()}`;
    const dir = path.join(this.buildDir(), key);
    const rootfs = path.join(dir, 'rootfs');
    const sn = this.e.d.snapshotter;
    await fs.mkdir(rootfs, { recursive: true, mode: 0o700 });
    let snap = false;
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      await unmountDir(rootfs).catch(() => undefined);
      if (snap) await sn.remove(key).catch((err) => (err as RuntimeError).kind !== 'NotFound' && this.o.log?.warn({ key, err: messageOf(err) }, 'remove build snapshot'));
      await fs.rm(dir, { recursive: true, force: true });
    };
    try {
      await sn.prepare(key, undefined, { [BUILD_LABEL]: 'scratch' });
      snap = true;
      await mountSnapshot(await sn.mounts(key), rootfs);
    } catch (err) {
      await release();
      throw err;
    }
    return {
      id: randomBytes(32).toString('hex'),
      rootfs,
      run: async (spec) => {
        throw new RuntimeError('Internal', `failed to create task for container: exec: "${spec.cmd[0]}": no such file or directory (the image is scratch)`);
      },
      commit: async (spec) => {
        await unmountDir(rootfs);
        const r = await commitSnapshot(
          { ...this.deps, fsr: this.o.fsr },
          {
            key,
            config: dockerConfig(spec.config as ContainerConfig),
            createdBy: spec.createdBy,
            ...(spec.author ? { author: spec.author } : {}),
            extra: { container_config: dockerConfig(spec.containerConfig as ContainerConfig) },
            consumeSnapshot: true,
          },
        );
        return r.id;
      },
      release,
    };
  }

  async commitConfig(parent: string, spec: CommitSpec): Promise<string> {
    const p = parent === '' ? undefined : await this.local(parent);
    if (parent !== '' && !p) throw errors.notFound(`No such image: ${parent}`);
    const created = new Date().toISOString();
    const pc = p?.config;
    const config: ImageConfig = {
      architecture: pc?.architecture ?? spec.platform.architecture,
      ...(spec.author ? { author: spec.author } : {}),
      config: dockerConfig(spec.config as ContainerConfig),
      container_config: dockerConfig(spec.containerConfig as ContainerConfig),
      created,
      history: [...(pc?.history ?? []), { created, ...(spec.author ? { author: spec.author } : {}), created_by: spec.createdBy, empty_layer: true }],
      os: pc?.os ?? spec.platform.os,
      rootfs: { type: 'layers', diff_ids: [...(pc?.rootfs.diff_ids ?? [])] },
      ...((pc?.variant ?? spec.platform.variant) ? { variant: pc?.variant ?? spec.platform.variant } : {}),
    } as ImageConfig;
    const c = this.e.d.content;
    const cblob = await c.put(Buffer.from(JSON.stringify(config)));
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: cblob.digest, size: cblob.size },
      layers: p?.manifest.layers ?? [],
    };
    const mblob = await c.put(Buffer.from(JSON.stringify(manifest)));
    await this.e.d.images.put({ name: cblob.digest, target: { mediaType: MediaType.ociManifest, digest: mblob.digest, size: mblob.size }, createdAt: created });
    return cblob.digest;
  }

  async mountImage(id: string): Promise<MountedImage> {
    const key = `${SNAPSHOT_PREFIX}view-${nowSuffix()}`;
    const dir = path.join(this.buildDir(), key);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    if (id === '') return { rootfs: dir, release: () => fs.rm(dir, { recursive: true, force: true }) };
    const img = await this.local(id);
    if (!img) throw errors.notFound(`No such image: ${id}`);
    const sn = this.e.d.snapshotter;
    const top = await unpackImage(this.deps, img.manifest, img.config);
    const rootfs = path.join(dir, 'rootfs');
    await fs.mkdir(rootfs);
    let snap = false;
    const release = async () => {
      await unmountDir(rootfs).catch(() => undefined);
      if (snap) await sn.remove(key).catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    };
    try {
      await sn.view(key, top, { [BUILD_LABEL]: 'view' });
      snap = true;
      await mountSnapshot(await sn.mounts(key), rootfs);
    } catch (err) {
      await release();
      throw err;
    }
    return { rootfs, release };
  }

  async tag(id: string, names: readonly string[]): Promise<void> {
    for (const n of names) {
      await tagImage(this.deps, id, n);
      this.e.d.events.publish('image', 'tag', id, { name: n });
    }
  }
}

/**
 * Start-up cleanup after a daemon that died mid-build: build containers (killed, removed with their
 * volumes), build snapshots and their mounts under <exec-root>/build, the builds' work directories.
 */
export async function cleanupBuilds(e: Engine, workRoot: string, log: Logger): Promise<void> {
  for (const rec of e.d.store.all()) {
    if (rec.Config.Labels?.[BUILD_LABEL] === undefined) continue;
    await e.remove(rec.ID, { force: true, volumes: true }).catch((err) => log.warn({ id: rec.ID, err: messageOf(err) }, 'remove leftover build container'));
  }
  const dir = path.join(e.d.config.execRoot, 'build');
  for (const n of await fs.readdir(dir).catch(() => [] as string[])) await unmountDir(path.join(dir, n, 'rootfs')).catch(() => undefined);
  await fs.rm(dir, { recursive: true, force: true });
  for (const s of await e.d.snapshotter.list()) {
    if (!s.name.startsWith(SNAPSHOT_PREFIX)) continue;
    await e.d.snapshotter.remove(s.name).catch((err) => log.warn({ key: s.name, err: messageOf(err) }, 'remove leftover build snapshot'));
  }
  await fs.rm(workRoot, { recursive: true, force: true });
}
