// Runs the instructions of one stage with the classic builder's semantics (builder/dockerfile
// dispatchers.go, internals.go): the working config, cache probes and records, metadata commits,
// RUN in a container, COPY/ADD staged into a working layer, WORKDIR created, ONBUILD triggers, and the
// exact `Step`/` ---> ` text. Talks to the engine only through Executor; owns no processes.
import { randomBytes } from 'node:crypto';
import { errors, RuntimeError } from '../../errors/index';
import type { BuildArgs } from './build-args';
import { cacheKey, explainMiss, type BuildCache, type FileRecord } from './cache';
import { DirSource, type ContextSource } from './context';
import { parseChmod, resolveChown, stageCopy } from './copy-into';
import { normalizeDest, resolveCopySources, sourcesHash, type Downloader } from './copy-sources';
import type { BuildImage, CommitSpec, Executor, ProgressSink, WorkingLayer } from './executor';
import { expandInstruction, makeExpander } from './expand';
import { mkdirAllInRoot } from './fs-scoped';
import { goQuoteSlice, goSliceV } from './go-format';
import { chompHeredoc, parseDockerfile, parseHeredoc } from './parser';
import { parseInstructionNode, type CopyInstruction, type Instruction, type RunInstruction } from './instructions';
import type { StepWriter } from './output';
import {
  copyConfig,
  healthText,
  mergeHealth,
  nopCmd,
  nopCmdString,
  normalizeWorkdir,
  parsePorts,
  parseSignal,
  probeOf,
  setEnv,
  shellOf,
  type RunConfig,
} from './run-config';
import { findStage } from './stages';

/** A RUN that exited non-zero: dockerd's message, and the status the client exits with. */
export class RunFailedError extends RuntimeError {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super('FailedPrecondition', message);
    this.name = 'RunFailedError';
  }
}

export type StageResult = { imageId: string; config: RunConfig; platform: CommitSpec['platform'] };

/** What every stage of one build shares. */
export type BuildShared = {
  executor: Executor;
  cache: BuildCache;
  context: ContextSource | undefined;
  escapeToken: string;
  noCache: boolean;
  pull: boolean;
  platform?: string;
  remove: boolean;
  forceRemove: boolean;
  explain: boolean;
  network: string;
  extraHosts: string[];
  shmSize?: number;
  resources?: import('./executor').RunSpec['resources'];
  download?: Downloader;
  signal: AbortSignal;
  progress: ProgressSink;
  /** A built stage's result (waits for it). */
  stageResult(index: number): Promise<StageResult>;
  stages: import('./instructions').Stage[];
  debug?: (msg: string, fields?: Record<string, unknown>) => void;
};

type State = {
  imageId: string;
  config: RunConfig;
  maintainer: string;
  cmdSet: boolean;
  args: BuildArgs;
  busted: boolean;
  platform: CommitSpec['platform'];
};

const fakeContainerId = () => randomBytes(32).toString('hex');

export class StageRun {
  private st!: State;

  constructor(
    private readonly b: BuildShared,
    private readonly stageIndex: number,
    private readonly w: StepWriter,
  ) {}

  private get stageKey(): string {
    return this.b.stages[this.stageIndex]!.name || String(this.stageIndex);
  }

  /** Starts the stage from its base image (and runs inherited ONBUILD triggers). */
  async begin(base: BuildImage | undefined, args: BuildArgs, platform: CommitSpec['platform']): Promise<void> {
    const cfg = copyConfig((base?.config.config as RunConfig | undefined) ?? {});
    const env = cfg.Env ?? [];
    if (!env.some((e) => e.startsWith('PATH='))) cfg.Env = [...env, 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];
    this.st = { imageId: base?.id ?? '', config: cfg, maintainer: '', cmdSet: false, args, busted: false, platform };
    const triggers = cfg.OnBuild ?? [];
    if (triggers.length > 0) {
      this.st.config.OnBuild = null;
      this.w.text(`# Executing ${triggers.length} build trigger${triggers.length > 1 ? 's' : ''}\n`);
      for (const t of triggers) {
        const parsed = parseDockerfile(t);
        if (parsed.nodes.length !== 1) throw errors.invalid('onbuild trigger should be a single expression');
        this.setStep(t);
        await this.dispatch(parseInstructionNode(parsed.nodes[0]!));
      }
    }
  }

  get imageId(): string {
    return this.st.imageId;
  }
  get config(): RunConfig {
    return this.st.config;
  }
  get platform(): CommitSpec['platform'] {
    return this.st.platform;
  }

  /** Runs one instruction; afterwards st.imageId is the step's image. */
  async dispatch(raw: Instruction): Promise<void> {
    const env = this.st.config.Env ?? [];
    const x = makeExpander(this.b.escapeToken, [...env, ...this.st.args.filterAllowed(env)]);
    const c = expandInstruction(raw, x);
    const cfg = this.st.config;
    switch (c.kind) {
      case 'env': {
        let e = cfg.Env ?? [];
        for (const kv of c.env) e = setEnv(e, kv.key, kv.value);
        cfg.Env = e;
        return this.commitMeta(`ENV ${c.env.map((kv) => `${kv.key}=${kv.value}`).join(' ')}`);
      }
      case 'maintainer':
        this.st.maintainer = c.maintainer;
        return this.commitMeta(`MAINTAINER ${c.maintainer}`);
      case 'label':
        cfg.Labels = { ...(cfg.Labels ?? {}) };
        for (const kv of c.labels) cfg.Labels[kv.key] = kv.value;
        return this.commitMeta(`LABEL ${c.labels.map((kv) => `${kv.key}=${kv.value}`).join(' ')}`);
      case 'onbuild':
        cfg.OnBuild = [...(cfg.OnBuild ?? []), c.expression];
        return this.commitMeta(`ONBUILD ${c.expression}`);
      case 'cmd':
        cfg.Cmd = c.prependShell ? [...shellOf(cfg), ...c.cmdLine] : c.cmdLine;
        cfg.ArgsEscaped = false;
        await this.commitMeta(`CMD ${goQuoteSlice(cfg.Cmd)}`);
        if (c.cmdLine.length !== 0) this.st.cmdSet = true;
        return;
      case 'entrypoint':
        cfg.Entrypoint = c.cmdLine === null ? null : c.prependShell ? [...shellOf(cfg), ...c.cmdLine] : c.cmdLine;
        cfg.ArgsEscaped = false;
        if (!this.st.cmdSet) cfg.Cmd = null;
        return this.commitMeta(`ENTRYPOINT ${goQuoteSlice(cfg.Entrypoint)}`);
      case 'healthcheck': {
        const old = cfg.Healthcheck;
        if (old && old.Test.length > 0 && old.Test[0] !== 'NONE') this.w.text(`Note: overriding previous HEALTHCHECK: ${goSliceV(old.Test)}\n`);
        cfg.Healthcheck = c.health;
        const comment = `HEALTHCHECK ${healthText(c.health)}`;
        // dockerd fills the zero fields from the parent image when it creates the step's container.
        return this.commitMeta(comment, () => (cfg.Healthcheck = mergeHealth(c.health, old)));
      }
      case 'expose': {
        const ports = parsePorts(c.ports);
        cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}) };
        for (const p of ports) cfg.ExposedPorts[p] = {};
        return this.commitMeta(`EXPOSE ${c.ports.join(' ')}`);
      }
      case 'user':
        cfg.User = c.user;
        return this.commitMeta(`USER ${c.user}`);
      case 'volume':
        cfg.Volumes = { ...(cfg.Volumes ?? {}) };
        for (const v of c.volumes) {
          if (v === '') throw errors.invalid('VOLUME specified can not be an empty string');
          cfg.Volumes[v] = {};
        }
        return this.commitMeta(`VOLUME ${goSliceV(c.volumes)}`);
      case 'stopsignal':
        parseSignal(c.signal);
        cfg.StopSignal = c.signal;
        return this.commitMeta(`STOPSIGNAL ${c.signal}`);
      case 'arg':
        for (const a of c.args) this.st.args.addArg(a.key, a.value);
        return this.commitMeta(`ARG ${c.args.map((a) => (a.value === undefined ? a.key : `${a.key}=${a.value}`)).join(' ')}`);
      case 'shell':
        cfg.Shell = c.shell;
        return this.commitMeta(`SHELL ${goSliceV(c.shell)}`);
      case 'workdir':
        return this.workdir(c.path);
      case 'run':
        return this.run(c);
      case 'copy':
      case 'add':
        return this.copy(c);
    }
  }

  /** dockerd's probeCache: a hit prints "Using cache" and moves the stage onto the cached image. */
  private async probe(probe: RunConfig, step: string, sources?: { hash: string; files: FileRecord[] }): Promise<boolean> {
    const p = probeOf(probe);
    if (this.b.noCache || this.st.busted) {
      if (this.b.noCache && this.b.explain && !this.st.busted) this.w.text(' ---> Cache miss: --no-cache\n');
      this.st.busted = true;
      return false;
    }
    const rec = await this.b.cache.get(cacheKey(this.st.imageId, p));
    if (rec && (await this.b.executor.hasImage(rec.image))) {
      this.w.usingCache();
      this.st.imageId = rec.image;
      return true;
    }
    if (rec) await this.b.cache.delete(rec.key);
    this.st.busted = true;
    const q = { parent: this.st.imageId, probe: p, stage: this.stageKey, step, ...(sources ? { sources: sources.hash, files: sources.files } : {}) };
    if (this.b.explain || this.b.debug) {
      const why = await explainMiss(this.b.cache, q);
      this.b.debug?.('build cache miss', { stage: this.stageKey, step, reason: why });
      if (this.b.explain) this.w.text(` ---> Cache miss: ${why}\n`);
    }
    return false;
  }

  private async record(parent: string, probe: RunConfig, image: string, step: string, sources?: { hash: string; files: FileRecord[] }): Promise<void> {
    const rec = { key: cacheKey(parent, probeOf(probe)), parent, image, created: new Date().toISOString(), stage: this.stageKey, step, probe: probeOf(probe), ...(sources ? { sources: sources.hash } : {}) };
    await this.b.cache.put(rec, sources?.files);
  }

  private commitSpec(containerConfig: RunConfig): CommitSpec {
    const parent = this.st.imageId;
    return {
      config: { ...copyConfig(this.st.config), Image: parent },
      containerConfig: { ...copyConfig(containerConfig), Image: parent },
      author: this.st.maintainer,
      createdBy: (containerConfig.Cmd ?? []).join(' '),
      platform: this.st.platform,
    };
  }

  private currentStep = '';

  /** Sets the instruction text used by cache records (the step as written). */
  setStep(text: string): void {
    this.currentStep = text;
  }

  /** A metadata step: probe, else commit a config-only child image (dockerd's commit()). */
  private async commitMeta(comment: string, beforeCommit?: () => void): Promise<void> {
    const probe = copyConfig(this.st.config);
    probe.Cmd = nopCmd(this.st.config, comment);
    if (await this.probe(probe, this.currentStep)) return;
    beforeCommit?.();
    // dockerd creates (and removes) a container for these steps; dock commits the config directly
    // and prints the same lines, with an id that names no container.
    const ctr = fakeContainerId();
    this.w.runningIn(ctr);
    const parent = this.st.imageId;
    const id = await this.b.executor.commitConfig(parent, this.commitSpec(probe));
    await this.record(parent, probe, id, this.currentStep);
    this.st.imageId = id;
    if (this.b.remove || this.b.forceRemove) this.w.removing(ctr);
  }

  /** Prepares a working layer, runs fn in it, commits, and always releases it. */
  private async withLayer(fn: (l: WorkingLayer) => Promise<void>, containerConfig: RunConfig, announce: boolean, sources?: { hash: string; files: FileRecord[] }): Promise<void> {
    const parent = this.st.imageId;
    const layer = await this.b.executor.prepare(parent, this.b.signal);
    let ok = false;
    try {
      if (announce) this.w.runningIn(layer.id);
      await fn(layer);
      const id = await layer.commit(this.commitSpec(containerConfig));
      await this.record(parent, containerConfig, id, this.currentStep, sources);
      this.st.imageId = id;
      ok = true;
    } finally {
      await layer.release();
      if (announce && (this.b.forceRemove || (ok && this.b.remove))) this.w.removing(layer.id);
    }
  }

  private async workdir(p: string): Promise<void> {
    const cfg = this.st.config;
    cfg.WorkingDir = normalizeWorkdir(cfg.WorkingDir ?? '', p);
    const probe = copyConfig(cfg);
    probe.Cmd = nopCmdString(cfg, `WORKDIR ${cfg.WorkingDir}`);
    if (await this.probe(probe, this.currentStep)) return;
    const dir = cfg.WorkingDir;
    await this.withLayer(async (l) => {
      await mkdirAllInRoot(l.rootfs, dir, 0o755);
    }, probe, true);
  }

  /** The argv of a RUN, with BuildKit's heredoc handling, and the files it needs at run time. */
  private runCommand(c: RunInstruction): { cmd: string[]; files: { path: string; data: string; mode: number }[] } {
    let args = c.cmdLine;
    const files: { path: string; data: string; mode: number }[] = [];
    if (c.files.length > 0) {
      if (args.length !== 1 || !c.prependShell) throw errors.invalid(`parsing produced an invalid run command: ${goSliceV(args)}`);
      const first = c.files[0]!;
      if (parseHeredoc(args[0]!)) {
        const data = first.chomp ? chompHeredoc(first.data) : first.data;
        if (first.data.startsWith('#!')) {
          files.push({ path: `/dev/pipes/${first.name}`, data, mode: 0o755 });
          args = [`/dev/pipes/${first.name}`];
        } else args = [data];
      } else args = [args[0] + c.files.map((f) => `\n${f.data}${f.name}`).join('')];
    }
    return { cmd: c.prependShell ? [...shellOf(this.st.config), ...args] : args, files };
  }

  private async run(c: RunInstruction): Promise<void> {
    const cfg = this.st.config;
    const { cmd, files } = this.runCommand(c);
    const argEnv = this.st.args.filterAllowed(cfg.Env ?? []);
    let saveCmd = cmd;
    if (argEnv.length > 0) {
      const kept = argEnv.filter((e) => this.st.args.isReferencedOrNotBuiltin(e.slice(0, e.indexOf('=')))).sort();
      saveCmd = [`|${kept.length}`, ...kept, ...cmd];
    }
    const probe = copyConfig(cfg);
    probe.Cmd = saveCmd;
    probe.ArgsEscaped = false;
    if (saveCmd.length > 0) probe.Entrypoint = null;
    if (await this.probe(probe, this.currentStep)) return;
    await this.withLayer(async (l) => {
      const res = await l.run(
        {
          cmd,
          env: [...(cfg.Env ?? []), ...argEnv],
          user: cfg.User ?? '',
          workdir: cfg.WorkingDir || '/',
          volumes: Object.keys(cfg.Volumes ?? {}),
          network: this.b.network,
          extraHosts: this.b.extraHosts,
          files,
          ...(this.b.shmSize !== undefined ? { shmSize: this.b.shmSize } : {}),
          ...(this.b.resources ? { resources: this.b.resources } : {}),
        },
        { stdout: (d) => this.w.stdout(d.toString()), stderr: (d) => this.w.stderr(d.toString()) },
        this.b.signal,
      );
      if (res.exitCode !== 0) throw new RunFailedError(`The command '${cmd.join(' ')}' returned a non-zero code: ${res.exitCode}`, res.exitCode);
    }, probe, true);
  }

  /** The ContextSource of COPY --from: a stage's or an image's files, mounted read-only. */
  private async fromSource(from: string): Promise<{ source: ContextSource; release: () => Promise<void> }> {
    let imageId: string;
    let ix: number | undefined;
    try {
      ix = findStage(this.b.stages, from, this.stageIndex, true);
    } catch (e) {
      throw errors.invalid((e as Error).message);
    }
    if (ix !== undefined) imageId = (await this.b.stageResult(ix)).imageId;
    else {
      try {
        imageId = (await this.b.executor.resolveImage(from, { pull: this.b.pull, ...(this.b.platform ? { platform: this.b.platform } : {}) }, this.b.progress)).id;
      } catch (e) {
        throw errors.invalid(`invalid from flag value ${from}: ${(e as Error).message}`);
      }
    }
    const m = await this.b.executor.mountImage(imageId);
    return { source: new DirSource(m.rootfs), release: m.release };
  }

  private async copy(c: CopyInstruction): Promise<void> {
    const cmdName = c.kind === 'copy' ? 'COPY' : 'ADD';
    const chmod = c.chmod !== '' ? parseChmod(c.chmod) : undefined;
    const mount = c.from !== '' ? await this.fromSource(c.from) : undefined;
    try {
      const files: FileRecord[] = [];
      const infos = await resolveCopySources({
        cmdName,
        sources: c.sources,
        contents: c.contents,
        dest: c.dest,
        source: mount ? mount.source : this.b.context,
        fromImage: mount !== undefined,
        ...(this.b.download ? { download: this.b.download } : {}),
        collect: files,
      });
      const hash = sourcesHash(infos);
      const chownComment = c.chown !== '' ? `--chown=${c.chown}` : '';
      const chmodComment = c.chmod !== '' ? `--chmod=${c.chmod} ` : '';
      const probe = copyConfig(this.st.config);
      probe.Cmd = nopCmdString(this.st.config, `${cmdName} ${chmodComment}${chownComment}${hash} in ${c.dest} `);
      const sources = { hash, files };
      if (await this.probe(probe, this.currentStep, sources)) return;
      const dest = normalizeDest(this.st.config.WorkingDir ?? '', c.dest);
      await this.withLayer(async (l) => {
        const identity = c.chown !== '' ? await resolveChown(c.chown, l.rootfs) : mount ? undefined : { uid: 0, gid: 0 };
        await stageCopy({ rootfs: l.rootfs, dest, infos, ...(identity ? { identity } : {}), ...(chmod !== undefined ? { chmod } : {}), decompress: c.kind === 'add' });
      }, probe, false, sources);
    } finally {
      await mount?.release();
    }
  }
}
