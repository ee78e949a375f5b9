// Go's strconv and time parsing/formatting as the docker CLI's flags use them, with Go's error texts
// (users see them verbatim in `invalid argument "x" for "--flag" flag: <err>`). Pure functions only.

/** strconv.ParseBool. */
export function parseBool(s: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  throw new Error(`strconv.ParseBool: parsing ${goQuote(s)}: invalid syntax`);
}

const INT_RE = /^[+-]?(0[xX][0-9a-fA-F_]+|0[oO]?[0-7_]+|0[bB][01_]+|[0-9][0-9_]*)$/;

function parseIntBody(fn: string, s: string, signed: boolean, bits: number): bigint {
  const bad = () => new Error(`strconv.${fn}: parsing ${goQuote(s)}: invalid syntax`);
  // base 0: Go accepts 0x, 0o, 0b and a leading 0 for octal, and '_' only with a base prefix.
  if (!INT_RE.test(s) || (!signed && /^[+-]/.test(s))) throw bad();
  let body = s.replace(/^[+-]/, '');
  const neg = s.startsWith('-');
  let base = 10;
  if (/^0[xX]/.test(body)) (base = 16), (body = body.slice(2));
  else if (/^0[bB]/.test(body)) (base = 2), (body = body.slice(2));
  else if (/^0[oO]/.test(body)) (base = 8), (body = body.slice(2));
  else if (body.length > 1 && body.startsWith('0')) (base = 8), (body = body.slice(1));
  if (body.includes('_') && base === 10) throw bad();
  body = body.replace(/_/g, '');
  if (!body) throw bad();
  let v = 0n;
  for (const ch of body) {
    const d = parseInt(ch, base);
    if (Number.isNaN(d)) throw bad();
    v = v * BigInt(base) + BigInt(d);
  }
  if (neg) v = -v;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  if (v > max || v < min) throw new Error(`strconv.${fn}: parsing ${goQuote(s)}: value out of range`);
  return v;
}

/** strconv.ParseInt(s, 0, bits). */
export function parseInt64(s: string, bits = 64): number {
  return Number(parseIntBody('ParseInt', s, true, bits));
}

/** strconv.ParseUint(s, 0, bits). */
export function parseUint(s: string, bits = 64): number {
  return Number(parseIntBody('ParseUint', s, false, bits));
}

/** strconv.ParseFloat(s, 64). */
export function parseFloat64(s: string): number {
  const t = s.replace(/_/g, '');
  if (!/^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|[iI]nf(inity)?|NaN)$/.test(t)) {
    throw new Error(`strconv.ParseFloat: parsing ${goQuote(s)}: invalid syntax`);
  }
  if (/inf/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  return Number(t);
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** time.ParseDuration; returns nanoseconds. */
export function parseDuration(s: string): number {
  const orig = s;
  const bad = () => new Error(`time: invalid duration ${goQuote(orig)}`);
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw bad();
  let total = 0;
  while (s !== '') {
    const m = /^(\d*)(\.(\d*))?/.exec(s)!;
    if (!m[1] && !m[3]) throw bad();
    if (m[0] === '.' || (m[1] === '' && m[2] && m[3] === '')) throw bad();
    s = s.slice(m[0].length);
    const u = /^[^\d.]+/.exec(s);
    if (!u) throw new Error(`time: missing unit in duration ${goQuote(orig)}`);
    const unit = UNITS[u[0]];
    if (unit === undefined) throw new Error(`time: unknown unit ${goQuote(u[0])} in duration ${goQuote(orig)}`);
    s = s.slice(u[0].length);
    total += Number(m[1] || '0') * unit + (m[3] ? Number(`0.${m[3]}`) * unit : 0);
  }
  return Math.round(neg ? -total : total);
}

/** time.Duration.String(), e.g. "1m30s", "500ms", "0s". */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(ns);
  let out: string;
  if (u < 1e9) {
    const [unit, div] = u < 1e3 ? ['ns', 1] : u < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    out = `${trimFloat(u / (div as number))}${unit}`;
  } else {
    const h = Math.floor(u / 3600e9);
    u -= h * 3600e9;
    const m = Math.floor(u / 60e9);
    u -= m * 60e9;
    const sec = trimFloat(u / 1e9);
    out = h > 0 ? `${h}h${m}m${sec}s` : m > 0 ? `${m}m${sec}s` : `${sec}s`;
  }
  return neg ? `-${out}` : out;
}

function trimFloat(v: number): string {
  return String(Number(v.toFixed(9)));
}

/** strconv.Quote / fmt's %q for strings: double quotes, Go escapes, printable unicode kept. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\v') out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + '"';
}

/** %q for a single byte/rune, as pflag prints unknown shorthands ('x'). */
export function goQuoteRune(ch: string): string {
  if (ch === "'") return "'\\''";
  if (ch === '\\') return "'\\\\'";
  const q = goQuote(ch);
  return `'${q.slice(1, -1).replace(/\\"/g, '"')}'`;
}
