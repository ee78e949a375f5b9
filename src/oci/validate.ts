// Schema validation of OCI documents (runtime config, state, features; image manifest, index, config,
// descriptor, layout) through the standalone validators generated into spec/validators by `make gen`.
// Compiles nothing at run time and knows no semantics beyond the schemas (src/oci/semantic.ts does).
import type { ErrorObject } from 'ajv';
import { RuntimeError } from '../errors/index';
import type { Features, Spec, State } from '../../spec/types/runtime';
import type { Descriptor, ImageConfig, ImageIndex, ImageLayout, ImageManifest } from '../../spec/types/image';
/** A generated validator: a type guard that leaves ajv's reasons in `errors` when it says no. */
type SchemaValidator<T> = { (data: unknown): data is T; errors?: ErrorObject[] | null };

/**
 * Each validator module is required on first use, so a command pays only for the documents it reads
 * (runtime-config.js alone is ~250 KB of generated code, most of it for non-Linux platforms).
 */
function lazy<T>(load: () => { default: SchemaValidator<T> }): () => SchemaValidator<T> {
  let v: SchemaValidator<T> | undefined;
  return () => (v ??= load().default);
}

/* eslint-disable @typescript-eslint/no-require-imports */
const configValidator = lazy(
  () => require('../../spec/validators/runtime-config') as typeof import('../../spec/validators/runtime-config'),
);
const stateValidator = lazy(
  () => require('../../spec/validators/runtime-state') as typeof import('../../spec/validators/runtime-state'),
);
const featuresValidator = lazy(
  () => require('../../spec/validators/runtime-features') as typeof import('../../spec/validators/runtime-features'),
);
const manifestValidator = lazy(
  () => require('../../spec/validators/image-manifest') as typeof import('../../spec/validators/image-manifest'),
);
const indexValidator = lazy(
  () => require('../../spec/validators/image-index') as typeof import('../../spec/validators/image-index'),
);
const imageConfigValidator = lazy(
  () => require('../../spec/validators/image-config') as typeof import('../../spec/validators/image-config'),
);
const descriptorValidator = lazy(
  () =>
    require('../../spec/validators/image-content-descriptor') as typeof import('../../spec/validators/image-content-descriptor'),
);
const layoutValidator = lazy(
  () => require('../../spec/validators/image-layout') as typeof import('../../spec/validators/image-layout'),
);
/* eslint-enable @typescript-eslint/no-require-imports */

/** Keywords whose error only summarises the errors of their branches, which are more specific. */
const summaryKeywords = new Set(['anyOf', 'oneOf', 'allOf', 'if', 'then', 'else', '$ref']);

function depth(e: ErrorObject): number {
  return e.instancePath === '' ? 0 : e.instancePath.split('/').length - 1;
}

/**
 * Picks the one error worth showing out of ajv's list (allErrors mode, so anyOf/oneOf branches each
 * report): summaries only if nothing else is there, then the deepest instance path (the most precise
 * location), then ajv's own order. Type errors of sibling branches at that path are merged into one
 * "must be string or object".
 */
export function pickSchemaError(errs: readonly ErrorObject[]): { pointer: string; reason: string } {
  if (errs.length === 0) return { pointer: '/', reason: 'is invalid' };
  const specific = errs.filter((e) => !summaryKeywords.has(e.keyword));
  const pool = specific.length > 0 ? specific : [...errs];
  let best = pool[0]!;
  for (const e of pool) if (depth(e) > depth(best)) best = e;
  let reason = best.message ?? `fails ${best.keyword}`;
  if (best.keyword === 'type') {
    const types = pool
      .filter((e) => e.keyword === 'type' && e.instancePath === best.instancePath)
      .map((e) => String((e.params as { type?: unknown }).type));
    reason = `must be ${[...new Set(types)].join(' or ')}`;
  } else if (best.keyword === 'enum') {
    const allowed = (best.params as { allowedValues?: unknown[] }).allowedValues ?? [];
    reason = `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  } else if (best.keyword === 'additionalProperties') {
    reason = `must not have additional property ${JSON.stringify((best.params as { additionalProperty?: string }).additionalProperty)}`;
  }
  return { pointer: best.instancePath === '' ? '/' : best.instancePath, reason };
}

function check<T>(validate: SchemaValidator<T>, value: unknown, file: string): T {
  if (validate(value)) return value;
  const { pointer, reason } = pickSchemaError(validate.errors ?? []);
  throw new RuntimeError('InvalidArgument', `${file}: ${pointer}: ${reason}`);
}

/**
 * linux.rootfsPropagation values runc accepts beyond the schema's enum (its specconv
 * mountPropagationMapping): containerd's CRI writes "rshared" and "rslave". Each is checked as the
 * schema value it extends; src/runtime/plan gives it runc's effect.
 */
const RUNC_ROOTFS_PROPAGATION = new Set(['rprivate', 'rshared', 'rslave', 'runbindable']);

/** Checks a parsed config.json against runtime-spec config-schema.json; throws InvalidArgument "file: /pointer: reason". */
export function validateSpec(value: unknown, file = 'config.json'): Spec {
  const linux = (value as { linux?: { rootfsPropagation?: unknown } } | null)?.linux;
  const rp = linux && typeof linux === 'object' ? linux.rootfsPropagation : undefined;
  if (typeof rp !== 'string' || !RUNC_ROOTFS_PROPAGATION.has(rp)) return check(configValidator(), value, file);
  linux!.rootfsPropagation = rp.slice(1);
  try {
    return check(configValidator(), value, file);
  } finally {
    linux!.rootfsPropagation = rp;
  }
}

/** Checks a state document against runtime-spec state-schema.json. */
export function validateState(value: unknown, file = 'state.json'): State {
  return check(stateValidator(), value, file);
}

/** Checks a features document against runtime-spec features-schema.json. */
export function validateFeatures(value: unknown, file = 'features.json'): Features {
  return check(featuresValidator(), value, file);
}

/** Checks an image manifest against image-spec image-manifest-schema.json. */
export function validateImageManifest(value: unknown, file = 'manifest'): ImageManifest {
  return check(manifestValidator(), value, file);
}

/** Checks an image index against image-spec image-index-schema.json. */
export function validateImageIndex(value: unknown, file = 'index.json'): ImageIndex {
  return check(indexValidator(), value, file);
}

/** Checks an image configuration against image-spec config-schema.json. */
export function validateImageConfig(value: unknown, file = 'config'): ImageConfig {
  return check(imageConfigValidator(), value, file);
}

/** Checks a content descriptor against image-spec content-descriptor.json. */
export function validateDescriptor(value: unknown, file = 'descriptor'): Descriptor {
  return check(descriptorValidator(), value, file);
}

/** Checks an oci-layout file against image-spec image-layout-schema.json. */
export function validateImageLayout(value: unknown, file = 'oci-layout'): ImageLayout {
  return check(layoutValidator(), value, file);
}
