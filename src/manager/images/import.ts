// docker import (a root filesystem tar becomes a one-layer image) and the `--change` instructions
// that import and commit accept (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER,
// VOLUME, WORKDIR), applied to an image config. Writes blobs and the record; knows no containers.
import { createHash } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { RuntimeError } from '../../errors/index';
import type { ContentStore } from '../content/index';
import { decompress } from '../snapshots/apply-layer';
import type { ImageStore } from './image-store';
import { MediaType, type ImageConfig } from './manifest';
import { formatReference, parseNormalized } from './reference';
import { putName } from './retag';

type Cfg = NonNullable<ImageConfig['config']>;

function words(s: string): string[] {
  const t = s.trim();
  if (t.startsWith('[')) {
    try {
      const a = JSON.parse(t) as unknown;
      if (Array.isArray(a) && a.every((x) => typeof x === 'string')) return a as string[];
    } catch {
      /* shell form */
    }
  }
  return ['/bin/sh', '-c', t];
}

function keyValues(s: string, instr: string): [string, string][] {
  const t = s.trim();
  if (!t.includes('=')) {
    const sp = t.search(/\s/);
    if (sp < 0) throw new RuntimeError('InvalidArgument', `${instr} requires two arguments`);
    return [[t.slice(0, sp), t.slice(sp).trim()]];
  }
  const out: [string, string][] = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(t))) {
    let v = m[2]!;
    if (v.startsWith('"')) v = JSON.parse(v) as string;
    else if (v.startsWith("'")) v = v.slice(1, -1);
    out.push([m[1]!, v]);
  }
  return out;
}

/** Applies one `--change` line to cfg (Dockerfile syntax for the instructions commit allows). */
export function applyChange(cfg: Cfg, line: string): void {
  const m = /^\s*(\w+)\s*(.*)$/s.exec(line);
  if (!m) return;
  const instr = m[1]!.toUpperCase();
  const rest = m[2]!;
  switch (instr) {
    case 'CMD':
      cfg.Cmd = words(rest);
      break;
    case 'ENTRYPOINT':
      cfg.Entrypoint = words(rest);
      break;
    case 'ENV': {
      const env = cfg.Env ?? [];
      for (const [k, v] of keyValues(rest, 'ENV')) {
        const i = env.findIndex((e) => e.split('=', 1)[0] === k);
        if (i >= 0) env[i] = `${k}=${v}`;
        else env.push(`${k}=${v}`);
      }
      cfg.Env = env;
      break;
    }
    case 'LABEL':
      cfg.Labels = { ...(cfg.Labels ?? {}), ...Object.fromEntries(keyValues(rest, 'LABEL')) };
      break;
    case 'EXPOSE':
      for (const p of rest.trim().split(/\s+/)) cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}), [p.includes('/') ? p : `${p}/tcp`]: {} };
      break;
    case 'VOLUME': {
      const vs = rest.trim().startsWith('[') ? (JSON.parse(rest) as string[]) : rest.trim().split(/\s+/);
      for (const v of vs) cfg.Volumes = { ...(cfg.Volumes ?? {}), [v]: {} };
      break;
    }
    case 'WORKDIR':
      cfg.WorkingDir = rest.trim();
      break;
    case 'USER':
      cfg.User = rest.trim();
      break;
    case 'STOPSIGNAL':
      cfg.StopSignal = rest.trim();
      break;
    case 'ONBUILD':
      (cfg as Cfg & { OnBuild?: string[] }).OnBuild = [...((cfg as Cfg & { OnBuild?: string[] }).OnBuild ?? []), rest.trim()];
      break;
    default:
      throw new RuntimeError('InvalidArgument', `${instr} is not a valid change command`);
  }
}

export type ImportResult = { id: string; name?: string };

/**
 * Stores the tar read from src as one uncompressed layer (a compressed tar is decompressed first)
 * and makes an image of it; names it repo:tag when given.
 */
export async function importImage(
  deps: { content: ContentStore; images: ImageStore },
  src: AsyncIterable<Buffer>,
  o: { repo?: string; tag?: string; changes?: string[]; message?: string; platform?: { os: string; architecture: string }; source?: string },
): Promise<ImportResult> {
  const w = await deps.content.writer(`import-${randomBytes(8).toString('hex')}`);
  const h = createHash('sha256');
  let size = 0;
  let info;
  try {
    for await (const c of decompress(src)) {
      h.update(c);
      size += c.length;
      await w.write(c);
    }
    if (size === 0) throw new RuntimeError('InvalidArgument', 'import: the archive is empty');
    info = await w.commit({ digest: `sha256:${h.digest('hex')}` });
  } catch (e) {
    await w.abort().catch(() => undefined);
    throw e;
  }
  const cfg: Cfg = {};
  for (const c of o.changes ?? []) applyChange(cfg, c);
  const created = new Date().toISOString();
  const config: ImageConfig = {
    architecture: o.platform?.architecture ?? 'amd64',
    os: o.platform?.os ?? 'linux',
    created,
    config: cfg,
    rootfs: { type: 'layers', diff_ids: [info.digest] },
    history: [{ created, created_by: '', comment: o.message || `Imported from ${o.source ?? '-'}` }],
  } as ImageConfig;
  const configBlob = await deps.content.put(Buffer.from(JSON.stringify(config)));
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: configBlob.digest, size: configBlob.size },
    layers: [{ mediaType: MediaType.ociLayer, digest: info.digest, size: info.size }],
  };
  const mblob = await deps.content.put(Buffer.from(JSON.stringify(manifest)));
  const target = { mediaType: MediaType.ociManifest, digest: mblob.digest, size: mblob.size };
  let name: string | undefined;
  if (o.repo) {
    const ref = parseNormalized(o.tag ? `${o.repo}:${o.tag}` : o.repo);
    if (ref.tag === undefined && ref.digest === undefined) ref.tag = 'latest';
    name = formatReference(ref);
    await putName(deps, { name, target, createdAt: created });
  } else {
    await deps.images.put({ name: `sha256:${configBlob.digest.slice(7)}`, target, createdAt: created });
  }
  return { id: configBlob.digest, name };
}
