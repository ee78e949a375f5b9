// Docker-compatible views of a local image: `docker image inspect` JSON (api/types ImageInspect) and
// `docker history` rows. Pure functions of a LocalImage; formatting for terminals stays in cmd/.
import type { LocalImage } from './resolve';
import { familiarRepository, familiarString, parseReference } from './reference';

/** Size docker reports: the sum of layer blob sizes (we have no unpacked size before unpacking). */
export function imageSize(img: LocalImage): number {
  return img.manifest.layers.reduce((n, l) => n + l.size, 0);
}

/** A record naming an untagged image by its ID (dangling images: `<none>` in docker images). */
export function isIdRecord(name: string): boolean {
  return /^sha256:[a-f0-9]{64}$/.test(name);
}

export function repoTags(img: LocalImage): string[] {
  return img.records.filter((r) => !r.name.includes('@') && !isIdRecord(r.name)).map((r) => familiarString(parseReference(r.name)));
}

export function repoDigests(img: LocalImage): string[] {
  const out = new Set<string>();
  for (const r of img.records) {
    if (isIdRecord(r.name)) continue;
    const ref = parseReference(r.name);
    const d = r.repoDigest ?? (r.name.includes('@') ? ref.digest : undefined);
    if (d) out.add(`${familiarRepository(ref)}@${d}`);
  }
  return [...out];
}

/** The JSON object `docker image inspect` prints for one image. */
export function inspectImage(img: LocalImage): Record<string, unknown> {
  const c = img.config;
  const cfg = c.config ?? {};
  const lastTag = img.records.map((r) => r.createdAt).filter((x): x is string => !!x).sort().at(-1);
  return {
    Id: img.id,
    RepoTags: repoTags(img),
    RepoDigests: repoDigests(img),
    Parent: '',
    Comment: (c.comment as string | undefined) ?? '',
    Created: c.created ?? '',
    DockerVersion: (c.docker_version as string | undefined) ?? '',
    Author: c.author ?? '',
    Config: {
      Hostname: '',
      Domainname: '',
      User: cfg.User ?? '',
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      ...(cfg.ExposedPorts ? { ExposedPorts: cfg.ExposedPorts } : {}),
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      Env: cfg.Env ?? null,
      Cmd: cfg.Cmd ?? null,
      ...(cfg.Healthcheck ? { Healthcheck: cfg.Healthcheck } : {}),
      ...(cfg.ArgsEscaped ? { ArgsEscaped: true } : {}),
      Image: '',
      Volumes: cfg.Volumes ?? null,
      WorkingDir: cfg.WorkingDir ?? '',
      Entrypoint: cfg.Entrypoint ?? null,
      OnBuild: cfg.OnBuild ?? null,
      Labels: cfg.Labels ?? null,
      ...(cfg.StopSignal ? { StopSignal: cfg.StopSignal } : {}),
      ...(cfg.Shell ? { Shell: cfg.Shell } : {}),
    },
    Architecture: c.architecture,
    ...(c.variant ? { Variant: c.variant } : {}),
    Os: c.os,
    ...(c['os.version'] ? { OsVersion: c['os.version'] } : {}),
    Size: imageSize(img),
    GraphDriver: { Data: null, Name: 'overlay2' },
    RootFS: { Type: 'layers', Layers: c.rootfs.diff_ids },
    Metadata: { LastTagTime: lastTag ?? '0001-01-01T00:00:00Z' },
    Descriptor: { mediaType: img.records[0]?.target.mediaType ?? '', digest: img.manifestDigest, size: img.records[0]?.target.size ?? 0 },
  };
}

export type HistoryRow = { id: string; created?: string; createdBy: string; size: number; comment: string; emptyLayer: boolean };

/**
 * `docker history` rows, newest first. Non-empty history entries are matched to layers in order;
 * only the newest row carries the image ID (the others are "<missing>" for pulled images).
 */
export function imageHistory(img: LocalImage): HistoryRow[] {
  const hist: NonNullable<LocalImage['config']['history']> = img.config.history ?? img.manifest.layers.map(() => ({}));
  let layer = 0;
  const rows: HistoryRow[] = hist.map((h) => {
    const empty = h.empty_layer === true;
    const size = empty ? 0 : (img.manifest.layers[layer++]?.size ?? 0);
    const row: HistoryRow = { id: '<missing>', createdBy: h.created_by ?? '', size, comment: h.comment ?? '', emptyLayer: empty };
    if (h.created) row.created = h.created;
    return row;
  });
  rows.reverse();
  if (rows[0]) rows[0].id = img.id;
  return rows;
}
