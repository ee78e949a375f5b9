// Images of a project: make sure each service's image exists before containers are planned (pull
// or build, per pull_policy and --build/--no-build), and the pull / push commands. Registry
// credentials come from the client config's auths (X-Registry-Auth), never logged.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RuntimeError } from '../../errors/index';
import { buildService, type BuildOptions } from './build';
import { imageName } from './convert';
import type { Engine, JsonMessage } from './engine';
import type { Project, Service } from './model';
import type { Progress } from './progress';

/** Splits "repo[:tag|@digest]" into fromImage and tag, as POST /images/create takes them. */
export function splitImage(ref: string): { name: string; tag: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { name: ref.slice(0, at), tag: ref.slice(at + 1) };
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { name: ref, tag: 'latest' };
}

/** X-Registry-Auth for an image from DOCKER_CONFIG/config.json (an empty object when none). */
export function registryAuth(ref: string, env: NodeJS.ProcessEnv = process.env): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const dir = env.DOCKER_CONFIG || path.join(os.homedir(), '.docker');
  let auths: Record<string, { auth?: string; identitytoken?: string }> = {};
  try {
    auths = (JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { auths?: typeof auths }).auths ?? {};
  } catch {
    return enc({});
  }
  const first = splitImage(ref).name.split('/')[0]!;
  const host = first.includes('.') || first.includes(':') || first === 'localhost' ? first : 'https://index.docker.io/v1/';
  const entry = auths[host] ?? auths[`https://${host}`] ?? auths[`http://${host}`];
  if (!entry?.auth) return enc(entry?.identitytoken ? { identitytoken: entry.identitytoken, serveraddress: host } : {});
  const [username, ...pw] = Buffer.from(entry.auth, 'base64').toString().split(':');
  return enc({ username, password: pw.join(':'), serveraddress: host });
}

async function drain(stream: AsyncIterable<JsonMessage>, what: string): Promise<void> {
  for await (const m of stream) {
    if (m.error) throw new RuntimeError('Internal', `${what}: ${m.errorDetail?.message ?? m.error}`);
  }
}

export async function pullService(engine: Engine, p: Project, s: Service, progress: Progress): Promise<void> {
  const ref = imageName(p.name, s);
  const { name, tag } = splitImage(ref);
  progress.event(s.name, 'Pulling');
  await drain(engine.pullImage(name, tag, registryAuth(ref), s.platform), `pull ${s.name}`);
  progress.event(s.name, 'Pulled');
}

export async function pushService(engine: Engine, p: Project, s: Service, progress: Progress): Promise<void> {
  const ref = imageName(p.name, s);
  const { name, tag } = splitImage(ref);
  progress.event(`Pushing ${s.name}`, 'Pushing');
  await drain(engine.pushImage(name, tag, registryAuth(ref)), `push ${s.name}`);
  progress.event(`Pushing ${s.name}`, 'Pushed');
}

export type EnsureOptions = { build?: boolean; noBuild?: boolean; pull?: 'always' | 'missing' | 'never'; buildOptions?: BuildOptions };

/**
 * Makes sure every listed service has its image: built first when --build, pulled or built when
 * missing. Resolves with the image ID of each service.
 */
export async function ensureImages(engine: Engine, p: Project, services: string[], progress: Progress, o: EnsureOptions = {}): Promise<Record<string, string | undefined>> {
  const ids: Record<string, string | undefined> = {};
  // Builds and pulls one service at a time (their output interleaves otherwise); inspections of
  // images that need neither run together, once per image.
  const inspected = new Map<string, Promise<string | undefined>>();
  const inspect = (ref: string) => {
    if (!inspected.has(ref)) inspected.set(ref, engine.inspectImage(ref).then((i) => i?.Id));
    return inspected.get(ref)!;
  };
  const plain = services.filter((n) => {
    const s = p.services[n]!;
    const policy = o.pull ?? s.pull_policy ?? 'missing';
    return !(s.build && !o.noBuild && (o.build || policy === 'build')) && policy !== 'always';
  });
  await Promise.all(plain.map(async (n) => (ids[n] = await inspect(imageName(p.name, p.services[n]!)))));
  for (const n of services) {
    const s = p.services[n]!;
    const ref = imageName(p.name, s);
    const policy = o.pull ?? s.pull_policy ?? 'missing';
    if (s.build && !o.noBuild && (o.build || policy === 'build')) {
      ids[n] = await buildService(engine, p, s, progress, o.buildOptions);
      inspected.set(ref, Promise.resolve(ids[n]));
      continue;
    }
    if (policy === 'always' && s.image) {
      await pullService(engine, p, s, progress);
      inspected.delete(ref);
    }
    ids[n] ??= await inspect(ref);
    if (ids[n]) continue;
    if (s.build && !o.noBuild) ids[n] = await buildService(engine, p, s, progress, o.buildOptions);
    else if (s.image && policy !== 'never') {
      await pullService(engine, p, s, progress);
      inspected.delete(ref);
      ids[n] = await inspect(ref);
    } else throw new RuntimeError('NotFound', `No such image: ${ref}`);
    inspected.set(ref, Promise.resolve(ids[n]));
  }
  return ids;
}
