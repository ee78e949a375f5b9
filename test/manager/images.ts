// Test fixture: OCI image layouts made offline from busybox-static (and generated layers), written
// with plain fs so the fixture does not depend on the code under test; pushed with skopeo.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const run = promisify(execFile);
export const BUSYBOX = '/bin/busybox';

export function skopeoSkipReason(): string | undefined {
  if (!existsSync('/usr/bin/skopeo')) return 'skopeo not installed (apt-get install skopeo)';
  if (!existsSync(BUSYBOX)) return 'busybox-static not installed';
  return undefined;
}

type Desc = { mediaType: string; digest: string; size: number; platform?: { os: string; architecture: string; variant?: string } };

async function writeBlob(layout: string, data: Buffer): Promise<{ digest: string; size: number }> {
  const hex = createHash('sha256').update(data).digest('hex');
  await fs.mkdir(path.join(layout, 'blobs', 'sha256'), { recursive: true });
  await fs.writeFile(path.join(layout, 'blobs', 'sha256', hex), data);
  return { digest: `sha256:${hex}`, size: data.length };
}

/** A tar of dir made by GNU tar, deterministic (sorted, mtime 0, root-owned). */
export async function tarDir(dir: string): Promise<Buffer> {
  const { stdout } = await run('tar', ['-C', dir, '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-cf', '-', '.'], {
    encoding: 'buffer',
    maxBuffer: 1 << 30,
  });
  return stdout as unknown as Buffer;
}

/** A busybox rootfs: /bin/busybox, applet symlinks, /etc/passwd and /etc/group. */
export async function makeBusyboxRootfs(dir: string, marker = 'busybox'): Promise<void> {
  await fs.mkdir(path.join(dir, 'bin'), { recursive: true });
  await fs.mkdir(path.join(dir, 'etc'), { recursive: true });
  await fs.mkdir(path.join(dir, 'tmp'), { recursive: true, mode: 0o1777 });
  await fs.copyFile(BUSYBOX, path.join(dir, 'bin', 'busybox'));
  await fs.chmod(path.join(dir, 'bin', 'busybox'), 0o755);
  for (const a of ['sh', 'ls', 'cat', 'echo', 'id', 'pwd', 'env', 'true', 'false', 'sleep', 'stat', 'readlink', 'wc']) {
    await fs.symlink('busybox', path.join(dir, 'bin', a));
  }
  await fs.writeFile(path.join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  await fs.writeFile(path.join(dir, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  await fs.writeFile(path.join(dir, 'etc', 'marker'), marker + '\n');
}

export type LayerSpec = { tar: Buffer; compress?: 'gzip' | 'none' };

export type ImageSpec = {
  layers: LayerSpec[];
  config?: Record<string, unknown>;
  architecture?: string;
  docker?: boolean;
};

/** Writes one image (config + layers + manifest) into layout's blobs; returns the manifest descriptor. */
export async function writeImage(layout: string, spec: ImageSpec): Promise<Desc> {
  const docker = spec.docker ?? false;
  const layers: Desc[] = [];
  const diffIds: string[] = [];
  for (const l of spec.layers) {
    diffIds.push(`sha256:${createHash('sha256').update(l.tar).digest('hex')}`);
    const gz = (l.compress ?? 'gzip') === 'gzip';
    const data = gz ? gzipSync(l.tar, { level: 1 }) : l.tar;
    const b = await writeBlob(layout, data);
    layers.push({ mediaType: docker ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : gz ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar', ...b });
  }
  const arch = spec.architecture ?? 'amd64';
  const config = {
    created: '2024-01-01T00:00:00Z',
    architecture: arch,
    os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], ...(spec.config ?? {}) },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: diffIds.map((_, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `layer ${i}` })),
  };
  const cb = await writeBlob(layout, Buffer.from(JSON.stringify(config)));
  const manifest = {
    schemaVersion: 2,
    mediaType: docker ? 'application/vnd.docker.distribution.manifest.v2+json' : 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: docker ? 'application/vnd.docker.container.image.v1+json' : 'application/vnd.oci.image.config.v1+json', ...cb },
    layers,
  };
  const mb = await writeBlob(layout, Buffer.from(JSON.stringify(manifest)));
  return { mediaType: manifest.mediaType, ...mb, platform: { os: 'linux', architecture: arch } };
}

/** Writes oci-layout and index.json naming each descriptor with its ref. */
export async function writeLayout(layout: string, refs: Record<string, Desc>): Promise<void> {
  await fs.mkdir(layout, { recursive: true });
  await fs.writeFile(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const manifests = Object.entries(refs).map(([ref, d]) => ({ ...d, annotations: { 'org.opencontainers.image.ref.name': ref } }));
  await fs.writeFile(path.join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
}

/** An index over several manifests (multi-platform image). */
export async function writeIndex(layout: string, manifests: Desc[]): Promise<Desc> {
  const idx = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests };
  const b = await writeBlob(layout, Buffer.from(JSON.stringify(idx)));
  return { mediaType: idx.mediaType, ...b };
}

/** A layer tar of `mb` megabytes of random data in a few files. */
export async function randomLayer(work: string, mb: number, name: string): Promise<Buffer> {
  const dir = path.join(work, `gen-${name}`);
  await fs.mkdir(dir, { recursive: true });
  const per = 16;
  for (let i = 0; i * per < mb; i++) await fs.writeFile(path.join(dir, `f${i}`), randomBytes(Math.min(per, mb - i * per) << 20));
  const tar = await tarDir(dir);
  await fs.rm(dir, { recursive: true, force: true });
  return tar;
}

/** skopeo copy with TLS verification off for the loopback registry. */
export async function skopeoCopy(src: string, dst: string, extra: string[] = []): Promise<void> {
  await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', ...extra, src, dst], { maxBuffer: 1 << 24 });
}

export async function skopeoInspect(ref: string, raw = false): Promise<string> {
  const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', ...(raw ? ['--raw'] : []), ref], { maxBuffer: 1 << 24 });
  return stdout;
}

/** Builds the standard busybox test image layout at `layout` with ref "busybox"; returns its manifest. */
export async function makeBusyboxLayout(work: string, layout: string, opts: { docker?: boolean; marker?: string } = {}): Promise<Desc> {
  const root = path.join(work, `rootfs-${Math.random().toString(36).slice(2)}`);
  await makeBusyboxRootfs(root, opts.marker);
  const tar = await tarDir(root);
  await fs.rm(root, { recursive: true, force: true });
  const d = await writeImage(layout, {
    layers: [{ tar }],
    docker: opts.docker ?? false,
    config: { Cmd: ['sh'], WorkingDir: '/', Labels: { 'dev.keel.test': 'busybox' } },
  });
  await writeLayout(layout, { busybox: d });
  return d;
}
