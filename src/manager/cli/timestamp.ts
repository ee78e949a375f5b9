// The API's timestamp arguments (--since/--until of logs and events), as docker's
// api/types/time.GetTimestamp: a Go duration counts back from now; RFC 3339 (or a prefix of it,
// in the local zone when no offset is given) becomes "seconds.nanoseconds"; a unix time passes as is.
import { parseDuration } from './go-strconv';

export function getTimestamp(value: string, nowMs = Date.now()): string {
  if (value !== '0') {
    try {
      const d = parseDuration(value);
      return String(Math.floor((nowMs * 1e6 - d) / 1e9));
    } catch {
      /* not a duration */
    }
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?(Z|z|[+-]\d{2}:\d{2})?$/.exec(value);
  if (m) {
    const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone] = m;
    const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
    let ms: number;
    if (zone && zone.toLowerCase() !== 'z') {
      const sign = zone.startsWith('-') ? -1 : 1;
      const [zh, zm] = zone.slice(1).split(':').map(Number);
      ms = utc - sign * (zh! * 60 + zm!) * 60000;
    } else if (zone) ms = utc;
    else ms = utc + new Date(utc).getTimezoneOffset() * 60000;
    const nanos = (frac + '000000000').slice(0, 9);
    return `${Math.floor(ms / 1000)}.${nanos}`;
  }
  if (value.includes('-')) throw new Error(`parsing time "${value}" as "2006-01-02T15:04:05Z07:00": cannot parse "${value}" as "2006"`);
  if (!/^\d+(\.\d+)?$/.test(value)) throw new Error(`failed to parse value as time or duration: "${value}"`);
  return value;
}
