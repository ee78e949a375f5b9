// buildImage: one classic-builder build from a context tar to a tagged image, written against the
// Executor seam. Order of events as dockerd's: context → Dockerfile → stages → meta ARGs → each stage
// (FROM, ONBUILD triggers, instructions) → unused build-arg warning → "Successfully built/tagged".
// Stages the target does not need are skipped; independent stages run concurrently, their text held
// back so the stream reads as a sequential build. Failures before any output reject (the API answers
// with an HTTP error, as dockerd does); later ones end the stream with an error message.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { errors, messageOf, RuntimeError } from '../../errors/index';
import type { Logger } from '../../log/index';
import { familiarString, formatReference, type Reference } from '../images/reference';
import { hostPlatform, parsePlatform } from '../images/manifest';
import { BuildArgs } from './build-args';
import type { BuildCache } from './cache';
import type { ContextSource } from './context';
import { extractContext } from './context-extract';
import type { Downloader } from './copy-sources';
import { RunFailedError, StageRun, type BuildShared, type StageResult } from './dispatch';
import { makeMatcher, readIgnorePatterns } from './dockerignore';
import { httpDownloader } from './download';
import type { BuildImage, CommitSpec, Executor } from './executor';
import { makeExpander } from './expand';
import { toDockerfile, type Dockerfile, type Instruction } from './instructions';
import { BuildOutput, type MessageSink, type StepWriter } from './output';
import { DockerfileError, parseDockerfile } from './parser';
import { sanitizeTags, type BuildOptions } from './request';
import { planStages, type StagePlan } from './stages';

export type BuildEnv = {
  executor: Executor;
  cache: BuildCache;
  /** A new private directory for this build (the extracted context, downloads); removed afterwards. */
  workDir: string;
  /** Aborted when the client goes away or the daemon stops. */
  signal?: AbortSignal;
  log?: Logger;
  /** Fetches ADD URLs (default: HTTP(S) from this process). */
  download?: Downloader;
};

export type BuildResult = { imageId: string } | { error: string; code?: number };

type Prepared = {
  context: ContextSource;
  df: Dockerfile;
  plan: StagePlan;
  tags: Reference[];
  warnings: string[];
};

async function readDockerfile(ctx: ContextSource, name: string): Promise<{ text: string; name: string }> {
  const tryRead = async (n: string) => {
    const rel = await ctx.resolve(n);
    const st = await ctx.lstat(rel);
    if (!st || st.type === 'directory') return undefined;
    return (await ctx.readFile(rel)).toString('utf8');
  };
  const clean = name.replace(/^\.?\//, '');
  let text = await tryRead(clean);
  let used = clean;
  if (text === undefined && clean === 'Dockerfile') {
    text = await tryRead('dockerfile');
    used = 'dockerfile';
  }
  if (text === undefined) throw errors.invalid(`Cannot locate specified Dockerfile: ${name}`);
  if (text === '') throw errors.invalid(`the Dockerfile (${name}) cannot be empty`);
  return { text, name: used };
}

/** Everything that can fail before the first line of output: tags, context, Dockerfile, stages. */
async function prepare(req: BuildOptions, context: AsyncIterable<Buffer>, env: BuildEnv): Promise<Prepared> {
  const tags = sanitizeTags(req.tags);
  let extracted;
  try {
    extracted = await extractContext(context, path.join(env.workDir, 'context'));
  } catch (e) {
    throw new RuntimeError('InvalidArgument', `read build context: ${messageOf(e)}`, { cause: e });
  }
  const ctx = extracted.source;
  const { text, name } = await readDockerfile(ctx, req.dockerfile);
  let parsed;
  try {
    parsed = parseDockerfile(text);
  } catch (e) {
    if (e instanceof DockerfileError && e.line === 0) throw errors.invalid(`failed to parse ${name}: ${e.detail}`);
    throw e;
  }
  // dockerd drops the Dockerfile and .dockerignore from the context when .dockerignore excludes them.
  const ig = await ctx.lstat('.dockerignore');
  if (ig && ig.type === 'file') {
    const m = makeMatcher(readIgnorePatterns((await ctx.readFile('.dockerignore')).toString('utf8')));
    for (const f of ['.dockerignore', name]) if (m(f)) await ctx.remove(f);
  }
  const df = toDockerfile(parsed);
  const plan = planStages(df, req.target, req.buildArgs);
  // --label becomes LABEL instructions at the end of the target stage (buildLabelOptions).
  const target = df.stages[plan.target]!;
  for (const k of Object.keys(req.labels).sort()) {
    target.commands.push({ kind: 'label', labels: [{ key: k, value: req.labels[k]! }], noExpand: true, source: `LABEL ${k}=${req.labels[k]}`, line: 0, endLine: 0 } as Instruction);
  }
  const warnings = parsed.warnings.map((w) => `[WARNING]: ${w.message.replace('Empty continuation line found in: ', 'Empty continuation line found in:\n    ')}\n`);
  if (warnings.length) warnings.push('[WARNING]: Empty continuation lines will become errors in a future release.\n');
  return { context: ctx, df, plan, tags, warnings };
}

type Deferred<T> = { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void };
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => {
    resolve = a;
    reject = b;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/**
 * Builds req from the context tar onto env.executor, writing the JSON-message stream to sink.
 * Rejects only when nothing was written yet; otherwise resolves with the image or the error.
 */
export async function buildImage(req: BuildOptions, context: AsyncIterable<Buffer>, env: BuildEnv, sink: MessageSink): Promise<BuildResult> {
  // The work directory is made when something goes there (a context written out, a download).
  try {
    const p = await prepare(req, context, env);
    return await run(req, p, env, sink);
  } finally {
    await fs.rm(env.workDir, { recursive: true, force: true });
  }
}

async function run(req: BuildOptions, p: Prepared, env: BuildEnv, sink: MessageSink): Promise<BuildResult> {
  const out = new BuildOutput(sink, { quiet: req.quiet });
  const { df, plan } = p;
  const build = plan.build;
  const lastSeg = build.length + 1;
  const top = out.writer(0);
  for (const w of p.warnings) top.stderr(w);
  const total = df.metaArgs.length + build.reduce((n, i) => n + 1 + df.stages[i]!.commands.length, 0);
  const global = new BuildArgs(req.buildArgs);
  const master = new AbortController();
  const onAbort = () => master.abort();
  env.signal?.addEventListener('abort', onAbort);
  const results = new Map<number, Deferred<StageResult>>(build.map((i) => [i, deferred<StageResult>()]));
  const controllers = new Map<number, AbortController>(build.map((i) => [i, new AbortController()]));
  const log = env.log?.child({ component: 'build' });
  const download = env.download ?? httpDownloader(path.join(env.workDir, 'downloads'), master.signal);
  let n = 1;
  try {
    for (const a of df.metaArgs) {
      top.step(n++, total, a.source);
      const x = makeExpander(df.escapeToken, [...global.allAllowed()].map(([k, v]) => `${k}=${v}`));
      for (const kv of a.args) {
        const key = x.word(kv.key);
        const value = kv.value === undefined ? undefined : x.word(kv.value);
        global.addArg(key, value);
        global.addMetaArg(key, value);
      }
    }
  } catch (e) {
    out.finish({ error: messageOf(e) });
    return { error: messageOf(e) };
  }
  // ARGs of stages that are skipped still count as consumed.
  for (const s of df.stages) for (const c of s.commands) if (c.kind === 'arg') for (const a of c.args) global.reference(a.key);
  out.end(0);
  const starts = new Map<number, number>();
  for (const i of build) {
    starts.set(i, n);
    n += 1 + df.stages[i]!.commands.length;
  }
  const platformOf = (img: BuildImage | undefined, requested?: string): CommitSpec['platform'] => {
    if (img && img.config.os) return { os: img.config.os, architecture: img.config.architecture, ...(img.config.variant ? { variant: img.config.variant } : {}) };
    const pf = requested ? parsePlatform(requested) : req.platform ? parsePlatform(req.platform) : hostPlatform();
    return { os: pf.os, architecture: pf.architecture, ...(pf.variant ? { variant: pf.variant } : {}) };
  };
  const runStage = async (pos: number, index: number): Promise<StageResult> => {
    const stage = df.stages[index]!;
    const w: StepWriter = out.writer(pos + 1);
    const ctl = controllers.get(index)!;
    const signal = AbortSignal.any([master.signal, ctl.signal]);
    const args = global.forStage();
    const shared: BuildShared = {
      executor: env.executor,
      cache: env.cache,
      context: p.context,
      escapeToken: df.escapeToken,
      noCache: req.noCache,
      pull: req.pull,
      ...(req.platform ? { platform: req.platform } : {}),
      remove: req.remove,
      forceRemove: req.forceRemove,
      explain: req.explainCache,
      network: req.networkMode,
      extraHosts: req.extraHosts,
      ...(req.shmSize !== undefined ? { shmSize: req.shmSize } : {}),
      ...(req.resources ? { resources: req.resources } : {}),
      download,
      signal,
      progress: (m) => w.raw(m),
      stageResult: (i) => {
        const d = results.get(i);
        if (!d) throw errors.invalid(`stage ${df.stages[i]?.name || i} is not part of this build`);
        return d.promise;
      },
      stages: df.stages,
      ...(log ? { debug: (msg: string, fields?: Record<string, unknown>) => log.debug(fields ?? {}, msg) } : {}),
    };
    let step = starts.get(index)!;
    w.step(step++, total, stage.source);
    // FROM: meta ARGs only (getExpandedString), then a stage, scratch or an image.
    const metaEnv = [...args.allMeta()].map(([k, v]) => `${k}=${v}`);
    const x = makeExpander(df.escapeToken, metaEnv);
    const name = x.word(stage.baseName);
    if (name === '') throw errors.invalid(`base name (${stage.baseName}) should not be blank`);
    let platform: string | undefined;
    if (stage.platform !== '') {
      try {
        platform = x.word(stage.platform);
      } catch (e) {
        throw errors.invalid(`failed to process arguments for platform ${stage.platform}: ${messageOf(e)}`);
      }
      parsePlatform(platform);
    }
    let base: BuildImage | undefined;
    const ref = plan.nodes[index]!.base;
    if (ref.kind === 'stage' && df.stages[ref.index]!.name === name.toLowerCase()) {
      const r = await shared.stageResult(ref.index);
      base = r.imageId === '' ? undefined : await env.executor.getImage(r.imageId);
    } else if (name !== 'scratch') {
      base = await env.executor.resolveImage(name, { pull: req.pull, ...(platform ?? req.platform ? { platform: (platform ?? req.platform)! } : {}) }, shared.progress);
    }
    const sr = new StageRun(shared, index, w);
    await sr.begin(base, args, platformOf(base, platform));
    w.result(sr.imageId);
    for (const c of stage.commands) {
      if (signal.aborted) throw new RuntimeError('Canceled', 'Build cancelled');
      w.step(step++, total, c.source);
      sr.setStep(c.source);
      await sr.dispatch(c);
      w.result(sr.imageId);
    }
    if (sr.imageId !== '') w.aux(sr.imageId);
    global.mergeReferenced(args);
    return { imageId: sr.imageId, config: sr.config, platform: sr.platform };
  };

  const settled = build.map((index, pos) =>
    runStage(pos, index).then(
      (r) => {
        results.get(index)!.resolve(r);
        out.end(pos + 1);
        return { ok: true as const, r };
      },
      (e: unknown) => {
        results.get(index)!.reject(e);
        // A failure cancels the stages after it; the ones before it finish, as in a sequential build.
        for (const later of build.slice(pos + 1)) controllers.get(later)!.abort();
        return { ok: false as const, e, pos };
      },
    ),
  );
  let failure: { e: unknown; pos: number } | undefined;
  try {
    const all = await Promise.all(settled);
    for (const s of all) if (!s.ok && (!failure || s.pos < failure.pos)) failure = { e: s.e, pos: s.pos };
  } finally {
    env.signal?.removeEventListener('abort', onAbort);
  }
  if (failure) {
    const msg = messageOf(failure.e);
    const code = failure.e instanceof RunFailedError ? failure.e.code : undefined;
    log?.debug({ error: msg }, 'build failed');
    out.finish(code !== undefined ? { error: msg, code } : { error: msg }, failure.pos + 1);
    return code !== undefined ? { error: msg, code } : { error: msg };
  }
  const final = await results.get(plan.target)!.promise;
  const tail = out.writer(lastSeg);
  try {
    const warn = global.unusedWarning();
    if (warn) tail.text(warn);
    if (final.imageId === '') throw errors.invalid('No image was generated. Is your Dockerfile empty?');
    tail.text(`Successfully built ${final.imageId.replace(/^sha256:/, '').slice(0, 12)}\n`);
    for (const t of p.tags) {
      await env.executor.tag(final.imageId, [formatReference(t)]);
      tail.text(`Successfully tagged ${familiarString(t)}\n`);
    }
  } catch (e) {
    out.finish({ error: messageOf(e) });
    return { error: messageOf(e) };
  }
  out.finish({ imageId: final.imageId });
  return { imageId: final.imageId };
}
