// The stage graph of a multi-stage Dockerfile: which stage a FROM or COPY --from names, what the
// target needs (stages it does not need are skipped, as BuildKit does), and dependency layers so that
// independent stages can build in parallel. Static: ARG values are evaluated as far as the Dockerfile
// alone allows (meta ARGs, build-args, the stage's own ARG/ENV lines); no image is consulted.
import { errors } from '../../errors/index';
import type { BuildArgValues } from './build-args';
import type { Dockerfile, Stage } from './instructions';
import { envFromList, ShellLex } from './shell-lex';

export type StageRef = { kind: 'stage'; index: number } | { kind: 'image'; name: string } | { kind: 'scratch' };

export type StageNode = {
  stage: Stage;
  /** What the FROM line names (after meta-ARG expansion; unresolvable names stay as written). */
  base: StageRef;
  /** Earlier stages this one needs (its base and every COPY --from that names a stage). */
  deps: number[];
};

export type StagePlan = {
  nodes: StageNode[];
  /** Index of the target stage. */
  target: number;
  /** Stages to build, in Dockerfile order (the target and what it needs). */
  build: number[];
  /** `build` grouped by depth: every stage of a layer depends only on earlier layers. */
  layers: number[][];
};

/** COPY --from / FROM resolution among the stages before `before` (names are case-insensitive). */
export function findStage(stages: readonly Stage[], nameOrIndex: string, before: number, allowIndex: boolean): number | undefined {
  const lower = nameOrIndex.toLowerCase();
  for (let i = 0; i < before; i++) if (stages[i]!.name !== '' && stages[i]!.name === lower) return i;
  if (allowIndex && /^[+-]?\d+$/.test(nameOrIndex)) {
    const ix = Number.parseInt(nameOrIndex, 10);
    if (ix === before) throw errors.invalid(`invalid from flag value ${nameOrIndex}: refers to current build stage`);
    if (ix < 0 || ix > before) throw errors.invalid(`invalid from flag value ${nameOrIndex}: index out of bounds`);
    return ix;
  }
  return undefined;
}

function expandOr(lex: ShellLex, word: string, env: string[]): string {
  try {
    return lex.processWord(word, envFromList(env));
  } catch {
    return word;
  }
}

/** Builds the stage graph and the build order for target ("" = the last stage). */
export function planStages(df: Dockerfile, target: string, buildArgs: BuildArgValues): StagePlan {
  const lex = new ShellLex(df.escapeToken);
  const opts = Object.entries(buildArgs).filter((e): e is [string, string] => e[1] !== null);
  // Meta ARGs, in order, each expanded with what precedes it (as processMetaArg does).
  const meta = new Map<string, string>();
  for (const a of df.metaArgs) {
    for (const { key, value } of a.args) {
      const env = [...meta].map(([k, v]) => `${k}=${v}`);
      const k = expandOr(lex, key, env);
      const given = buildArgs[k];
      if (given !== undefined && given !== null) meta.set(k, given);
      else if (value !== undefined) meta.set(k, expandOr(lex, value, env));
    }
  }
  const metaEnv = [...meta].map(([k, v]) => `${k}=${v}`);
  const nodes: StageNode[] = df.stages.map((stage, i) => {
    const name = expandOr(lex, stage.baseName, metaEnv);
    let base: StageRef;
    const s = findStage(df.stages, name, i, false);
    if (s !== undefined) base = { kind: 'stage', index: s };
    else if (name === 'scratch') base = { kind: 'scratch' };
    else base = { kind: 'image', name };
    const deps = new Set<number>();
    if (base.kind === 'stage') deps.add(base.index);
    // The stage's own ARG/ENV lines, evaluated in order, approximate the env a COPY --from sees.
    const env: string[] = [];
    const declared = new Map<string, string | undefined>();
    const lookup = () => [...env, ...[...declared].filter((e): e is [string, string] => e[1] !== undefined && !env.some((x) => x.startsWith(`${e[0]}=`))).map(([k, v]) => `${k}=${v}`)];
    for (const c of stage.commands) {
      if (c.kind === 'arg') {
        for (const { key, value } of c.args) {
          const o = opts.find(([k]) => k === key);
          declared.set(key, o ? o[1] : value !== undefined ? expandOr(lex, value, lookup()) : meta.get(key));
        }
      } else if (c.kind === 'env') {
        for (const { key, value } of c.env) env.push(`${key}=${expandOr(lex, value, lookup())}`);
      } else if (c.kind === 'copy' && c.from !== '') {
        const from = expandOr(lex, c.from, lookup());
        const ix = findStage(df.stages, from, i, true);
        if (ix !== undefined) deps.add(ix);
      }
    }
    return { stage, base, deps: [...deps].sort((a, b) => a - b) };
  });
  if (nodes.length === 0) throw errors.invalid('no build stage in current context');
  let targetIx = nodes.length - 1;
  if (target !== '') {
    const t = nodes.findIndex((n) => n.stage.name !== '' && n.stage.name === target.toLowerCase());
    if (t < 0) throw errors.invalid(`failed to reach build target ${target} in Dockerfile`);
    targetIx = t;
  }
  const needed = new Set<number>();
  const visit = (i: number) => {
    if (needed.has(i)) return;
    needed.add(i);
    for (const d of nodes[i]!.deps) visit(d);
  };
  visit(targetIx);
  const build = [...needed].sort((a, b) => a - b);
  const depth = new Map<number, number>();
  for (const i of build) depth.set(i, Math.max(-1, ...nodes[i]!.deps.map((d) => depth.get(d)!)) + 1);
  const layers: number[][] = [];
  for (const i of build) (layers[depth.get(i)!] ??= []).push(i);
  return { nodes, target: targetIx, build, layers };
}
