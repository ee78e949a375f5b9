// `compose build` and the build step of `up`: the service's context as a tar (with .dockerignore,
// as the classic builder gets it from the docker CLI) sent to POST /build, tagged with the image
// compose runs. The builder itself is the engine's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import dockerignore from '@balena/dockerignore';
import { pack } from 'tar-stream';
import { RuntimeError } from '../../errors/index';
import { imageName } from './convert';
import type { Engine, JsonMessage } from './engine';
import type { Project, Service } from './model';
import type { Progress } from './progress';

/** Files of a build context (relative, sorted), less what .dockerignore excludes. */
export function contextFiles(dir: string, dockerfile: string): string[] {
  let ignore = '';
  // BuildKit's rule: <Dockerfile>.dockerignore next to the Dockerfile beats .dockerignore.
  const specific = path.resolve(dir, `${dockerfile}.dockerignore`);
  if (fs.existsSync(specific)) ignore = fs.readFileSync(specific, 'utf8');
  else if (fs.existsSync(path.join(dir, '.dockerignore'))) ignore = fs.readFileSync(path.join(dir, '.dockerignore'), 'utf8');
  const ig = dockerignore().add(ignore.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      // The classic builder always receives the Dockerfile and .dockerignore.
      const keep = r === dockerfile || r === '.dockerignore' || !ig.ignores(r);
      if (e.isDirectory()) {
        if (keep) out.push(r);
        walk(r);
      } else if (keep) out.push(r);
    }
  };
  walk('');
  return out.sort();
}

/** A tar stream of the context (regular files, directories, symlinks; owners zeroed). */
export function contextTar(dir: string, dockerfile: string): Readable {
  const p = pack();
  const files = contextFiles(dir, dockerfile);
  void (async () => {
    for (const rel of files) {
      const abs = path.join(dir, rel);
      const st = await fs.promises.lstat(abs);
      const header = { name: rel, mode: st.mode & 0o7777, mtime: st.mtime, uid: 0, gid: 0 };
      if (st.isDirectory()) p.entry({ ...header, type: 'directory' });
      else if (st.isSymbolicLink()) p.entry({ ...header, type: 'symlink', linkname: await fs.promises.readlink(abs) });
      else if (st.isFile()) {
        const entry = p.entry({ ...header, size: st.size });
        await pipeline(fs.createReadStream(abs), entry);
      }
    }
    p.finalize();
  })().catch((e: Error) => p.destroy(e));
  return p as unknown as Readable;
}

export type BuildOptions = { noCache?: boolean; pull?: boolean; args?: Record<string, string>; quiet?: boolean; out?: (line: string) => void };

/** Builds one service's image; resolves with the image ID. */
export async function buildService(engine: Engine, p: Project, s: Service, progress: Progress, o: BuildOptions = {}): Promise<string> {
  const b = s.build;
  if (!b) throw new RuntimeError('InvalidArgument', `service ${JSON.stringify(s.name)} has no build section`);
  if (/^[a-z]+:\/\/|^git@/.test(b.context)) throw new RuntimeError('NotImplemented', `service ${JSON.stringify(s.name)}: remote build contexts are not supported`);
  if (!fs.existsSync(b.context)) throw new RuntimeError('NotFound', `service ${JSON.stringify(s.name)}: build context ${b.context} not found`);
  const tag = imageName(p.name, s);
  const args: Record<string, string> = {};
  for (const [k, v] of Object.entries(b.args ?? {})) if (v !== null) args[k] = v;
  Object.assign(args, o.args ?? {});
  progress.event(`Service ${s.name}`, 'Building');
  let id: string | undefined;
  const stream = engine.build(contextTar(b.context, b.dockerfile ?? 'Dockerfile'), {
    t: tag,
    dockerfile: b.dockerfile ?? 'Dockerfile',
    buildargs: args,
    target: b.target,
    labels: b.labels,
    networkmode: b.network,
    nocache: o.noCache,
    pull: o.pull,
    cachefrom: b.cache_from ? JSON.stringify(b.cache_from) : undefined,
    extrahosts: b.extra_hosts?.join(','),
    rm: true,
    forcerm: true,
    q: o.quiet,
  });
  for await (const m of stream as AsyncIterable<JsonMessage>) {
    if (m.error) throw new RuntimeError('Internal', `service ${JSON.stringify(s.name)} failed to build: ${m.errorDetail?.message ?? m.error}`);
    if (m.aux?.ID) id = m.aux.ID;
    if (m.stream) {
      const sid = /^Successfully built ([0-9a-f]+)/m.exec(m.stream);
      if (sid) id ??= sid[1];
      o.out?.(m.stream);
    }
  }
  progress.event(`Service ${s.name}`, 'Built');
  const img = await engine.inspectImage(tag);
  return img?.Id ?? id ?? '';
}
