// docker commit on the engine (POST /commit): the container's writable layer becomes an image on top
// of the container's image, with the config dockerd writes (daemon/commit.go): the request's config
// or the container's, the --change lines applied (dockerfile.BuildFromConfig), gaps filled from the
// container's config (merge), history created_by = the container's Cmd. A running container is
// paused for the time of the commit unless pause=false, with dockerd's pause/unpause events; then
// image tag and container commit events.
import { RuntimeError } from '../../errors/index';
import { applyChange } from '../images/import';
import type { ImageConfig } from '../images/manifest';
import { familiarString, formatReference, parseNormalized } from '../images/reference';
import { commitSnapshot } from '../snapshots/commit';
import type { FsReader } from '../snapshots/layer-writer';
import { task } from '../tasks/shim';
import type { Engine } from './engine';
import type { ContainerConfig, ContainerRecord } from './types';

export type CommitRequest = {
  /** Repository (normalised by the CLI, "docker.io/library/x") and tag; no repo: untagged. */
  repo?: string;
  tag?: string;
  author?: string;
  comment?: string;
  /** Dockerfile instructions (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR). */
  changes: string[];
  /** Freeze the container meanwhile (the API's default). */
  pause: boolean;
  /** The request body: a container config to commit instead of the container's own. */
  config?: ContainerConfig;
};

type Cfg = NonNullable<ImageConfig['config']>;

/** --change lines on a copy of cfg, as a build would: ENTRYPOINT drops an inherited CMD. */
export function applyChanges(cfg: ContainerConfig, changes: string[]): ContainerConfig {
  const out: ContainerConfig = structuredClone(cfg);
  let cmdSet = false;
  for (const line of changes) {
    const instr = /^\s*(\w+)/.exec(line)?.[1]?.toUpperCase();
    if (!instr) continue;
    applyChange(out as Cfg, line);
    if (instr === 'CMD') cmdSet = true;
    if (instr === 'ENTRYPOINT' && !cmdSet) out.Cmd = null;
  }
  return out;
}

/** dockerd's merge(userConf, imageConf): what the new config lacks comes from the container's. */
export function mergeConfig(user: ContainerConfig, from: ContainerConfig): ContainerConfig {
  const u: ContainerConfig = { ...user };
  if (!u.User) u.User = from.User;
  if (!u.ExposedPorts || Object.keys(u.ExposedPorts).length === 0) u.ExposedPorts = from.ExposedPorts;
  else u.ExposedPorts = { ...(from.ExposedPorts ?? {}), ...u.ExposedPorts };
  if (!u.Env || u.Env.length === 0) u.Env = from.Env;
  else {
    const keys = new Set(u.Env.map((x) => x.split('=', 1)[0]));
    u.Env = [...u.Env, ...(from.Env ?? []).filter((x) => !keys.has(x.split('=', 1)[0]))];
  }
  u.Labels = { ...(from.Labels ?? {}), ...(u.Labels ?? {}) };
  if (!u.Entrypoint || u.Entrypoint.length === 0) {
    if (!u.Cmd || u.Cmd.length === 0) u.Cmd = from.Cmd;
    if (u.Entrypoint === undefined || u.Entrypoint === null) u.Entrypoint = from.Entrypoint;
  }
  if (from.Healthcheck && !u.Healthcheck) u.Healthcheck = from.Healthcheck;
  if (!u.WorkingDir) u.WorkingDir = from.WorkingDir;
  if (!u.Volumes || Object.keys(u.Volumes).length === 0) u.Volumes = from.Volumes;
  else u.Volumes = { ...u.Volumes, ...(from.Volumes ?? {}) };
  if (!u.StopSignal) u.StopSignal = from.StopSignal;
  return u;
}

const emptyToNull = <T extends object>(m: T | null | undefined): T | null => (m && Object.keys(m).length > 0 ? m : null);

/** A container config as dockerd writes it into an image (Go's field order, empty maps as null). */
export function dockerConfig(c: ContainerConfig): Cfg & Record<string, unknown> {
  const out: Record<string, unknown> = {
    Hostname: c.Hostname ?? '',
    Domainname: c.Domainname ?? '',
    User: c.User ?? '',
    AttachStdin: !!c.AttachStdin,
    AttachStdout: !!c.AttachStdout,
    AttachStderr: !!c.AttachStderr,
  };
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length > 0) out.ExposedPorts = c.ExposedPorts;
  Object.assign(out, { Tty: !!c.Tty, OpenStdin: !!c.OpenStdin, StdinOnce: !!c.StdinOnce, Env: c.Env ?? null, Cmd: c.Cmd ?? null });
  if (c.Healthcheck) out.Healthcheck = c.Healthcheck;
  if (c.ArgsEscaped) out.ArgsEscaped = true;
  Object.assign(out, {
    Image: c.Image ?? '',
    Volumes: emptyToNull(c.Volumes),
    WorkingDir: c.WorkingDir ?? '',
    Entrypoint: c.Entrypoint ?? null,
    OnBuild: c.OnBuild ?? null,
    Labels: c.Labels ?? null,
  });
  if (c.StopSignal) out.StopSignal = c.StopSignal;
  if (c.StopTimeout !== undefined && c.StopTimeout !== null) out.StopTimeout = c.StopTimeout;
  if (c.Shell && c.Shell.length > 0) out.Shell = c.Shell;
  return out as Cfg & Record<string, unknown>;
}

/** The canonical name repo:tag stands for (tag defaults to latest); undefined without a repo. */
export function commitName(repo?: string, tag?: string): string | undefined {
  if (!repo) {
    if (tag) throw new RuntimeError('InvalidArgument', 'tag is specified without a repository');
    return undefined;
  }
  let ref;
  try {
    ref = parseNormalized(tag ? `${repo}:${tag}` : repo);
  } catch {
    throw new RuntimeError('InvalidArgument', 'invalid reference format');
  }
  if (ref.digest) throw new RuntimeError('InvalidArgument', 'refusing to create a tag with a digest reference');
  if (ref.tag === undefined) ref.tag = 'latest';
  return formatReference(ref);
}

async function setPaused(e: Engine, rec: ContainerRecord, paused: boolean): Promise<void> {
  const conn = e.live(rec.ID).conn!;
  if (paused) await task.pause(conn, rec.ID);
  else await task.resume(conn, rec.ID);
  Object.assign(rec.State, { Status: paused ? 'paused' : 'running', Paused: paused });
  await e.d.store.save(rec);
  e.event(rec, paused ? 'pause' : 'unpause');
}

/** POST /commit: returns the new image's ID (sha256:…). */
export async function commitContainer(e: Engine, fsr: FsReader, ref: string, o: CommitRequest): Promise<string> {
  const rec = e.find(ref);
  const name = commitName(o.repo, o.tag);
  return e.lock.run(rec.ID, async () => {
    if (rec.State.Dead) throw new RuntimeError('AlreadyExists', `You cannot commit container ${rec.ID} which is Dead`);
    if (rec.State.Status === 'removing') throw new RuntimeError('AlreadyExists', `You cannot commit container ${rec.ID} which is being removed`);
    const base = await e.image(rec.Image);
    const pause = o.pause && rec.State.Running && !rec.State.Paused && !!e.live(rec.ID).conn;
    if (pause) await setPaused(e, rec, true);
    try {
      const cfg = mergeConfig(applyChanges(o.config && Object.keys(o.config).length > 0 ? o.config : rec.Config, o.changes), rec.Config);
      const r = await commitSnapshot(
        { content: e.d.content, images: e.d.images, snapshotter: e.d.snapshotter, fsr },
        {
          key: rec.SnapshotKey,
          base,
          config: dockerConfig(cfg),
          createdBy: (rec.Config.Cmd ?? []).join(' '),
          ...(o.author ? { author: o.author } : {}),
          ...(o.comment ? { comment: o.comment } : {}),
          extra: { container: rec.ID, container_config: dockerConfig(rec.Config) },
          ...(name ? { name } : {}),
        },
      );
      const familiar = name ? familiarString(parseNormalized(name)) : '';
      if (name) e.d.events.publish('image', 'tag', r.id, { name: familiar });
      e.event(rec, 'commit', { comment: o.comment ?? '', imageID: r.id, imageRef: familiar });
      return r.id;
    } finally {
      if (pause) await setPaused(e, rec, false).catch((err) => e.d.log.warn({ id: rec.ID, err: String(err) }, 'unpause after commit'));
    }
  });
}
