// Loading a compose project as compose v2 does: find the files (or take -f/COMPOSE_FILE), pick the
// project directory and name, read .env / --env-file, then per file parse (yaml, with lines),
// interpolate, cast and validate against the schema; merge in order; normalize; apply profiles;
// check references. Reads files only; the result is a Project (model.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import { RuntimeError } from '../../errors/index';
import { castTypes } from './cast';
import { parseDotenv } from './dotenv';
import { interpolateTree, pathString } from './interpolate';
import { mergeFiles } from './merge';
import type { Project, Service } from './model';
import { normalizeNetworks, normalizeService, normalizeVolumes } from './normalize';
import { checkSchema } from './schema';
import { validateProject } from './validate';

export type LoadOptions = {
  /** -f, in order; "-" reads stdin. */
  files?: string[];
  /** -p */
  projectName?: string;
  /** --project-directory */
  projectDirectory?: string;
  /** --env-file, in order. */
  envFiles?: string[];
  /** --profile */
  profiles?: string[];
  /** Services named on the command line: they are enabled whatever their profiles. */
  services?: string[];
  cwd?: string;
  /** The process environment (defaults to process.env). */
  env?: Record<string, string | undefined>;
  /** Reads stdin for -f - */
  readStdin?: () => string;
};

/** File names compose v2 looks for, in order of preference, and their override files. */
export const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
const OVERRIDE_FILES = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yml', 'docker-compose.override.yaml'];

const invalid = (msg: string) => new RuntimeError('InvalidArgument', msg);

/** Finds the compose file (and its override) in dir or the nearest parent that has one. */
export function findComposeFiles(dir: string): string[] {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const main = DEFAULT_FILES.find((f) => fs.existsSync(path.join(d, f)));
    if (main) {
      const over = OVERRIDE_FILES.find((f) => fs.existsSync(path.join(d, f)));
      return [path.join(d, main), ...(over ? [path.join(d, over)] : [])];
    }
    if (path.dirname(d) === d) throw new RuntimeError('NotFound', 'no configuration file provided: not found');
  }
}

/** compose-go's NormalizeProjectName: lowercase, only [a-z0-9_-], no leading _ or -. */
export function normalizeProjectName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '');
}

function checkProjectName(n: string): string {
  if (n !== normalizeProjectName(n) || n === '') {
    throw invalid(`invalid project name ${JSON.stringify(n)}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`);
  }
  return n;
}

type ParsedFile = { file: string; doc: Document; lines: LineCounter; tree: Record<string, unknown>; legacy: boolean };

const LEGACY_RENAMES: Record<string, string> = { net: 'network_mode' };

/** The fig / v1 layout (services at the top level) in today's shape, so one schema checks both. */
function fromLegacy(tree: Record<string, unknown>, warn: (m: string) => void): Record<string, unknown> {
  const services: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(tree)) {
    if (name.startsWith('x-')) continue;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      services[name] = raw;
      continue;
    }
    const s: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
      if (k === 'dockerfile') continue;
      if (k === 'log_driver') s.logging = { ...(s.logging as object), driver: v };
      else if (k === 'log_opt') s.logging = { ...(s.logging as object), options: v };
      else if (k === 'volume_driver') warn(`services.${name}.volume_driver is not supported by dock compose and is ignored`);
      else s[LEGACY_RENAMES[k] ?? k] = v;
    }
    const df = (raw as Record<string, unknown>).dockerfile;
    if (df !== undefined) s.build = { ...(typeof s.build === 'string' ? { context: s.build } : (s.build as object)), dockerfile: df };
    services[name] = s;
  }
  return { services };
}

function parseFile(file: string, text: string): ParsedFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { merge: true, lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const pos = err.linePos?.[0];
    throw invalid(`parsing ${file}: ${err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}${pos ? ` (line ${pos.line})` : ''}`);
  }
  const tree = doc.toJS({ maxAliasCount: 10000 }) as unknown;
  if (tree === null || tree === undefined) throw invalid(`parsing ${file}: empty compose file`);
  if (typeof tree !== 'object' || Array.isArray(tree)) throw invalid(`parsing ${file}: top-level object must be a mapping`);
  const t = tree as Record<string, unknown>;
  const legacy = !('services' in t) && !('version' in t) && Object.keys(t).length > 0 && !('name' in t);
  return { file, doc, lines, tree: t, legacy };
}

/** The line of a path in a parsed file (its nearest existing ancestor), for error messages. */
function lineOf(f: ParsedFile, p: (string | number)[]): number | undefined {
  const docPath = f.legacy && p[0] === 'services' ? p.slice(1) : p;
  for (let n = docPath.length; n >= 0; n--) {
    const node = f.doc.getIn(docPath.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && node.range) return f.lines.linePos(node.range[0]).line;
  }
  return undefined;
}

function readEnvFile(p: string, lookup: (k: string) => string | undefined): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(p, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw invalid(code === 'ENOENT' ? `couldn't find env file: ${p}` : `couldn't read env file ${p}: ${code ?? (e as Error).message}`);
  }
  return parseDotenv(text, lookup, p);
}

/** Loads, validates and normalizes a project. Throws one-line RuntimeErrors. */
export function loadProject(o: LoadOptions = {}): Project {
  const cwd = o.cwd ?? process.cwd();
  const penv = o.env ?? process.env;
  const warnings: string[] = [];
  const warn = (m: string) => {
    if (!warnings.includes(m)) warnings.push(m);
  };
  let files = o.files?.length ? o.files : undefined;
  if (!files && penv.COMPOSE_FILE) files = penv.COMPOSE_FILE.split(penv.COMPOSE_PATH_SEPARATOR || ':').filter(Boolean);
  const paths = files ? files.map((f) => (f === '-' ? '-' : path.resolve(cwd, f))) : findComposeFiles(cwd);
  const first = paths.find((p) => p !== '-');
  const workingDir = o.projectDirectory ? path.resolve(cwd, o.projectDirectory) : first ? path.dirname(first) : cwd;

  // .env: the project directory's, or the --env-file ones; the process environment wins over it.
  const envFiles = (o.envFiles ?? []).map((f) => path.resolve(cwd, f));
  const disabled = ['1', 'true'].includes((penv.COMPOSE_DISABLE_ENV_FILE ?? '').toLowerCase());
  const dotenv: Record<string, string> = {};
  const osLookup = (k: string) => penv[k];
  if (envFiles.length) for (const f of envFiles) Object.assign(dotenv, readEnvFile(f, osLookup));
  else if (!disabled && fs.existsSync(path.join(workingDir, '.env')) && fs.statSync(path.join(workingDir, '.env')).isFile()) {
    Object.assign(dotenv, readEnvFile(path.join(workingDir, '.env'), osLookup));
  }
  const environment: Record<string, string> = { ...dotenv };
  for (const [k, v] of Object.entries(penv)) if (v !== undefined) environment[k] = v;
  const lookup = (k: string) => environment[k];

  const parsed: ParsedFile[] = [];
  for (const p of paths) {
    let text: string;
    try {
      text = p === '-' ? (o.readStdin ?? (() => fs.readFileSync(0, 'utf8')))() : fs.readFileSync(p, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new RuntimeError(code === 'ENOENT' ? 'NotFound' : 'InvalidArgument', `open ${p}: ${code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`);
    }
    const f = parseFile(p, text);
    if (f.legacy) f.tree = fromLegacy(f.tree, warn);
    else if ('version' in f.tree) {
      warn(`${p}: the attribute \`version\` is obsolete, it will be ignored, please remove it to avoid potential confusion`);
    }
    const unset = (n: string) => warn(`The ${JSON.stringify(n)} variable is not set. Defaulting to a blank string.`);
    const where = (e: unknown, at?: (string | number)[]) => {
      const line = at ? lineOf(f, at) : undefined;
      return invalid(`${p}: ${(e as Error).message}${line ? ` (line ${line})` : ''}`);
    };
    try {
      interpolateTree(f.tree, lookup, unset);
      castTypes(f.tree, warn);
    } catch (e) {
      const m = /^(?:error while interpolating |invalid interpolation format for )?([\w.[\]-]+)/.exec((e as Error).message);
      throw where(e, m ? m[1]!.split(/\.|\[(\d+)\]/).filter(Boolean).map((s) => (/^\d+$/.test(s) ? Number(s) : s)) : undefined);
    }
    const problem = checkSchema(f.tree);
    if (problem) {
      const line = lineOf(f, problem.path);
      throw invalid(`validating ${p}: ${pathString(problem.path)} ${problem.message}${line ? ` (line ${line})` : ''}`);
    }
    parsed.push(f);
  }
  if (parsed.some((f) => f.legacy) && parsed.some((f) => !f.legacy)) {
    throw invalid('cannot merge a file in the version 1 layout (services at the top level) with files that have a services section');
  }
  const legacy = parsed.every((f) => f.legacy);
  const merged = mergeFiles(parsed.map((f) => f.tree));

  let name: string;
  if (o.projectName) name = checkProjectName(o.projectName);
  else if (environment.COMPOSE_PROJECT_NAME) name = checkProjectName(environment.COMPOSE_PROJECT_NAME);
  else if (typeof merged.name === 'string' && merged.name) name = checkProjectName(merged.name);
  else name = normalizeProjectName(path.basename(workingDir));
  if (!name) throw invalid(`project name must not be empty: use -p, COMPOSE_PROJECT_NAME or a name: key`);

  const ctx = { project: name, workingDir, lookup, legacy, warn };
  const all: Record<string, Service> = {};
  for (const [n, raw] of Object.entries((merged.services as Record<string, unknown>) ?? {})) {
    all[n] = normalizeService(n, (raw ?? {}) as Record<string, unknown>, ctx);
  }
  const networks = normalizeNetworks(merged.networks, name);
  const volumes = normalizeVolumes(merged.volumes, name);

  // Profiles: a service with profiles runs only when one is active, or when named explicitly.
  const active = new Set(o.profiles?.length ? o.profiles : (environment.COMPOSE_PROFILES ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  const named = new Set(o.services ?? []);
  for (const n of named) if (!all[n]) throw new RuntimeError('NotFound', `no such service: ${n}`);
  const services: Record<string, Service> = {};
  const disabledServices: Record<string, Service> = {};
  for (const [n, s] of Object.entries(all)) {
    const on = !s.profiles?.length || active.has('*') || s.profiles.some((p) => active.has(p)) || named.has(n);
    (on ? services : disabledServices)[n] = s;
  }
  const usesDefault = Object.values(services).some((s) => s.networks && 'default' in s.networks);
  if (usesDefault && !networks.default) networks.default = { name: `${name}_default` };

  const project: Project = { name, workingDir, configFiles: paths.map((p) => (p === '-' ? path.join(workingDir, '-') : p)), envFiles, environment, services, disabledServices, networks, volumes, legacy, warnings };
  validateProject(project);
  // Like compose v2, keep only the networks and volumes an enabled service uses.
  const usedNets = new Set(Object.values(services).flatMap((s) => Object.keys(s.networks ?? {})));
  const usedVols = new Set(Object.values(services).flatMap((s) => (s.volumes ?? []).filter((v) => v.type === 'volume' && v.source).map((v) => v.source!)));
  for (const k of Object.keys(networks)) if (!usedNets.has(k)) delete networks[k];
  for (const k of Object.keys(volumes)) if (!usedVols.has(k)) delete volumes[k];
  return project;
}
