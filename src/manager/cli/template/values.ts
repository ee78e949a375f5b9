// Go values as the template engine sees them: JSON data (maps, slices, numbers, strings, bools, nil),
// "struct" contexts (objects of classes marked with GoStruct: fields are getters or methods), and
// fmt's printing of them (%v / Sprint), which --format output is made of.

/** Marks a class whose instances behave as Go structs (field lookup fails instead of <no value>). */
export abstract class GoStruct {
  /** The Go type name used in error messages (*formatter.ContainerContext). */
  abstract goType(): string;
}

/** A missing map entry: prints as "<no value>". */
export const NO_VALUE: unique symbol = Symbol('no value');

export type GoValue = unknown;

const ZERO = new WeakMap<object, unknown>();

/**
 * Marks decoded JSON as a typed Go map (the engine's map[string]string): a missing key reads as the
 * element's zero value (""), as Go's index and field lookup give, not as <no value>.
 */
export function typedMap<T extends object>(m: T, zero: unknown): T {
  ZERO.set(m, zero);
  return m;
}

/** What reading a missing key of a map gives: the zero value of a typed map, else <no value>. */
export function missingKey(m: object): unknown {
  return ZERO.has(m) ? ZERO.get(m) : NO_VALUE;
}

export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof GoStruct) && !(v instanceof Uint8Array);
}

/** Go's template truth: false, 0, "", nil and empty slices/maps are false. */
export function truth(v: unknown): boolean {
  if (v === NO_VALUE || v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isMap(v)) return Object.keys(v).length > 0;
  return true;
}

/** Go's %v for a float64 ('g' with the shortest repr, exponent from 21 digits). */
export function formatNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? '+Inf' : '-Inf';
  const s = String(n);
  if (/e/.test(s)) return s.replace(/e([+-])(\d)$/, 'e$10$2');
  const exp = Math.floor(Math.log10(Math.abs(n)));
  if (exp < -4) {
    const m = n.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
    return m;
  }
  return s;
}

/**
 * How JSON data stands for Go values when printed. 'map' (the default) is Go's view of decoded JSON;
 * 'typed' approximates the engine's Go structs, as docker's inspect templates see them: objects whose
 * keys are all exported identifiers print as structs ({v1 v2}), nulls as empty slices or nil pointers.
 */
export type PrintMode = 'map' | 'typed';

const STRUCT_KEY = /^[A-Z][A-Za-z0-9]*$/;
/** Fields of the engine's types that are pointers (nil prints "<nil>"); other nulls are slices/maps. */
const POINTER_FIELDS = new Set(['Health', 'Healthcheck', 'Init', 'StopTimeout', 'MemorySwappiness', 'OomKillDisable', 'PidsLimit', 'IPAMConfig', 'ConfigFrom', 'UsageData', 'Node', 'Platform', 'ClusterVolume', 'Metadata']);

/** Fields of the engine's types that are maps (nil prints "map[]"). */
const MAP_FIELDS = new Set(['Volumes', 'ExposedPorts', 'Labels', 'PortBindings', 'Ports', 'Networks', 'Options', 'Data', 'Sysctls', 'Tmpfs', 'StorageOpt', 'DriverOpts', 'Annotations', 'Containers', 'Status', 'Attributes']);

const GO_MAPS = new WeakSet<object>();

/**
 * Marks the objects of decoded engine JSON that are Go maps in the engine's types (the MAP_FIELDS
 * values, at any depth): encoding/json writes a map's keys sorted, whatever order they arrived in.
 */
export function markGoMaps<T>(v: T, field?: string): T {
  if (Array.isArray(v)) for (const x of v) markGoMaps(x);
  else if (isMap(v)) {
    if (field && MAP_FIELDS.has(field)) GO_MAPS.add(v);
    for (const [k, x] of Object.entries(v)) markGoMaps(x, GO_MAPS.has(v) ? undefined : k);
  }
  return v;
}

export function isStructLike(v: Record<string, unknown>): boolean {
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => STRUCT_KEY.test(k));
}

/** fmt.Sprint of one value (the %v verb); field names the key it was read from (typed mode). */
export function sprint(v: unknown, top = true, mode: PrintMode = 'map', field?: string): string {
  if (v === NO_VALUE) return '<no value>';
  if (v === null || v === undefined) {
    if (mode === 'typed') return field && POINTER_FIELDS.has(field) ? '<nil>' : field && MAP_FIELDS.has(field) ? 'map[]' : '[]';
    // A JSON null is a nil interface in a map: Go prints <no value> for it at the top, <nil> inside.
    return top ? '<no value>' : '<nil>';
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map((x) => sprint(x, false, mode)).join(' ')}]`;
  if (mode === 'typed' && isMap(v) && isStructLike(v)) return `{${Object.keys(v).map((k) => sprint(v[k], false, mode, k)).join(' ')}}`;
  if (v instanceof GoStruct) {
    const s = (v as { toString?: () => string }).toString;
    if (s && s !== Object.prototype.toString) return s.call(v);
    return `{${fieldsOf(v)
      .map((k) => sprint(getField(v, k), false))
      .join(' ')}}`;
  }
  if (isMap(v)) {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${sprint(v[k], false, mode)}`).join(' ')}]`;
  }
  return String(v);
}

/** The exported zero-argument fields of a struct context, in declaration order. */
export function fieldsOf(v: GoStruct): string[] {
  const names: string[] = Object.keys(v).filter((k) => /^[A-Z]/.test(k) && typeof (v as unknown as Record<string, unknown>)[k] !== 'function');
  let proto = Object.getPrototypeOf(v) as object | null;
  while (proto && proto !== GoStruct.prototype && proto !== Object.prototype) {
    for (const k of Object.getOwnPropertyNames(proto)) {
      if (!/^[A-Z]/.test(k) || names.includes(k)) continue;
      const d = Object.getOwnPropertyDescriptor(proto, k)!;
      if (d.get || (typeof d.value === 'function' && d.value.length === 0)) names.push(k);
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return names;
}

export function getField(v: GoStruct, k: string): unknown {
  const x = (v as unknown as Record<string, unknown>)[k];
  return typeof x === 'function' ? (x as () => unknown).call(v) : x;
}

/**
 * encoding/json of a value with SetEscapeHTML(false): maps with sorted keys, struct contexts as
 * maps of their fields (docker's MarshalJSON), JSON data as it came.
 */
export function goJson(v: unknown, escapeHtml = false): string {
  if (v === NO_VALUE || v === undefined || v === null) return 'null';
  if (v instanceof GoStruct) {
    // docker's contexts marshal themselves with json.Marshal, which escapes <, > and &.
    const m = (v as { toJSON?: () => unknown }).toJSON;
    if (m) return goJson(m.call(v), true);
    const o: Record<string, unknown> = {};
    for (const k of fieldsOf(v).sort()) o[k] = getField(v, k);
    return goJson(o, true);
  }
  if (typeof v === 'string') return jsonString(v, escapeHtml);
  if (typeof v === 'number') return Number.isFinite(v) ? (Number.isInteger(v) ? String(v) : goFloatJson(v)) : 'null';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map((x) => goJson(x, escapeHtml)).join(',')}]`;
  if (v instanceof RawJson) return v.text;
  if (isMap(v)) {
    // Wire objects keep the engine's (Go struct) order; maps marked by markGoMaps are sorted.
    const keys = GO_MAPS.has(v) || ZERO.has(v) ? Object.keys(v).sort() : Object.keys(v);
    return `{${keys.map((k) => `${jsonString(k, escapeHtml)}:${goJson(v[k], escapeHtml)}`).join(',')}}`;
  }
  return 'null';
}

function goFloatJson(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-6 || a >= 1e21)) return v.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return String(v);
}

/** Pre-encoded JSON that goJson emits verbatim. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** Go's JSON string escaping without HTML escaping (U+2028/2029 escaped, as Go does). */
export function jsonString(s: string, escapeHtml = false): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else if (c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16)}`;
    else if (escapeHtml && (ch === '<' || ch === '>' || ch === '&')) out += `\\u00${c.toString(16)}`;
    else out += ch;
  }
  return out + '"';
}
