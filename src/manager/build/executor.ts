// The seam between the build driver and the engine: what a build step needs from images, snapshots
// and containers. The engine implements it on its own stores (a RUN is a container on a snapshot of
// the parent image, run through the shim; a commit is a diff of that snapshot turned into a layer).
// The driver (driver.ts) is written against this interface only.
import type { ImageConfig } from '../images/manifest';
import type { RunConfig } from './run-config';

/** An image as the builder sees it: its id (sha256 of the config) and its config. */
export type BuildImage = { id: string; config: ImageConfig };

/** Everything a RUN container is made with (dockerd's container + host config for a build step). */
export type RunSpec = {
  /** argv, shell already prepended for the shell form; no entrypoint is used. */
  cmd: string[];
  env: string[];
  /** USER as written ("name", "uid:gid"); resolved inside the container's rootfs. */
  user: string;
  /** Working directory; created (root, 0755) when missing, as docker run does. */
  workdir: string;
  /** Paths of the image's VOLUMEs: mounted as fresh volumes so RUN changes there are not committed. */
  volumes: string[];
  /** --network of the build ("" = default bridge, "host", "none", a network name). */
  network: string;
  /** --add-host entries ("name:ip"). */
  extraHosts: string[];
  /** Files that must exist while the step runs but never reach the layer (heredoc scripts in /dev/pipes). */
  files: { path: string; data: string; mode: number }[];
  shmSize?: number;
  resources?: { memory?: number; memorySwap?: number; cpuShares?: number; cpuPeriod?: number; cpuQuota?: number; cpusetCpus?: string; cpusetMems?: string; cgroupParent?: string };
};

/** Output of a running step. */
export type StepIO = { stdout(chunk: Buffer): void; stderr(chunk: Buffer): void };

/** What a commit writes into the new image config and its history. */
export type CommitSpec = {
  /** The new image's config (`config`). */
  config: RunConfig & { Image?: string };
  /** The step's container config (`container_config`); its Cmd joined is the history's created_by. */
  containerConfig: RunConfig & { Image?: string };
  /** MAINTAINER of the stage ("" = none). */
  author: string;
  /** History entry text (dockerd: the container config's Cmd joined with spaces). */
  createdBy: string;
  /** os/architecture for an image whose parent is scratch. */
  platform: { os: string; architecture: string; variant?: string };
};

/**
 * A writable container filesystem on top of an image (a snapshot prepared from the image's layers,
 * mounted), and the container that runs in it. release() removes both; it is always called, also
 * after a failure, and must be idempotent.
 */
export interface WorkingLayer {
  /** The container id (64 hex); printed as "Running in <12>". */
  readonly id: string;
  /** Host path of the mounted root filesystem (COPY/ADD/WORKDIR write here directly). */
  readonly rootfs: string;
  /** Runs spec in a container on this filesystem, streaming output; resolves with the exit status. */
  run(spec: RunSpec, io: StepIO, signal: AbortSignal): Promise<{ exitCode: number }>;
  /** Turns the changes into a layer and a child image of the layer's parent; returns the image id. */
  commit(spec: CommitSpec): Promise<string>;
  release(): Promise<void>;
}

/** A read-only view of an image's files (COPY --from). */
export type MountedImage = { rootfs: string; release(): Promise<void> };

/** Pull progress and other JSON messages the executor forwards into the build's stream. */
export type ProgressSink = (msg: Record<string, unknown>) => void;

export interface Executor {
  /**
   * The image a FROM or COPY --from names: the local one, pulled (with progress) when missing or when
   * pull is set. localOnly refuses to pull. Throws NotFound with the engine's wording.
   */
  resolveImage(name: string, opts: { platform?: string; pull: boolean; localOnly?: boolean }, progress: ProgressSink): Promise<BuildImage>;
  /** An image by id, or undefined when it no longer exists (a cache record's image may be gone). */
  getImage(id: string): Promise<BuildImage | undefined>;
  /** True when the image with this id exists (a cache hit needs no more than that). */
  hasImage(id: string): Promise<boolean>;
  /** A working layer on image (id; "" is scratch). */
  prepare(image: string, signal: AbortSignal): Promise<WorkingLayer>;
  /** A child image of parent with no new layer (metadata steps). Returns its id. */
  commitConfig(parent: string, spec: CommitSpec): Promise<string>;
  /** Mounts an image read-only ("" gives an empty directory). */
  mountImage(id: string): Promise<MountedImage>;
  /** Points each name (already normalised, "docker.io/library/x:latest") at the image. */
  tag(id: string, names: readonly string[]): Promise<void>;
}
