// Template functions: Go's builtins (and, or, not, len, index, slice, eq/ne/lt/le/gt/ge, print,
// printf, println, urlquery, html, js) and the docker CLI's (json, split, join, title, lower, upper,
// pad, truncate), plus the identity variants docker uses while rendering table headers.
import { goQuote } from '../go-strconv';
import { formatNumber, goJson, isMap, missingKey, NO_VALUE, sprint, truth } from './values';

export type TemplateFunc = (...args: unknown[]) => unknown;

export class ExecError extends Error {}

function basicKind(v: unknown): string {
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return Number.isInteger(Number(v)) ? 'int' : 'float';
  if (typeof v === 'string') return 'string';
  return 'invalid';
}

function eq1(a: unknown, b: unknown): boolean {
  if ((a === null || a === undefined || a === NO_VALUE) && (b === null || b === undefined || b === NO_VALUE)) return true;
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === 'invalid' || kb === 'invalid') {
    if (a === null || b === null || a === undefined || b === undefined) return false;
    throw new ExecError('incompatible types for comparison');
  }
  const num = (k: string) => k === 'int' || k === 'float';
  if (ka !== kb && !(num(ka) && num(kb))) throw new ExecError('incompatible types for comparison');
  return Number.isNaN(a) ? false : a === b || (num(ka) && Number(a) === Number(b));
}

function lt(a: unknown, b: unknown): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === 'invalid' || kb === 'invalid' || ka === 'bool') throw new ExecError('invalid type for comparison');
  if (ka !== kb && !((ka === 'int' || ka === 'float') && (kb === 'int' || kb === 'float'))) throw new ExecError('incompatible types for comparison');
  return (a as number | string) < (b as number | string);
}

function length(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (Array.isArray(v)) return v.length;
  if (isMap(v)) return Object.keys(v).length;
  throw new ExecError(`len of type ${typeName(v)}`);
}

export function typeName(v: unknown): string {
  if (v === null || v === undefined || v === NO_VALUE) return '<nil>';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  if (isMap(v)) return 'map[string]interface {}';
  return (v as { goType?: () => string }).goType?.() ?? 'interface {}';
}

function index(item: unknown, ...keys: unknown[]): unknown {
  let v = item;
  for (const k of keys) {
    if (Array.isArray(v) || typeof v === 'string') {
      if (typeof k !== 'number' || !Number.isInteger(k)) throw new ExecError(`cannot index slice/array with type ${typeName(k)}`);
      if (k < 0 || k >= v.length) throw new ExecError(`error calling index: index out of range: ${k}`);
      v = typeof v === 'string' ? Buffer.from(v)[k] : v[k];
    } else if (isMap(v)) {
      if (typeof k !== 'string') throw new ExecError(`value has type ${typeName(k)}; should be string`);
      v = Object.prototype.hasOwnProperty.call(v, k) ? v[k] : missingKey(v);
    } else if (v === null || v === undefined || v === NO_VALUE) {
      throw new ExecError('error calling index: index of untyped nil');
    } else throw new ExecError(`error calling index: can't index item of type ${typeName(v)}`);
  }
  return v;
}

/** fmt.Sprint: spaces between operands when neither side is a string. */
export function goSprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += sprint(a);
  });
  return out;
}

/** A subset of fmt.Sprintf: %v %s %d %q %t %f %e %g %x %X %o %b %c %% with flags, width, precision. */
export function goSprintf(format: string, args: unknown[]): string {
  let ai = 0;
  return format.replace(/%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d+))?([a-zA-Z%])/g, (_m, flags: string, w: string | undefined, p: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    const width = w === '*' ? Number(args[ai++]) : w ? Number(w) : undefined;
    const prec = p === '*' ? Number(args[ai++]) : p !== undefined ? Number(p) : undefined;
    if (ai >= args.length) return `%!${verb}(MISSING)`;
    const a = args[ai++];
    let s: string;
    switch (verb) {
      case 'v':
        s = flags.includes('+') || flags.includes('#') ? sprint(a) : sprint(a);
        break;
      case 's':
        s = typeof a === 'string' || Array.isArray(a) ? sprint(a) : typeof a === 'number' ? `%!s(${typeName(a)}=${formatNumber(a)})` : sprint(a);
        if (prec !== undefined) s = s.slice(0, prec);
        break;
      case 'q':
        s = typeof a === 'string' ? goQuote(a) : sprint(a);
        break;
      case 'd':
        s = typeof a === 'number' && Number.isInteger(a) ? String(a) : `%!d(${typeName(a)}=${sprint(a)})`;
        if (flags.includes('+') && typeof a === 'number' && a >= 0) s = '+' + s;
        break;
      case 't':
        s = typeof a === 'boolean' ? String(a) : `%!t(${typeName(a)}=${sprint(a)})`;
        break;
      case 'f':
      case 'F':
        s = typeof a === 'number' ? a.toFixed(prec ?? 6) : `%!f(${typeName(a)}=${sprint(a)})`;
        break;
      case 'e':
        s = typeof a === 'number' ? a.toExponential(prec ?? 6).replace(/e([+-])(\d)$/, 'e$10$2') : `%!e(${typeName(a)}=${sprint(a)})`;
        break;
      case 'g':
        s = typeof a === 'number' ? (prec !== undefined ? String(Number(a.toPrecision(prec))) : formatNumber(a)) : `%!g(${typeName(a)}=${sprint(a)})`;
        break;
      case 'x':
      case 'X': {
        const hex = typeof a === 'number' ? a.toString(16) : Buffer.from(String(a)).toString('hex');
        s = verb === 'X' ? hex.toUpperCase() : hex;
        if (flags.includes('#')) s = (verb === 'X' ? '0X' : '0x') + s;
        break;
      }
      case 'o':
        s = typeof a === 'number' ? a.toString(8) : sprint(a);
        break;
      case 'b':
        s = typeof a === 'number' ? a.toString(2) : sprint(a);
        break;
      case 'c':
        s = typeof a === 'number' ? String.fromCodePoint(a) : sprint(a);
        break;
      default:
        s = `%!${verb}(${typeName(a)}=${sprint(a)})`;
    }
    if (width !== undefined && s.length < width) {
      if (flags.includes('-')) s = s.padEnd(width);
      else if (flags.includes('0') && /[dfeEgxXob]/.test(verb)) s = s.startsWith('-') ? '-' + s.slice(1).padStart(width - 1, '0') : s.padStart(width, '0');
      else s = s.padStart(width);
    }
    return s;
  }) + (ai < args.length ? `%!(EXTRA ${args.slice(ai).map((a) => `${typeName(a)}=${sprint(a)}`).join(', ')})` : '');
}

function str(v: unknown, fn: string, i: number): string {
  if (typeof v !== 'string') throw new ExecError(`wrong type for value; expected string; got ${typeName(v)}`.replace(/^/, i >= 0 ? '' : `${fn}: `));
  return v;
}

function int(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ExecError(`wrong type for value; expected int; got ${typeName(v)}`);
  return v;
}

/** strings.Title: upper-case the first letter of each word (ASCII word boundaries). */
function title(s: string): string {
  return s.replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, a: string, b: string) => a + b.toUpperCase());
}

const builtins: Record<string, TemplateFunc> = {
  not: (a) => !truth(a),
  len: (a) => length(a),
  index: (item, ...keys) => index(item, ...keys),
  slice: (item, ...idx) => {
    if (typeof item !== 'string' && !Array.isArray(item)) throw new ExecError(`can't slice item of type ${typeName(item)}`);
    const [i = 0, j = item.length] = idx as number[];
    return item.slice(i, j);
  },
  eq: (a, ...bs) => {
    if (bs.length === 0) throw new ExecError('missing argument for comparison');
    return bs.some((b) => eq1(a, b));
  },
  ne: (a, b) => !eq1(a, b),
  lt: (a, b) => lt(a, b),
  le: (a, b) => lt(a, b) || eq1(a, b),
  gt: (a, b) => !lt(a, b) && !eq1(a, b),
  ge: (a, b) => !lt(a, b),
  print: (...a) => goSprint(a),
  printf: (f, ...a) => goSprintf(str(f, 'printf', 0), a),
  println: (...a) => a.map((x) => sprint(x)).join(' ') + '\n',
  urlquery: (...a) => encodeURIComponent(goSprint(a)).replace(/%20/g, '+'),
  html: (...a) => goSprint(a).replace(/[<>&'"\0]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&#39;', '"': '&#34;', '\0': '\uFFFD' })[c]!),
  js: (...a) => goSprint(a).replace(/[\\'"<>&=]/g, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`),
};

const docker: Record<string, TemplateFunc> = {
  json: (v) => goJson(v),
  split: (s, sep) => str(s, 'split', 0).split(str(sep, 'split', 1)),
  join: (a, sep) => {
    if (!Array.isArray(a)) throw new ExecError(`wrong type for value; expected []string; got ${typeName(a)}`);
    return a.map((x) => str(x, 'join', 0)).join(str(sep, 'join', 1));
  },
  title: (s) => title(str(s, 'title', 0)),
  lower: (s) => str(s, 'lower', 0).toLowerCase(),
  upper: (s) => str(s, 'upper', 0).toUpperCase(),
  pad: (s, pre, suf) => (str(s, 'pad', 0) === '' ? '' : ' '.repeat(int(pre)) + (s as string) + ' '.repeat(int(suf))),
  truncate: (s, n) => {
    const b = Buffer.from(str(s, 'truncate', 0));
    return b.length < int(n) ? s : b.subarray(0, int(n)).toString();
  },
};

/** Functions docker swaps in while rendering a table header (they pass the header text through). */
const headerOverrides: Record<string, TemplateFunc> = {
  json: (v) => v,
  split: (v) => v,
  join: (v) => v,
  title: (v) => v,
  lower: (v) => v,
  upper: (v) => v,
  truncate: (v) => v,
};

export function templateFuncs(header = false): Record<string, TemplateFunc> {
  return { ...builtins, ...docker, ...(header ? headerOverrides : {}) };
}
