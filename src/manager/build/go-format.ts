// Go's text formatting where the classic builder's output and history strings depend on it:
// strconv.Quote/QuoteRune, fmt's %v and %q of string slices, time.Duration's String and ParseDuration.
// Pure functions; no I/O.
import { errors } from '../../errors/index';

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

function quoteWith(s: string, q: '"' | "'"): string {
  let out = q;
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    if (ch === q || ch === '\\') out += `\\${ch}`;
    else if (PRINTABLE.test(ch)) out += ch;
    else if (r === 7) out += '\\a';
    else if (r === 8) out += '\\b';
    else if (r === 12) out += '\\f';
    else if (r === 10) out += '\\n';
    else if (r === 13) out += '\\r';
    else if (r === 9) out += '\\t';
    else if (r === 11) out += '\\v';
    else if (r < 0x20 || r === 0x7f) out += `\\x${r.toString(16).padStart(2, '0')}`;
    else if (r < 0x10000) out += `\\u${r.toString(16).padStart(4, '0')}`;
    else out += `\\U${r.toString(16).padStart(8, '0')}`;
  }
  return out + q;
}

/** strconv.Quote. */
export function goQuote(s: string): string {
  return quoteWith(s, '"');
}

/** strconv.QuoteRune (what %q prints for an integer). */
export function goQuoteRune(n: number): string {
  return quoteWith(String.fromCodePoint(n), "'");
}

/** fmt "%q" of a []string: ["a" "b"]. */
export function goQuoteSlice(a: readonly string[] | null | undefined): string {
  return `[${(a ?? []).map(goQuote).join(' ')}]`;
}

/** fmt "%v" of a []string: [a b]. */
export function goSliceV(a: readonly string[] | null | undefined): string {
  return `[${(a ?? []).join(' ')}]`;
}

const NS = 1n;
const US = 1000n * NS;
const MS = 1000n * US;
const SEC = 1000n * MS;
const MIN = 60n * SEC;
const HOUR = 60n * MIN;

/** Fractional part of v/10^prec without trailing zeros, as Go's fmtFrac. */
function frac(v: bigint, prec: number): [string, bigint] {
  let s = '';
  let print = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10n;
    print = print || digit !== 0n;
    if (print) s = `${digit}${s}`;
    v /= 10n;
  }
  return [print ? `.${s}` : '', v];
}

/** time.Duration.String() of a nanosecond count ("1h2m3.5s", "500ms", "0s"). */
export function formatDuration(nanos: number | bigint): string {
  let d = BigInt(nanos);
  if (d === 0n) return '0s';
  const neg = d < 0n;
  if (neg) d = -d;
  let out: string;
  if (d < SEC) {
    if (d < US) out = `${d}ns`;
    else if (d < MS) {
      const [f, w] = frac(d, 3);
      out = `${w}${f}µs`;
    } else {
      const [f, w] = frac(d, 6);
      out = `${w}${f}ms`;
    }
  } else {
    const [f, secs] = frac(d, 9);
    let w = secs;
    out = `${w % 60n}${f}s`;
    w /= 60n;
    if (w > 0n) {
      out = `${w % 60n}m${out}`;
      w /= 60n;
      if (w > 0n) out = `${w}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}

const UNITS: Record<string, bigint> = { ns: NS, us: US, 'µs': US, 'μs': US, ms: MS, s: SEC, m: MIN, h: HOUR };

/** time.ParseDuration: "1h30m", "1.5s", "-2ms"; the errors use Go's wording. Returns nanoseconds. */
export function parseDuration(input: string): bigint {
  const bad = () => errors.invalid(`time: invalid duration ${goQuote(input)}`);
  let s = input;
  let neg = false;
  if (s[0] === '-' || s[0] === '+') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw bad();
  let total = 0n;
  while (s !== '') {
    const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(s)!;
    const whole = m[1]!;
    const fracDigits = m[2];
    if (whole === '' && (fracDigits === undefined || fracDigits === '')) throw bad();
    s = s.slice(m[0].length);
    const u = /^[^0-9.]*/.exec(s)![0];
    if (u === '') throw errors.invalid(`time: missing unit in duration ${goQuote(input)}`);
    const unit = UNITS[u];
    if (unit === undefined) throw errors.invalid(`time: unknown unit ${goQuote(u)} in duration ${goQuote(input)}`);
    s = s.slice(u.length);
    let v = BigInt(whole === '' ? '0' : whole) * unit;
    if (fracDigits) {
      const scale = 10n ** BigInt(fracDigits.length);
      v += (BigInt(fracDigits) * unit) / scale;
    }
    total += v;
    if (total > 9223372036854775807n) throw bad();
  }
  return neg ? -total : total;
}
