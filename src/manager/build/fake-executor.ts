// A test double of Executor for the driver's unit tests (STYLE §6: a fake at a seam). Images are
// directories plus configs in memory; a working layer is a copy of its parent's tree; RUN steps are
// answered by a handler the test supplies (a tiny `sh -c` interpreter by default: echo, redirects,
// exit, false). Records every call so tests can check what the driver asked for.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { errors } from '../../errors/index';
import { formatReference, parseReference } from '../images/reference';
import type { ImageConfig } from '../images/manifest';
import type { BuildImage, CommitSpec, Executor, MountedImage, RunSpec, StepIO, WorkingLayer } from './executor';

export type RunHandler = (spec: RunSpec, rootfs: string, io: StepIO, signal: AbortSignal) => Promise<number>;

type FakeImage = { config: ImageConfig; rootfs: string };

async function treeDigest(dir: string): Promise<string> {
  const h = createHash('sha256');
  const walk = async (rel: string) => {
    for (const n of (await fs.readdir(path.join(dir, rel))).sort()) {
      const r = path.join(rel, n);
      const st = await fs.lstat(path.join(dir, r));
      h.update(`${r}\0${st.mode}\0${st.uid}:${st.gid}\0`);
      if (st.isFile()) h.update(await fs.readFile(path.join(dir, r)));
      if (st.isSymbolicLink()) h.update(await fs.readlink(path.join(dir, r)));
      if (st.isDirectory()) await walk(r);
    }
  };
  await walk('');
  return h.digest('hex');
}

/** `sh -c` for tests: `echo words [> file | >> file | >&2]`, `exit N`, `false`, `true`, joined by `&&` or `;`. */
export const miniShell: RunHandler = async (spec, rootfs, io) => {
  let script = spec.cmd[0] === '/bin/sh' && /^-[a-z]*c$/.test(spec.cmd[1] ?? '') ? spec.cmd.slice(2).join(' ') : spec.cmd.join(' ');
  const file = spec.files.find((f) => f.path === script.trim());
  if (file) script = file.data.replace(/^#!.*\n/, '');
  const env = new Map(spec.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const expand = (s: string) => s.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, n: string) => env.get(n) ?? '');
  for (const part of script.split(/&&|;|\n/).map((p) => p.trim()).filter(Boolean)) {
    let m: RegExpExecArray | null;
    if (part === 'true') continue;
    if (part === 'false') return 1;
    if ((m = /^exit (\d+)$/.exec(part))) return Number(m[1]);
    if ((m = /^echo (.*?)(?:\s*(>&2)|\s*(>>|>)\s*(\S+))?$/.exec(part))) {
      const text = `${expand(m[1]!).replace(/^"(.*)"$/, '$1')}\n`;
      if (m[2]) io.stderr(Buffer.from(text));
      else if (m[3]) {
        const target = m[4]!.startsWith('/') ? m[4]! : path.posix.join(spec.workdir, m[4]!);
        await fs.mkdir(path.join(rootfs, path.posix.dirname(target)), { recursive: true });
        await fs.writeFile(path.join(rootfs, target), text, { flag: m[3] === '>>' ? 'a' : 'w' });
      } else io.stdout(Buffer.from(text));
      continue;
    }
    throw new Error(`miniShell: cannot run ${JSON.stringify(part)}`);
  }
  return 0;
};

export class FakeExecutor implements Executor {
  readonly images = new Map<string, FakeImage>();
  readonly names = new Map<string, string>();
  readonly calls: { op: string; arg?: unknown }[] = [];
  readonly runs: RunSpec[] = [];
  openLayers = 0;
  handler: RunHandler = miniShell;
  private readonly dirs: string[] = [];

  constructor(private readonly tmp: string = os.tmpdir()) {}

  private async newDir(): Promise<string> {
    const d = await fs.mkdtemp(path.join(this.tmp, 'fake-exec-'));
    this.dirs.push(d);
    return d;
  }

  private store(config: ImageConfig, rootfs: string): string {
    const id = `sha256:${createHash('sha256').update(JSON.stringify(config)).digest('hex')}`;
    this.images.set(id, { config, rootfs });
    return id;
  }

  /** Adds an image called name whose files are given (path → content; "dir/" entries make directories). */
  async addImage(name: string, files: Record<string, string>, config: ImageConfig['config'] = {}): Promise<string> {
    const root = await this.newDir();
    for (const [p, data] of Object.entries(files)) {
      if (p.endsWith('/')) await fs.mkdir(path.join(root, p), { recursive: true });
      else {
        await fs.mkdir(path.join(root, path.dirname(p)), { recursive: true });
        await fs.writeFile(path.join(root, p), data);
      }
    }
    const cfg: ImageConfig = { architecture: 'amd64', os: 'linux', config, rootfs: { type: 'layers', diff_ids: [`sha256:${await treeDigest(root)}`] }, history: [{ created_by: `import ${name}` }] };
    const id = this.store(cfg, root);
    this.names.set(formatReference(parseReference(name)), id);
    return id;
  }

  async resolveImage(name: string, opts: { platform?: string; pull: boolean; localOnly?: boolean }): Promise<BuildImage> {
    this.calls.push({ op: 'resolveImage', arg: { name, ...opts } });
    const id = this.names.get(formatReference(parseReference(name))) ?? (this.images.has(name) ? name : undefined);
    if (!id) throw errors.notFound(`pull access denied for ${name}, repository does not exist or may require 'docker login'`);
    return { id, config: structuredClone(this.images.get(id)!.config) };
  }

  async hasImage(id: string): Promise<boolean> {
    return this.images.has(id);
  }

  async getImage(id: string): Promise<BuildImage | undefined> {
    const img = this.images.get(id);
    return img && { id, config: structuredClone(img.config) };
  }

  private child(parent: string, spec: CommitSpec, layerDigest: string | undefined): ImageConfig {
    const p = parent === '' ? undefined : this.images.get(parent)?.config;
    const cfg: ImageConfig = {
      ...(p ? structuredClone(p) : { architecture: spec.platform.architecture, os: spec.platform.os, rootfs: { type: 'layers', diff_ids: [] } }),
      created: new Date().toISOString(),
      config: spec.config as ImageConfig['config'],
      container_config: spec.containerConfig,
    };
    if (spec.author) cfg.author = spec.author;
    cfg.history = [...(p?.history ?? []), { created: cfg.created, created_by: spec.createdBy, ...(spec.author ? { author: spec.author } : {}), ...(layerDigest ? {} : { empty_layer: true }) }];
    if (layerDigest) cfg.rootfs = { type: 'layers', diff_ids: [...(p?.rootfs.diff_ids ?? []), `sha256:${layerDigest}`] };
    return cfg;
  }

  async prepare(image: string): Promise<WorkingLayer> {
    this.calls.push({ op: 'prepare', arg: image });
    const rootfs = await this.newDir();
    const parentRoot = image === '' ? undefined : this.images.get(image)?.rootfs;
    if (image !== '' && !parentRoot) throw errors.notFound(`image ${image}: not found`);
    if (parentRoot) await fs.cp(parentRoot, rootfs, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    const before = parentRoot ? await treeDigest(parentRoot) : await treeDigest(rootfs);
    this.openLayers++;
    let released = false;
    const id = randomBytes(32).toString('hex');
    return {
      id,
      rootfs,
      run: async (spec, io, signal) => {
        this.runs.push(spec);
        this.calls.push({ op: 'run', arg: spec.cmd });
        return { exitCode: await this.handler(spec, rootfs, io, signal) };
      },
      commit: async (spec) => {
        const after = await treeDigest(rootfs);
        const cfg = this.child(image, spec, after === before ? undefined : after);
        const newId = this.store(cfg, rootfs);
        this.calls.push({ op: 'commit', arg: spec.createdBy });
        return newId;
      },
      release: async () => {
        if (released) return;
        released = true;
        this.openLayers--;
      },
    };
  }

  async commitConfig(parent: string, spec: CommitSpec): Promise<string> {
    this.calls.push({ op: 'commitConfig', arg: spec.createdBy });
    const root = parent === '' ? await this.newDir() : this.images.get(parent)!.rootfs;
    return this.store(this.child(parent, spec, undefined), root);
  }

  async mountImage(id: string): Promise<MountedImage> {
    this.calls.push({ op: 'mountImage', arg: id });
    if (id === '') return { rootfs: await this.newDir(), release: async () => undefined };
    const img = this.images.get(id);
    if (!img) throw errors.notFound(`image ${id}: not found`);
    return { rootfs: img.rootfs, release: async () => undefined };
  }

  async tag(id: string, names: readonly string[]): Promise<void> {
    for (const n of names) this.names.set(n, id);
  }

  async cleanup(): Promise<void> {
    for (const d of this.dirs) await fs.rm(d, { recursive: true, force: true });
  }
}
