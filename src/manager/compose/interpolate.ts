// Compose variable interpolation: $V, ${V}, ${V:-d}, ${V-d}, ${V:?e}, ${V?e}, ${V:+r}, ${V+r} and
// $$ (a literal $), with nested defaults, as compose-go's template package. Keys are never
// interpolated, only string values; the paths in errors are compose's (services.web.image).
import { RuntimeError } from '../../errors/index';

export type Lookup = (name: string) => string | undefined;

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;

/** Substitutes one string; unset plain variables go to onUnset (compose warns and uses ""). */
export function substitute(s: string, lookup: Lookup, where: string, onUnset?: (name: string) => void): string {
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = s[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const end = closingBrace(s, i + 2);
      if (end < 0) throw invalid(where);
      out += braced(s.slice(i + 2, end), lookup, where, onUnset);
      i = end + 1;
      continue;
    }
    const m = NAME.exec(s.slice(i + 1));
    if (!m) throw invalid(where);
    const v = lookup(m[0]);
    if (v === undefined) onUnset?.(m[0]);
    out += v ?? '';
    i += 1 + m[0].length;
  }
  return out;
}

function invalid(where: string): RuntimeError {
  return new RuntimeError('InvalidArgument', `invalid interpolation format for ${where}: you may need to escape any $ with another $`);
}

/** Index of the } closing a ${ opened before start, counting nested ${...}. */
function closingBrace(s: string, start: number): number {
  let depth = 1;
  for (let i = start; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '$') {
      i++;
      continue;
    }
    if (s[i] === '$' && s[i + 1] === '{') {
      depth++;
      i++;
    } else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function braced(body: string, lookup: Lookup, where: string, onUnset?: (name: string) => void): string {
  const m = NAME.exec(body);
  if (!m) throw invalid(where);
  const name = m[0];
  const rest = body.slice(name.length);
  const value = lookup(name);
  if (rest === '') {
    if (value === undefined) onUnset?.(name);
    return value ?? '';
  }
  const op = /^(:?[-?+])/.exec(rest)?.[1];
  if (!op) throw invalid(where);
  const arg = () => substitute(rest.slice(op.length), lookup, where, onUnset);
  const emptyCounts = op.startsWith(':');
  const missing = value === undefined || (emptyCounts && value === '');
  switch (op.slice(-1)) {
    case '-':
      return missing ? arg() : value!;
    case '+':
      return missing ? '' : arg();
    default: {
      if (!missing) return value!;
      const reason = arg();
      throw new RuntimeError('InvalidArgument', `required variable ${name} is missing a value${reason ? `: ${reason}` : ''}`);
    }
  }
}

/** A path segment list rendered as compose prints it: services.web.ports[0]. */
export function pathString(path: (string | number)[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${p}` : p;
  return s;
}

/**
 * Interpolates every string value of a parsed file in place; returns the same tree. Errors name
 * the path; onUnset receives each unset variable once.
 */
export function interpolateTree(tree: unknown, lookup: Lookup, onUnset?: (name: string) => void, path: (string | number)[] = []): unknown {
  if (typeof tree === 'string') {
    if (!tree.includes('$')) return tree;
    try {
      return substitute(tree, lookup, pathString(path), onUnset);
    } catch (e) {
      if (e instanceof RuntimeError && e.message.startsWith('required variable')) {
        throw new RuntimeError('InvalidArgument', `error while interpolating ${pathString(path)}: ${e.message}`);
      }
      throw e;
    }
  }
  if (Array.isArray(tree)) {
    for (let i = 0; i < tree.length; i++) tree[i] = interpolateTree(tree[i], lookup, onUnset, [...path, i]);
    return tree;
  }
  if (tree && typeof tree === 'object') {
    const o = tree as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = interpolateTree(o[k], lookup, onUnset, [...path, k]);
  }
  return tree;
}
