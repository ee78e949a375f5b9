// The options of one build, and their parsing from the query of `POST /build` as dockerd's
// newImageBuildOptions reads them (version=1 is the classic builder; rm defaults to true; buildargs,
// labels and cachefrom are JSON). Also `-t` validation (sanitizeRepoAndTags). Pure; no I/O.
import { errors } from '../../errors/index';
import { formatReference, parseNormalized, type Reference } from '../images/reference';
import type { BuildArgValues } from './build-args';

export type BuildOptions = {
  /** Path of the Dockerfile inside the context. */
  dockerfile: string;
  tags: string[];
  buildArgs: BuildArgValues;
  labels: Record<string, string>;
  /** Stage to stop at ("" = the last). */
  target: string;
  noCache: boolean;
  pull: boolean;
  /** q=1: only the image id is printed. */
  quiet: boolean;
  /** rm: remove intermediate containers after a successful step. */
  remove: boolean;
  /** forcerm: remove them always. */
  forceRemove: boolean;
  platform?: string;
  networkMode: string;
  extraHosts: string[];
  shmSize?: number;
  resources?: { memory?: number; memorySwap?: number; cpuShares?: number; cpuPeriod?: number; cpuQuota?: number; cpusetCpus?: string; cpusetMems?: string; cgroupParent?: string };
  /** --cache-from images (accepted; dock's cache is its own record store). */
  cacheFrom: string[];
  /** dock's --explain-cache: a line saying why each missed step missed. */
  explainCache: boolean;
};

export function defaultBuildOptions(): BuildOptions {
  return { dockerfile: 'Dockerfile', tags: [], buildArgs: {}, labels: {}, target: '', noCache: false, pull: false, quiet: false, remove: true, forceRemove: false, networkMode: '', extraHosts: [], cacheFrom: [], explainCache: false };
}

const bool = (v: string | null) => v !== null && v !== '' && v !== '0' && v.toLowerCase() !== 'false';

function int(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw errors.invalid(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number.parseInt(v, 10);
}

function json<T>(q: URLSearchParams, name: string, what: string, check: (v: unknown) => boolean): T | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (e) {
    throw errors.invalid(`${what}: ${(e as Error).message}`);
  }
  if (!check(parsed)) throw errors.invalid(`${what}: unexpected JSON value`);
  return parsed as T;
}

const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The build options of a `POST /build` query. Throws InvalidArgument / NotImplemented. */
export function parseBuildQuery(q: URLSearchParams): BuildOptions {
  const o = defaultBuildOptions();
  const version = q.get('version');
  if (version === '2') throw errors.notImplemented('the BuildKit builder (version=2) is not supported: build with the classic builder (DOCKER_BUILDKIT=0)');
  if (version !== null && version !== '' && version !== '1') throw errors.invalid(`invalid version ${JSON.stringify(version)}`);
  if (q.getAll('securityopt').length > 0) throw errors.invalid('The daemon on this platform does not support setting security options on build');
  if (bool(q.get('squash'))) throw errors.invalid('squash is only supported with experimental mode');
  if ((q.get('remote') ?? '') !== '') throw errors.notImplemented('remote build contexts are not supported: send the context in the request body');
  o.dockerfile = q.get('dockerfile') || 'Dockerfile';
  o.tags = q.getAll('t');
  o.quiet = bool(q.get('q'));
  o.noCache = bool(q.get('nocache'));
  o.forceRemove = bool(q.get('forcerm'));
  o.remove = o.forceRemove || q.get('rm') === null || q.get('rm') === '' ? true : bool(q.get('rm'));
  o.pull = bool(q.get('pull'));
  o.target = q.get('target') ?? '';
  o.networkMode = q.get('networkmode') ?? '';
  o.extraHosts = q.getAll('extrahosts');
  const platform = q.get('platform');
  if (platform) o.platform = platform;
  const shm = int(q, 'shmsize');
  if (shm !== undefined) o.shmSize = shm;
  const res: NonNullable<BuildOptions['resources']> = {};
  for (const [k, name] of [
    ['memory', 'memory'],
    ['memorySwap', 'memswap'],
    ['cpuShares', 'cpushares'],
    ['cpuPeriod', 'cpuperiod'],
    ['cpuQuota', 'cpuquota'],
  ] as const) {
    const v = int(q, name);
    if (v) res[k] = v;
  }
  if (q.get('cpusetcpus')) res.cpusetCpus = q.get('cpusetcpus')!;
  if (q.get('cpusetmems')) res.cpusetMems = q.get('cpusetmems')!;
  if (q.get('cgroupparent')) res.cgroupParent = q.get('cgroupparent')!;
  if (Object.keys(res).length > 0) o.resources = res;
  o.buildArgs = json<BuildArgValues>(q, 'buildargs', 'error reading build args', (v) => isObject(v) && Object.values(v as object).every((x) => x === null || typeof x === 'string')) ?? {};
  o.labels = json<Record<string, string>>(q, 'labels', 'error reading labels', (v) => isObject(v) && Object.values(v as object).every((x) => typeof x === 'string')) ?? {};
  o.cacheFrom = json<string[]>(q, 'cachefrom', 'error reading cache-from', (v) => Array.isArray(v) && v.every((x) => typeof x === 'string')) ?? [];
  o.explainCache = bool(q.get('explaincache'));
  return o;
}

/** -t values → unique normalised references (tag "latest" added); digests are refused. */
export function sanitizeTags(names: readonly string[]): Reference[] {
  const out: Reference[] = [];
  const seen = new Set<string>();
  for (const n of names) {
    if (n === '') continue;
    const ref = parseNormalized(n);
    if (ref.digest !== undefined) throw errors.invalid('build tag cannot contain a digest');
    if (ref.tag === undefined) ref.tag = 'latest';
    const key = formatReference(ref);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(ref);
    }
  }
  return out;
}
