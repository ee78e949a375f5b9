// docker/go-units as the docker CLI prints and parses: HumanSize/BytesSize ("%.4g" sizes),
// RAMInBytes/FromHumanSize, HumanDuration ("About a minute"), and the container status phrases
// built on them. Pure functions; `now` is a parameter where time matters.
import { parseFloat64 } from './go-strconv';

/** Go's fmt %.{prec}g: shortest of %e/%f by Go's rule, trailing zeros removed. */
export function goG(v: number, prec: number): string {
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : Number.isNaN(v) ? 'NaN' : '-Inf';
  const e = v.toExponential(Math.max(0, prec - 1));
  const [mant, expStr] = e.split('e') as [string, string];
  const exp = Number(expStr);
  const trim = (s: string) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (exp < -4 || exp >= prec) return `${trim(mant)}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return trim(v.toFixed(Math.max(0, prec - 1 - exp)));
}

const DECIMAL = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
const BINARY = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'];

function sizeAndUnit(size: number, base: number, units: string[]): [number, string] {
  let i = 0;
  while (size >= base && i < units.length - 1) {
    size /= base;
    i++;
  }
  return [size, units[i]!];
}

export function humanSizeWithPrecision(size: number, precision: number): string {
  const [v, u] = sizeAndUnit(size, 1000, DECIMAL);
  return `${goG(v, precision)}${u}`;
}

/** units.HumanSize: "4.261MB". */
export function humanSize(size: number): string {
  return humanSizeWithPrecision(size, 4);
}

/** units.BytesSize: "1.5GiB". */
export function bytesSize(size: number): string {
  const [v, u] = sizeAndUnit(size, 1024, BINARY);
  return `${goG(v, 4)}${u}`;
}

function parseSize(s: string, binary: boolean): number {
  const m = Math.max(...[...'01234567890. '].map((c) => s.lastIndexOf(c)));
  if (m === -1) throw new Error(`invalid size: '${s}'`);
  const num = s[m] !== ' ' ? s.slice(0, m + 1) : s.slice(0, m);
  let sfx = s.slice(m + 1);
  let size = parseFloat64(num);
  if (size < 0) throw new Error(`invalid size: '${s}'`);
  if (sfx.length === 0) return Math.trunc(size);
  const bad = () => new Error(`invalid suffix: '${sfx}'`);
  if (sfx.length > 3) throw bad();
  sfx = sfx.toLowerCase();
  if (sfx[0] === 'b') {
    if (sfx.length > 1) throw bad();
    return Math.trunc(size);
  }
  const mul: Record<string, number> = { k: 1, m: 2, g: 3, t: 4, p: 5 };
  if (!(sfx[0]! in mul)) throw bad();
  size *= (binary ? 1024 : 1000) ** mul[sfx[0]!]!;
  if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) throw bad();
  return Math.trunc(size);
}

/** units.RAMInBytes: "64m" → 67108864 (binary multiples). */
export function ramInBytes(s: string): number {
  return parseSize(s, true);
}

/** units.FromHumanSize: decimal multiples. */
export function fromHumanSize(s: string): number {
  return parseSize(s, false);
}

/** units.HumanDuration of a duration in milliseconds. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3600000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / 3600000) / 24 / 365)} years`;
}

/** "<duration> ago" from a unix time in seconds or an RFC 3339 string. */
export function timeAgo(t: number | string, now = Date.now()): string {
  const ms = typeof t === 'number' ? t * 1000 : Date.parse(t);
  return `${humanDuration(now - ms)} ago`;
}
