// `docker commit -c` / `docker import -c` changes: Dockerfile instructions applied to a config without
// building (dockerd's BuildFromConfig). Only CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK, LABEL,
// ONBUILD, USER, VOLUME and WORKDIR are allowed; variables expand against the config's own Env.
import { errors } from '../../errors/index';
import { expandInstruction, makeExpander } from './expand';
import { parseInstructionNode } from './instructions';
import { DockerfileError, parseDockerfile } from './parser';
import { copyConfig, normalizeWorkdir, parsePorts, setEnv, shellOf, type RunConfig } from './run-config';

const VALID = new Set(['cmd', 'entrypoint', 'healthcheck', 'env', 'expose', 'label', 'onbuild', 'user', 'volume', 'workdir']);

/** The config after the changes; throws InvalidArgument with dockerd's message. */
export function applyChanges(base: RunConfig, changes: readonly string[]): RunConfig {
  if (changes.length === 0) return base;
  const detail = (e: unknown) => (e instanceof DockerfileError ? e.detail : (e as Error).message);
  let parsed;
  try {
    parsed = parseDockerfile(changes.join('\n'));
  } catch (e) {
    throw errors.invalid(detail(e));
  }
  for (const n of parsed.nodes) if (!VALID.has(n.keyword)) throw errors.invalid(`${n.keyword} is not a valid change command`);
  const cfg = copyConfig(base);
  let cmdSet = false;
  for (const n of parsed.nodes) {
    let c;
    try {
      c = parseInstructionNode(n);
      c = expandInstruction(c, makeExpander(parsed.escapeToken, cfg.Env ?? []));
    } catch (e) {
      throw errors.invalid(detail(e));
    }
    switch (c.kind) {
      case 'env':
        for (const kv of c.env) cfg.Env = setEnv(cfg.Env ?? [], kv.key, kv.value);
        break;
      case 'label':
        cfg.Labels = { ...(cfg.Labels ?? {}), ...Object.fromEntries(c.labels.map((kv) => [kv.key, kv.value])) };
        break;
      case 'expose':
        cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}), ...Object.fromEntries(parsePorts(c.ports).map((p) => [p, {}])) };
        break;
      case 'user':
        cfg.User = c.user;
        break;
      case 'volume':
        cfg.Volumes = { ...(cfg.Volumes ?? {}), ...Object.fromEntries(c.volumes.map((v) => [v, {}])) };
        break;
      case 'workdir':
        cfg.WorkingDir = normalizeWorkdir(cfg.WorkingDir ?? '', c.path);
        break;
      case 'onbuild':
        cfg.OnBuild = [...(cfg.OnBuild ?? []), c.expression];
        break;
      case 'healthcheck':
        cfg.Healthcheck = c.health;
        break;
      case 'cmd':
        cfg.Cmd = c.prependShell ? [...shellOf(cfg), ...c.cmdLine] : c.cmdLine;
        if (c.cmdLine.length !== 0) cmdSet = true;
        break;
      case 'entrypoint':
        cfg.Entrypoint = c.cmdLine === null ? null : c.prependShell ? [...shellOf(cfg), ...c.cmdLine] : c.cmdLine;
        if (!cmdSet) cfg.Cmd = null;
        break;
      default:
        throw errors.invalid(`${n.keyword} is not a valid change command`);
    }
  }
  return cfg;
}
