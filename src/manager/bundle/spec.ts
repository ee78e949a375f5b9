// Generates a runtime-spec config.json from an image config: the default spec `runc spec` writes
// (without a terminal), with docker's defaults where they differ (writable root, docker's capability
// set, HOSTNAME), and process args/env/cwd/user, volumes and labels taken from the image.
// Pure except for reading the rootfs's passwd/group; writes nothing.
import { createHash } from 'node:crypto';
import { errors } from '../../errors/index';
import type { Mount } from '../../../spec/types/runtime';
import { defaultSpec } from '../../oci/default-spec';
import type { ImageConfig } from '../images/manifest';
import { resolveUser } from './user';

export type SpecOptions = {
  /** Host path of the mounted rootfs (read for /etc/passwd and /etc/group). */
  rootfs: string;
  /** root.path as written into config.json (relative to the bundle). */
  rootPath?: string;
  hostname?: string;
  /** Replaces the image's Cmd (docker run IMAGE ARGS…). */
  args?: string[];
  /** Replaces the image's Entrypoint. */
  entrypoint?: string[];
  /** Extra KEY=VALUE entries, overriding the image's. */
  env?: string[];
  /** Overrides the image's USER. */
  user?: string;
  workdir?: string;
  /** Host directories backing each image VOLUME; called once per volume path. */
  volumeSource?: (containerPath: string) => string;
};

export type RuntimeSpec = Record<string, unknown> & { ociVersion: string; process: { args: string[]; env: string[]; cwd: string; user: { uid: number; gid: number; additionalGids?: number[] }; [k: string]: unknown } };

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** moby's oci/caps DefaultCapabilities. */
export const DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Merges KEY=VALUE lists; later entries replace earlier ones with the same key, order kept. */
export function mergeEnv(...lists: string[][]): string[] {
  const m = new Map<string, string>();
  for (const l of lists) for (const e of l) m.set(e.split('=', 1)[0]!, e);
  return [...m.values()];
}

export async function generateSpec(image: ImageConfig, opts: SpecOptions): Promise<RuntimeSpec> {
  const c = image.config ?? {};
  const entrypoint = opts.entrypoint ?? c.Entrypoint ?? [];
  const cmd = opts.args && opts.args.length > 0 ? opts.args : opts.entrypoint ? [] : (c.Cmd ?? []);
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw errors.invalid('no command specified');
  const hostname = opts.hostname ?? 'dock';
  const imageEnv = c.Env ?? [];
  const base = imageEnv.some((e) => e.startsWith('PATH=')) ? [] : [DEFAULT_PATH];
  const env = mergeEnv(base, [`HOSTNAME=${hostname}`], imageEnv, opts.env ?? []);
  const user = await resolveUser(opts.rootfs, opts.user ?? c.User);
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home || '/'}`);
  const cwd = opts.workdir ?? (c.WorkingDir || '/');
  if (!cwd.startsWith('/')) throw errors.invalid(`the working directory '${cwd}' is invalid, it needs to be an absolute path`);
  const caps = DEFAULT_CAPS;
  // runc's default spec (src/oci/default-spec.ts), with docker's noexec/nodev on /proc.
  const runcDefault = defaultSpec();
  const mounts: Mount[] = runcDefault.mounts!.map((m) => (m.type === 'proc' ? { ...m, options: ['nosuid', 'noexec', 'nodev'] } : m));
  for (const v of Object.keys(c.Volumes ?? {}).sort()) {
    if (!v.startsWith('/')) throw errors.invalid(`volume ${v}: not an absolute path`);
    const source = opts.volumeSource ? opts.volumeSource(v) : undefined;
    if (source === undefined) continue;
    mounts.push({ destination: v, type: 'bind', source, options: ['rbind', 'rw'] });
  }
  const annotations: Record<string, string> = { ...(c.Labels ?? {}) };
  if (c.StopSignal) annotations['org.opencontainers.image.stopSignal'] = c.StopSignal;
  const spec: RuntimeSpec = {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: false,
      user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length > 0 ? { additionalGids: user.additionalGids } : {}) },
      args,
      env,
      cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: runcDefault.process!.rlimits!,
      noNewPrivileges: true,
    },
    root: { path: opts.rootPath ?? 'rootfs', readonly: false },
    hostname,
    mounts,
    linux: runcDefault.linux!,
  };
  if (Object.keys(annotations).length > 0) spec.annotations = annotations;
  return spec;
}

/** Stable per-volume directory name for a container path. */
export function volumeDirName(containerPath: string): string {
  return createHash('sha256').update(containerPath).digest('hex').slice(0, 16);
}
