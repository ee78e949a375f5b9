// Go's path/filepath.Match on Linux, which COPY/ADD wildcards use: `*` and `?` never match "/",
// `[...]` classes with ranges and `^`/`!` negation, `\` escapes. A malformed pattern is an error
// (filepath.ErrBadPattern), reported with Go's wording.
import { errors } from '../../errors/index';

const badPattern = () => errors.invalid('syntax error in pattern');

/** True when the name contains a wildcard character (dockerd's containsWildcards). */
export function containsWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '[') return true;
  }
  return false;
}

/** Matches one chunk (no `*`) at the start of s; returns the rest of s or undefined. */
function matchChunk(chunk: string[], s: string[]): string[] | undefined {
  let ci = 0;
  let si = 0;
  let failed = false;
  while (ci < chunk.length) {
    if (!failed && si >= s.length) failed = true;
    const c = chunk[ci]!;
    if (c === '[') {
      let r = '';
      if (!failed) r = s[si++]!;
      ci++;
      let negated = false;
      if (chunk[ci] === '^' || chunk[ci] === '!') {
        negated = true;
        ci++;
      }
      let match = false;
      let n = 0;
      for (;;) {
        if (ci < chunk.length && chunk[ci] === ']' && n > 0) {
          ci++;
          break;
        }
        let lo: string;
        [lo, ci] = getEsc(chunk, ci);
        let hi = lo;
        if (chunk[ci] === '-') {
          [hi, ci] = getEsc(chunk, ci + 1);
        }
        if (lo.codePointAt(0)! <= r.codePointAt(0)! && r.codePointAt(0)! <= hi.codePointAt(0)!) match = true;
        n++;
      }
      if (match === negated) failed = true;
    } else if (c === '?') {
      if (!failed) {
        if (s[si] === '/') failed = true;
        si++;
      }
      ci++;
    } else if (c === '\\') {
      ci++;
      if (ci >= chunk.length) throw badPattern();
      if (!failed) {
        if (chunk[ci] !== s[si]) failed = true;
        si++;
      }
      ci++;
    } else {
      if (!failed) {
        if (c !== s[si]) failed = true;
        si++;
      }
      ci++;
    }
  }
  return failed ? undefined : s.slice(si);
}

function getEsc(chunk: string[], i: number): [string, number] {
  if (i >= chunk.length || chunk[i] === '-' || chunk[i] === ']') throw badPattern();
  if (chunk[i] === '\\') {
    i++;
    if (i >= chunk.length) throw badPattern();
  }
  const r = chunk[i]!;
  i++;
  if (i >= chunk.length) throw badPattern();
  return [r, i];
}

/** Splits the pattern into the leading stars and the chunk up to the next unescaped `*`. */
function scanChunk(p: string[]): { star: boolean; chunk: string[]; rest: string[] } {
  let i = 0;
  let star = false;
  while (i < p.length && p[i] === '*') {
    i++;
    star = true;
  }
  let inRange = false;
  let j = i;
  for (; j < p.length; j++) {
    const c = p[j];
    if (c === '\\') {
      if (j + 1 < p.length) j++;
    } else if (c === '[') inRange = true;
    else if (c === ']') inRange = false;
    else if (c === '*' && !inRange) break;
  }
  return { star, chunk: p.slice(i, j), rest: p.slice(j) };
}

/** filepath.Match(pattern, name). */
export function pathMatch(pattern: string, name: string): boolean {
  let p = [...pattern];
  let s = [...name];
  while (p.length > 0) {
    const { star, chunk, rest } = scanChunk(p);
    p = rest;
    if (star && chunk.length === 0) return !s.includes('/');
    const t = matchChunk(chunk, s);
    if (t !== undefined && (t.length === 0 || p.length > 0)) {
      s = t;
      continue;
    }
    if (star) {
      let found = false;
      for (let i = 0; i < s.length && s[i] !== '/'; i++) {
        const t2 = matchChunk(chunk, s.slice(i + 1));
        if (t2 !== undefined) {
          if (p.length === 0 && t2.length > 0) continue;
          s = t2;
          found = true;
          break;
        }
      }
      if (found) continue;
    }
    // Go checks the rest of the pattern for syntax errors before reporting a mismatch.
    while (p.length > 0) {
      const sc = scanChunk(p);
      p = sc.rest;
      matchChunk(sc.chunk, []);
    }
    return false;
  }
  return s.length === 0;
}
