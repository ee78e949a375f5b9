// Typed Dockerfile instructions: parser nodes → instruction records and stages, with the argument
// and flag checks (and error wording) of dockerd 20.10's classic builder, plus what BuildKit adds that
// dock supports (heredocs, COPY --chmod/--link, HEALTHCHECK --start-interval). No variable expansion
// here: that happens at dispatch, with the environment of the step.
import { errors } from '../../errors/index';
import { goQuote, parseDuration, formatDuration } from './go-format';
import { chompHeredoc, DockerfileError, nodeSource, parseHeredoc, type Heredoc, type Node, type ParseResult } from './parser';

export type HealthConfig = {
  Test: string[];
  /** Nanoseconds; 0 = inherit/default. */
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
};

/** A heredoc source of COPY/ADD: a file named `path` with `data`. */
export type SourceContent = { path: string; data: string; expand: boolean };
/** A heredoc attached to RUN. */
export type InlineFile = { name: string; data: string; chomp: boolean };

type Base = {
  /** The instruction as written, trimmed (what `Step N/M :` prints). */
  source: string;
  line: number;
  endLine: number;
};

export type RunInstruction = Base & { kind: 'run'; cmdLine: string[]; prependShell: boolean; files: InlineFile[] };
export type CmdInstruction = Base & { kind: 'cmd'; cmdLine: string[]; prependShell: boolean };
export type EntrypointInstruction = Base & { kind: 'entrypoint'; cmdLine: string[] | null; prependShell: boolean };
export type EnvInstruction = Base & { kind: 'env'; env: { key: string; value: string }[] };
export type LabelInstruction = Base & { kind: 'label'; labels: { key: string; value: string }[]; noExpand?: boolean };
export type MaintainerInstruction = Base & { kind: 'maintainer'; maintainer: string };
export type ExposeInstruction = Base & { kind: 'expose'; ports: string[] };
export type VolumeInstruction = Base & { kind: 'volume'; volumes: string[] };
export type UserInstruction = Base & { kind: 'user'; user: string };
export type WorkdirInstruction = Base & { kind: 'workdir'; path: string };
export type StopSignalInstruction = Base & { kind: 'stopsignal'; signal: string };
export type ArgInstruction = Base & { kind: 'arg'; args: { key: string; value?: string }[] };
export type ShellInstruction = Base & { kind: 'shell'; shell: string[] };
export type HealthcheckInstruction = Base & { kind: 'healthcheck'; health: HealthConfig };
export type OnbuildInstruction = Base & { kind: 'onbuild'; expression: string };
export type CopyInstruction = Base & {
  kind: 'copy' | 'add';
  sources: string[];
  contents: SourceContent[];
  dest: string;
  from: string;
  chown: string;
  chmod: string;
  link: boolean;
};

export type Instruction =
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | EnvInstruction
  | LabelInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | VolumeInstruction
  | UserInstruction
  | WorkdirInstruction
  | StopSignalInstruction
  | ArgInstruction
  | ShellInstruction
  | HealthcheckInstruction
  | OnbuildInstruction
  | CopyInstruction;

export type Stage = {
  /** Position in the Dockerfile (what `COPY --from=<n>` names). */
  index: number;
  /** Lower-cased `AS` name, or "". */
  name: string;
  baseName: string;
  platform: string;
  source: string;
  line: number;
  commands: Instruction[];
};

export type Dockerfile = { metaArgs: ArgInstruction[]; stages: Stage[]; escapeToken: string };

/** The minimum health-check interval (dockerd's container.MinimumDuration). */
const MIN_DURATION = 1_000_000;
const BUILDKIT_ONLY = 'Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled';
const VALID_STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

type FlagType = 'bool' | 'string' | 'strings';

/** The instruction flags of one node (BuildKit's BFlags): declared, then parsed once. */
class Flags {
  private readonly defs = new Map<string, FlagType>();
  private readonly values = new Map<string, string[]>();
  constructor(private readonly args: string[]) {}

  declare(name: string, type: FlagType): this {
    this.defs.set(name, type);
    return this;
  }

  parse(): void {
    for (const a of this.args) {
      if (!a.startsWith('--')) throw errors.invalid(`Arg should start with -- : ${a}`);
      if (a === '--') return;
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const value = eq >= 0 ? a.slice(eq + 1) : '';
      const type = this.defs.get(name);
      if (type === undefined) throw errors.invalid(`Unknown flag: ${name}`);
      if (this.values.has(name) && type !== 'strings') throw errors.invalid(`Duplicate flag specified: ${name}`);
      if (type === 'bool') {
        if (eq >= 0 && value === '') throw errors.invalid(`Missing a value on flag: ${name}`);
        const l = value.toLowerCase();
        if (l !== '' && l !== 'true' && l !== 'false') throw errors.invalid(`Expecting boolean value for flag ${name}, not: ${value}`);
        this.values.set(name, [l === '' ? 'true' : l]);
      } else {
        if (eq < 0) throw errors.invalid(`Missing a value on flag: ${name}`);
        this.values.set(name, [...(this.values.get(name) ?? []), value]);
      }
    }
  }

  string(name: string): string {
    return this.values.get(name)?.[0] ?? '';
  }
  bool(name: string): boolean {
    return this.values.get(name)?.[0] === 'true';
  }
  used(): string[] {
    return [...this.values.keys()];
  }
}

const atLeastOne = (c: string) => errors.invalid(`${c} requires at least one argument`);
const exactlyOne = (c: string) => errors.invalid(`${c} requires exactly one argument`);
const noDestination = (c: string) => errors.invalid(`${c} requires at least two arguments, but only one was provided. Destination could not be determined`);
const blankNames = (c: string) => errors.invalid(`${c} names can not be blank`);

/** Shell form joins the arguments into one string; exec form keeps the array. */
function jsonArgs(n: Node): string[] {
  if (n.args.length === 0) return [];
  return n.json ? n.args : [n.args.join(' ')];
}

function base(n: Node): Base {
  return { source: nodeSource(n), line: n.startLine, endLine: n.endLine };
}

function kvs(n: Node, cmd: string): { key: string; value: string }[] {
  if (!n.kvs || n.kvs.length === 0) throw atLeastOne(cmd);
  return n.kvs.map((kv) => {
    if (kv.key.length === 0) throw blankNames(cmd);
    return { key: kv.key, value: kv.value };
  });
}

function interval(name: string, v: string): number {
  if (v === '') return 0;
  const d = parseDuration(v);
  if (d < BigInt(MIN_DURATION)) throw errors.invalid(`Interval ${goQuote(name)} cannot be less than ${formatDuration(MIN_DURATION)}`);
  return Number(d);
}

function parseHealthcheck(n: Node, b: Base): HealthcheckInstruction {
  if (n.args.length === 0) throw atLeastOne('HEALTHCHECK');
  let typ = n.args[0]!.toUpperCase();
  const rest = n.args.slice(1);
  if (typ === 'NONE') {
    if (rest.length !== 0) throw errors.invalid('HEALTHCHECK NONE takes no arguments');
    return { ...b, kind: 'healthcheck', health: { Test: ['NONE'] } };
  }
  const f = new Flags(n.flags).declare('interval', 'string').declare('timeout', 'string').declare('start-period', 'string').declare('start-interval', 'string').declare('retries', 'string');
  f.parse();
  if (typ !== 'CMD') throw errors.invalid(`Unknown type ${goQuote(typ)} in HEALTHCHECK (try CMD)`);
  const cmd = n.json ? rest : rest.length ? [rest.join(' ')] : [];
  if (cmd.length === 0) throw errors.invalid('Missing command after HEALTHCHECK CMD');
  if (!n.json) typ = 'CMD-SHELL';
  // Zero durations are left out, as Go's omitempty leaves them out of the image config.
  const health: HealthConfig = { Test: [typ, ...cmd] };
  for (const [k, flag] of [
    ['Interval', 'interval'],
    ['Timeout', 'timeout'],
    ['StartPeriod', 'start-period'],
    ['StartInterval', 'start-interval'],
  ] as const) {
    const v = interval(flag, f.string(flag));
    if (v) health[k] = v;
  }
  const r = f.string('retries');
  if (r !== '') {
    if (!/^[+-]?\d+$/.test(r)) throw errors.invalid(`strconv.ParseInt: parsing ${goQuote(r)}: invalid syntax`);
    const v = Number.parseInt(r, 10);
    if (v > 2147483647 || v < -2147483648) throw errors.invalid(`strconv.ParseInt: parsing ${goQuote(r)}: value out of range`);
    if (v < 1) throw errors.invalid(`--retries must be at least 1 (not ${v})`);
    health.Retries = v;
  }
  return { ...b, kind: 'healthcheck', health };
}

function parseCopy(n: Node, b: Base, kind: 'copy' | 'add'): CopyInstruction {
  const cmd = kind.toUpperCase();
  if (n.args.length < 2) throw noDestination(cmd);
  const f = new Flags(n.flags).declare('chown', 'string').declare('chmod', 'string').declare('link', 'bool');
  if (kind === 'copy') f.declare('from', 'string');
  f.parse();
  const dest = n.args[n.args.length - 1]!;
  if (parseHeredoc(dest)) throw errors.invalid(`${cmd} cannot accept a heredoc as a destination`);
  const docs = new Map<string, Heredoc>(n.heredocs.map((h) => [h.name, h]));
  const sources: string[] = [];
  const contents: SourceContent[] = [];
  for (const src of n.args.slice(0, -1)) {
    const h = parseHeredoc(src);
    if (h) {
      let data = docs.get(h.name)?.content ?? '';
      if (h.chomp) data = chompHeredoc(data);
      contents.push({ path: h.name, data, expand: h.expand });
    } else sources.push(src);
  }
  return { ...b, kind, sources, contents, dest, from: f.string('from'), chown: f.string('chown'), chmod: f.string('chmod'), link: f.bool('link') };
}

function parseRun(n: Node, b: Base): RunInstruction {
  const f = new Flags(n.flags).declare('mount', 'strings').declare('network', 'string').declare('security', 'string').declare('device', 'strings');
  f.parse();
  const used = f.used();
  // The classic builder runs RUN steps without any of BuildKit's RUN flags; refuse them at parse
  // time with dockerd's words rather than after the earlier steps have run.
  if (used.length > 0) throw errors.invalid(`the --${used[0]} option requires BuildKit. ${BUILDKIT_ONLY}`);
  const files = n.heredocs.map((h) => ({ name: h.name, data: h.content, chomp: h.chomp }));
  return { ...b, kind: 'run', cmdLine: jsonArgs(n), prependShell: !n.json, files };
}

function noFlags(n: Node): void {
  new Flags(n.flags).parse();
}

/** One node (not FROM) → its instruction; throws with dockerd's message (no location). */
function parseCommand(n: Node): Instruction {
  const b = base(n);
  switch (n.keyword) {
    case 'env':
      noFlags(n);
      return { ...b, kind: 'env', env: kvs(n, 'ENV') };
    case 'maintainer':
      if (n.args.length !== 1) throw exactlyOne('MAINTAINER');
      noFlags(n);
      return { ...b, kind: 'maintainer', maintainer: n.args[0]! };
    case 'label':
      noFlags(n);
      return { ...b, kind: 'label', labels: kvs(n, 'LABEL') };
    case 'add':
    case 'copy':
      return parseCopy(n, b, n.keyword);
    case 'onbuild': {
      if (n.args.length === 0 || !n.sub) throw atLeastOne('ONBUILD');
      noFlags(n);
      const trigger = n.args[0]!.trim().toUpperCase();
      if (trigger === 'ONBUILD') throw errors.invalid('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'MAINTAINER' || trigger === 'FROM') throw errors.invalid(`${trigger} isn't allowed as an ONBUILD trigger`);
      let expression = n.original.replace(/^\s*ONBUILD\s*/i, '');
      for (const h of n.heredocs) expression += `\n${h.content}${h.name}`;
      return { ...b, kind: 'onbuild', expression };
    }
    case 'workdir':
      if (n.args.length !== 1) throw exactlyOne('WORKDIR');
      noFlags(n);
      return { ...b, kind: 'workdir', path: n.args[0]! };
    case 'run':
      return parseRun(n, b);
    case 'cmd':
      noFlags(n);
      return { ...b, kind: 'cmd', cmdLine: jsonArgs(n), prependShell: !n.json };
    case 'entrypoint': {
      noFlags(n);
      const a = jsonArgs(n);
      return { ...b, kind: 'entrypoint', cmdLine: a.length ? a : null, prependShell: !n.json };
    }
    case 'healthcheck':
      return parseHealthcheck(n, b);
    case 'expose':
      if (n.args.length === 0) throw atLeastOne('EXPOSE');
      noFlags(n);
      return { ...b, kind: 'expose', ports: [...n.args].sort() };
    case 'user':
      if (n.args.length !== 1) throw exactlyOne('USER');
      noFlags(n);
      return { ...b, kind: 'user', user: n.args[0]! };
    case 'volume': {
      if (n.args.length === 0) throw atLeastOne('VOLUME');
      noFlags(n);
      const volumes = n.args.map((v) => v.trim());
      if (volumes.some((v) => v === '')) throw errors.invalid('VOLUME specified can not be an empty string');
      return { ...b, kind: 'volume', volumes };
    }
    case 'stopsignal':
      if (n.args.length !== 1) throw exactlyOne('STOPSIGNAL');
      return { ...b, kind: 'stopsignal', signal: n.args[0]! };
    case 'arg': {
      if (n.args.length < 1) throw atLeastOne('ARG');
      const args = n.args.map((a) => {
        const i = a.indexOf('=');
        if (i < 0) return { key: a };
        if (i === 0) throw blankNames('ARG');
        return { key: a.slice(0, i), value: a.slice(i + 1) };
      });
      return { ...b, kind: 'arg', args };
    }
    case 'shell': {
      noFlags(n);
      const a = jsonArgs(n);
      if (a.length === 0) throw atLeastOne('SHELL');
      if (!n.json) throw errors.invalid('SHELL requires the arguments to be in JSON form');
      return { ...b, kind: 'shell', shell: a };
    }
    default:
      throw errors.invalid(`unknown instruction: ${n.rawKeyword.toUpperCase()}`);
  }
}

function parseFrom(n: Node, index: number): Stage {
  let name = '';
  if (n.args.length === 3 && n.args[1]!.toLowerCase() === 'as') {
    name = n.args[2]!.toLowerCase();
    if (!VALID_STAGE_NAME.test(name)) throw errors.invalid(`invalid name for build stage: ${goQuote(n.args[2]!)}, name can't start with a number or contain symbols`);
  } else if (n.args.length !== 1) throw errors.invalid('FROM requires either one or three arguments');
  const f = new Flags(n.flags).declare('platform', 'string');
  f.parse();
  return { index, name, baseName: n.args[0]!, platform: f.string('platform'), source: nodeSource(n), line: n.startLine, commands: [] };
}

/** Parses one node as a command (for ONBUILD triggers and `commit --change`); FROM is refused. */
export function parseInstructionNode(n: Node): Instruction {
  try {
    if (n.keyword === 'from') throw errors.invalid('FROM isn\'t allowed here');
    return parseCommand(n);
  } catch (e) {
    if (e instanceof DockerfileError) throw e;
    throw new DockerfileError((e as Error).message, n.startLine, n.endLine);
  }
}

/** Parsed Dockerfile → meta ARGs and stages (instructions.Parse). */
export function toDockerfile(parsed: ParseResult): Dockerfile {
  const metaArgs: ArgInstruction[] = [];
  const stages: Stage[] = [];
  for (const n of parsed.nodes) {
    try {
      if (n.keyword === 'from') {
        stages.push(parseFrom(n, stages.length));
        continue;
      }
      const cmd = parseCommand(n);
      if (stages.length === 0) {
        if (cmd.kind === 'arg') {
          metaArgs.push(cmd);
          continue;
        }
        throw new DockerfileError('no build stage in current context', n.startLine, n.endLine);
      }
      stages[stages.length - 1]!.commands.push(cmd);
    } catch (e) {
      if (e instanceof DockerfileError) throw e;
      throw new DockerfileError((e as Error).message, n.startLine, n.endLine);
    }
  }
  return { metaArgs, stages, escapeToken: parsed.escapeToken };
}
