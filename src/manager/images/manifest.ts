// Image manifest, index and config shapes (OCI image-spec v1.1 and Docker schema2, which share field
// names), their media types, parsing with validation, and platform matching. No I/O.
import { errors } from '../../errors/index';
import type { Descriptor, Platform } from '../content/index';

export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/**
 * The Accept list for manifest requests. All four must always be sent: distribution 2.8 answers 404
 * for an OCI manifest when its media type is not accepted, and rewrites schema2 into schema1 when
 * only the old types are listed (registry/handlers/manifests.go).
 */
export const MANIFEST_ACCEPT = [MediaType.ociIndex, MediaType.dockerList, MediaType.ociManifest, MediaType.dockerManifest];

export type ImageManifest = {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
};

export type ImageIndex = {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
};

/** The image config (image-spec config.md; Docker adds fields the OCI schema leaves open). */
export type ImageConfig = {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  config?: {
    User?: string;
    ExposedPorts?: Record<string, object>;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Volumes?: Record<string, object>;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
    StopSignal?: string;
    Healthcheck?: unknown;
    OnBuild?: string[] | null;
    Shell?: string[];
    ArgsEscaped?: boolean;
  };
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: { created?: string; created_by?: string; author?: string; comment?: string; empty_layer?: boolean }[];
  [key: string]: unknown;
};

export function isIndexType(mt: string | undefined): boolean {
  return mt === MediaType.ociIndex || mt === MediaType.dockerList;
}

export function isManifestType(mt: string | undefined): boolean {
  return mt === MediaType.ociManifest || mt === MediaType.dockerManifest;
}

/** Layer compression from its media type. */
export function layerCompression(mt: string): 'gzip' | 'zstd' | 'none' {
  if (mt.endsWith('+zstd') || mt.endsWith('.zstd')) return 'zstd';
  if (mt.endsWith('+gzip') || mt.endsWith('.gzip')) return 'gzip';
  if (mt.endsWith('.tar') || mt === 'application/vnd.docker.image.rootfs.diff.tar') return 'none';
  throw errors.notImplemented(`unsupported layer media type ${mt}`);
}

function parseJson(data: Uint8Array, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(Buffer.from(data).toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw errors.invalid(`parse ${what}: ${(e as Error).message}`);
  }
}

function checkDescriptor(d: unknown, what: string): Descriptor {
  const o = d as Descriptor;
  if (typeof o !== 'object' || o === null || typeof o.mediaType !== 'string' || typeof o.digest !== 'string' || typeof o.size !== 'number') {
    throw errors.invalid(`${what}: malformed descriptor`);
  }
  if (!/^sha256:[a-f0-9]{64}$/.test(o.digest)) throw errors.invalid(`${what}: unsupported digest ${o.digest}`);
  if (!Number.isSafeInteger(o.size) || o.size < 0) throw errors.invalid(`${what}: bad size ${o.size}`);
  return o;
}

/**
 * Parses a manifest or index. The media type comes from the body, else the Content-Type the
 * registry sent; schema1 is refused (it cannot be verified by digest and distribution 3 dropped it).
 */
export function parseManifestOrIndex(data: Uint8Array, contentType?: string): { mediaType: string; manifest?: ImageManifest; index?: ImageIndex } {
  const v = parseJson(data, 'manifest');
  if (v.schemaVersion === 1) throw errors.notImplemented('docker schema1 manifests are not supported');
  if (v.schemaVersion !== 2) throw errors.invalid(`manifest: unsupported schemaVersion ${String(v.schemaVersion)}`);
  let mt = (typeof v.mediaType === 'string' ? v.mediaType : undefined) ?? contentType?.split(';')[0]?.trim();
  if (mt === undefined || mt === '' || mt === 'application/json' || mt === 'application/octet-stream') {
    mt = Array.isArray(v.manifests) ? MediaType.ociIndex : MediaType.ociManifest;
  }
  if (isIndexType(mt)) {
    if (!Array.isArray(v.manifests)) throw errors.invalid('index: manifests missing');
    v.manifests.forEach((d, i) => checkDescriptor(d, `index manifests[${i}]`));
    return { mediaType: mt, index: v as unknown as ImageIndex };
  }
  if (isManifestType(mt)) {
    checkDescriptor(v.config, 'manifest config');
    if (!Array.isArray(v.layers)) throw errors.invalid('manifest: layers missing');
    v.layers.forEach((d, i) => checkDescriptor(d, `manifest layers[${i}]`));
    return { mediaType: mt, manifest: v as unknown as ImageManifest };
  }
  throw errors.notImplemented(`unsupported manifest media type ${mt}`);
}

export function parseConfig(data: Uint8Array): ImageConfig {
  const v = parseJson(data, 'image config') as ImageConfig;
  if (!v.rootfs || !Array.isArray(v.rootfs.diff_ids)) throw errors.invalid('image config: rootfs.diff_ids missing');
  return v;
}

/** Node's arch and os in OCI spelling (Go's GOARCH/GOOS). */
export function hostPlatform(): Platform {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  const p: Platform = { os: process.platform === 'linux' ? 'linux' : process.platform, architecture: arch[process.arch] ?? process.arch };
  if (p.architecture === 'arm64') p.variant = 'v8';
  return p;
}

/** Parses --platform "os/arch[/variant]" as docker does. */
export function parsePlatform(s: string): Platform {
  const parts = s.toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((x) => x === '')) {
    throw errors.invalid(`invalid platform ${JSON.stringify(s)}: expected os/arch[/variant]`);
  }
  let arch = parts[1]!;
  if (arch === 'x86_64' || arch === 'x86-64') arch = 'amd64';
  if (arch === 'aarch64') arch = 'arm64';
  const p: Platform = { os: parts[0]!, architecture: arch };
  if (parts[2] !== undefined) p.variant = parts[2];
  else if (arch === 'arm64') p.variant = 'v8';
  return p;
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** True when a descriptor's platform satisfies the wanted one (arm64's variant v8 is the default). */
export function platformMatches(have: Platform | undefined, want: Platform): boolean {
  if (!have) return false;
  if (have.os !== want.os || have.architecture !== want.architecture) return false;
  const hv = have.variant ?? (have.architecture === 'arm64' ? 'v8' : undefined);
  return want.variant === undefined || hv === undefined || hv === want.variant;
}

/** Picks the manifest for a platform from an index; NotFound names the platforms on offer. */
export function selectPlatform(index: ImageIndex, want: Platform): Descriptor {
  const found = index.manifests.find((d) => isManifestType(d.mediaType) && platformMatches(d.platform, want));
  if (found) return found;
  const offered = index.manifests.filter((d) => d.platform && d.platform.architecture !== 'unknown').map((d) => formatPlatform(d.platform!));
  throw errors.notFound(`no matching manifest for ${formatPlatform(want)} in the manifest list entries (available: ${offered.join(', ') || 'none'})`);
}
