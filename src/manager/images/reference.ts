// Image references with Docker's grammar and defaults (distribution/reference: normalize.go, regexp.go):
// docker.io/library/ for bare names, "latest" when neither tag nor digest is given, index.docker.io folded.
// Pure parsing and formatting only; no I/O.
import { errors } from '../../errors/index';

/** A fully normalized reference: domain and path always present, tag and/or digest optional. */
export type Reference = {
  /** Registry host, with port if any ("docker.io", "127.0.0.1:5000"). */
  domain: string;
  /** Repository path inside the registry ("library/busybox"). */
  path: string;
  tag?: string;
  /** "sha256:<64 hex>" */
  digest?: string;
};

export const DEFAULT_DOMAIN = 'docker.io';
export const LEGACY_DEFAULT_DOMAIN = 'index.docker.io';
export const DEFAULT_TAG = 'latest';

// The grammar of distribution/reference/regexp.go, spelled out.
const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domainName = `(?:${domainComponent}(?:\\.${domainComponent})*|${ipv6})(?::[0-9]+)?`;
const tagPattern = '[\\w][\\w.-]{0,127}';
const digestPattern = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';

const domainRe = new RegExp(`^${domainName}$`);
const pathRe = new RegExp(`^${pathComponent}(?:/${pathComponent})*$`);
const tagRe = new RegExp(`^${tagPattern}$`);
const digestRe = new RegExp(`^${digestPattern}$`);
const sha256Re = /^sha256:[a-f0-9]{64}$/;
const hex64Re = /^[a-f0-9]{64}$/;
const NAME_TOTAL_LENGTH_MAX = 255;

/** True for a well-formed "sha256:<64 lowercase hex>" digest, the only algorithm the store accepts. */
export function isDigest(s: string): boolean {
  return sha256Re.test(s);
}

/** Splits "name" into domain and remainder exactly as distribution's splitDockerDomain does. */
function splitDomain(name: string): { domain: string; path: string } {
  const i = name.indexOf('/');
  let domain: string;
  let rest: string;
  const first = i === -1 ? '' : name.slice(0, i);
  if (i === -1 || (!first.includes('.') && !first.includes(':') && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    rest = name;
  } else {
    domain = first;
    rest = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !rest.includes('/')) rest = `library/${rest}`;
  return { domain, path: rest };
}

/**
 * Parses a user-supplied reference the way `docker pull` does (ParseNormalizedNamed) without adding
 * a default tag. Throws InvalidArgument with Docker's wording on malformed input.
 */
export function parseNormalized(input: string): Reference {
  const s = input.trim();
  if (s === '') throw errors.invalid('invalid reference format');
  if (hex64Re.test(s)) {
    throw errors.invalid(`invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`);
  }
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestRe.test(digest)) throw errors.invalid('invalid reference format');
    if (!digest.startsWith('sha256:') || !isDigest(digest)) throw errors.invalid(`unsupported digest: ${digest}`);
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon !== -1 && !rest.slice(lastColon + 1).includes('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!tagRe.test(tag)) throw errors.invalid('invalid reference format');
  }
  const { domain, path } = splitDomain(rest);
  if (!domainRe.test(domain)) throw errors.invalid('invalid reference format');
  if (path.toLowerCase() !== path || !pathRe.test(path)) {
    // distribution names the remote part (after the domain, "library/" included).
    if (pathRe.test(path.toLowerCase())) throw errors.invalid(`invalid reference format: repository name (${path}) must be lowercase`);
    throw errors.invalid('invalid reference format');
  }
  if (domain.length + 1 + path.length > NAME_TOTAL_LENGTH_MAX) {
    throw errors.invalid(`repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`);
  }
  const ref: Reference = { domain, path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** parseNormalized plus TagNameOnly: "latest" is added when neither tag nor digest is present. */
export function parseReference(input: string): Reference {
  const ref = parseNormalized(input);
  if (ref.tag === undefined && ref.digest === undefined) ref.tag = DEFAULT_TAG;
  return ref;
}

/** "docker.io/library/busybox" */
export function repositoryName(ref: Reference): string {
  return `${ref.domain}/${ref.path}`;
}

/** The canonical string: "docker.io/library/busybox:latest", "host:5000/a/b@sha256:…". */
export function formatReference(ref: Reference): string {
  let s = repositoryName(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** The repository as Docker shows it: "busybox", "user/app", "127.0.0.1:5000/x". */
export function familiarRepository(ref: Reference): string {
  if (ref.domain !== DEFAULT_DOMAIN) return repositoryName(ref);
  return ref.path.startsWith('library/') && ref.path.split('/').length === 2 ? ref.path.slice('library/'.length) : ref.path;
}

/** The whole reference as Docker shows it ("busybox:latest"). */
export function familiarString(ref: Reference): string {
  let s = familiarRepository(ref);
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** Validates a tag alone (for `dock tag` targets and archive manifests). */
export function isTag(s: string): boolean {
  return tagRe.test(s);
}
