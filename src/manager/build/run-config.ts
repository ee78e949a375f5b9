// The builder's working "container config" (the image config's `config` object as dockerd's
// container.Config), and what dockerd derives from it: the `#(nop)` commit comments, the cache probe,
// EXPOSE port specs (nat.ParsePortSpecs), STOPSIGNAL names, the healthcheck text of history, the merge
// of a new HEALTHCHECK with the parent's. Pure functions.
import { constants as osConstants } from 'node:os';
import { errors } from '../../errors/index';
import type { ProbeConfig } from './cache';
import { formatDuration, goQuote, goQuoteRune, goQuoteSlice } from './go-format';
import type { HealthConfig } from './instructions';

export type RunConfig = {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Cmd?: string[] | null;
  Healthcheck?: HealthConfig;
  ArgsEscaped?: boolean;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  OnBuild?: string[] | null;
  Labels?: Record<string, string>;
  StopSignal?: string;
  Shell?: string[];
};

export const DEFAULT_SHELL = ['/bin/sh', '-c'];
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A deep copy (dockerd's copyRunConfig). */
export function copyConfig(c: RunConfig): RunConfig {
  return structuredClone(c);
}

/** The config a stage starts from: the base image's, with PATH defaulted as dockerd does. */
export function stageConfig(base: RunConfig | undefined): RunConfig {
  const c = copyConfig(base ?? {});
  const env = c.Env ?? [];
  if (!env.some((e) => e.startsWith('PATH='))) c.Env = [...env, `PATH=${DEFAULT_PATH}`];
  return c;
}

export function shellOf(c: RunConfig): string[] {
  return c.Shell && c.Shell.length > 0 ? [...c.Shell] : [...DEFAULT_SHELL];
}

/** Cmd of a metadata step: [shell…, "#(nop) ", comment] (withCmdComment). */
export function nopCmd(c: RunConfig, comment: string): string[] {
  return [...shellOf(c), '#(nop) ', comment];
}

/** Cmd of WORKDIR/COPY/ADD: [shell…, "#(nop) comment"] (withCmdCommentString, one argument). */
export function nopCmdString(c: RunConfig, comment: string): string[] {
  return [...shellOf(c), `#(nop) ${comment}`];
}

/** The fields the cache compares. */
export function probeOf(c: RunConfig): ProbeConfig {
  return {
    Cmd: c.Cmd ?? [],
    Entrypoint: c.Entrypoint ?? [],
    Env: c.Env ?? [],
    Labels: c.Labels ?? {},
    ExposedPorts: Object.keys(c.ExposedPorts ?? {}),
    Volumes: Object.keys(c.Volumes ?? {}),
    User: c.User ?? '',
  };
}

/** Sets or replaces NAME=value in an env list, keeping its position (dispatchEnv). */
export function setEnv(env: string[], key: string, value: string): string[] {
  const out = [...env];
  const i = out.findIndex((e) => (e.includes('=') ? e.slice(0, e.indexOf('=')) : e) === key);
  if (i >= 0) out[i] = `${key}=${value}`;
  else out.push(`${key}=${value}`);
  return out;
}

function portRange(s: string): [number, number] {
  const bad = () => errors.invalid(`Invalid containerPort: ${s}`);
  const num = (x: string) => {
    if (!/^\d+$/.test(x)) throw bad();
    const v = Number(x);
    if (v > 65535) throw bad();
    return v;
  };
  if (!s.includes('-')) return [num(s), num(s)];
  const parts = s.split('-');
  const a = num(parts[0]!);
  const b = num(parts[1]!);
  if (b < a) throw bad();
  return [a, b];
}

/** EXPOSE arguments → "port/proto" keys, ranges expanded, default tcp (nat.ParsePortSpecs). */
export function parsePorts(specs: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of specs) {
    const parts = raw.split(':');
    const container = parts[parts.length - 1]!;
    const slash = container.split('/');
    let proto = 'tcp';
    let port = container;
    if (container === '' || slash[0] === '') port = '';
    else if (slash.length > 1 && slash[1] !== '') {
      proto = slash[1]!;
      port = slash[0]!;
    } else port = slash[0]!;
    if (port === '') throw errors.invalid(`No port specified: ${raw}<empty>`);
    const [a, b] = portRange(port);
    if (!['tcp', 'udp', 'sctp'].includes(proto.toLowerCase())) throw errors.invalid(`Invalid proto: ${proto}`);
    for (let p = a; p <= b; p++) out.push(`${p}/${proto.toLowerCase()}`);
  }
  return out;
}

const RT_MIN = 34;
const RT_MAX = 64;

/** STOPSIGNAL validation (signal.ParseSignal): a number > 0 or a name with or without SIG. */
export function parseSignal(raw: string): number {
  if (/^[+-]?\d+$/.test(raw)) {
    const n = Number.parseInt(raw, 10);
    if (n === 0) throw errors.invalid(`Invalid signal: ${raw}`);
    return n;
  }
  const name = raw.toUpperCase().replace(/^SIG/, '');
  const sigs = osConstants.signals as Record<string, number>;
  if (sigs[`SIG${name}`] !== undefined) return sigs[`SIG${name}`]!;
  if (name === 'RTMIN') return RT_MIN;
  if (name === 'RTMAX') return RT_MAX;
  const m = /^RTMIN\+(\d+)$/.exec(name) ?? /^RTMAX-(\d+)$/.exec(name);
  if (m && Number(m[1]) >= 1 && Number(m[1]) <= 15) return name.startsWith('RTMIN') ? RT_MIN + Number(m[1]) : RT_MAX - Number(m[1]);
  throw errors.invalid(`Invalid signal: ${raw}`);
}

/** fmt %q of a *HealthConfig, as dockerd's HEALTHCHECK history line prints it. */
export function healthText(h: HealthConfig): string {
  const d = (n: number | undefined) => goQuote(formatDuration(n ?? 0));
  const fields = [goQuoteSlice(h.Test), d(h.Interval), d(h.Timeout), d(h.StartPeriod)];
  if (h.StartInterval) fields.push(d(h.StartInterval));
  fields.push(goQuoteRune(h.Retries ?? 0));
  return `&{${fields.join(' ')}}`;
}

/**
 * The healthcheck a step commits: zero fields of the new one are taken from the parent's, as
 * dockerd's container create merges the image config into the step's config (and the two share it).
 */
export function mergeHealth(next: HealthConfig, parent: HealthConfig | undefined): HealthConfig {
  const h = structuredClone(next);
  if (!parent) return h;
  if (h.Test.length === 0) h.Test = [...parent.Test];
  for (const k of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) if (!h[k] && parent[k]) h[k] = parent[k];
  return h;
}

/** WORKDIR against the current one (normalizeWorkdir: relative joins, absolute stays as written). */
export function normalizeWorkdir(current: string, requested: string): string {
  if (requested === '') throw errors.invalid('cannot normalize nothing');
  if (requested.startsWith('/')) return requested;
  const parts: string[] = [];
  for (const p of `${current}/${requested}`.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return `/${parts.join('/')}`;
}
