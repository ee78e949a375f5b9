// docker's formatter.Context: --format handling for list commands. "table [TEMPLATE]" renders a header
// row (the template run over the header map with identity functions) and aligns with tabwriter;
// "json" is {{json .}}; anything else is a raw template, one execution per item.
import { tabwrite } from '../tabwriter';
import { Template, TemplateError } from '../template/exec';
import { GoStruct } from '../template/values';

export const TABLE = 'table';
export const RAW = 'raw';
export const JSON_KEY = 'json';
export const DEFAULT_QUIET = '{{.ID}}';

export const FORMAT_HELP = `Format output using a custom template:
'table':            Print output in table format with column headers (default)
'table TEMPLATE':   Print output in table format using the given Go template
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`;

export const INSPECT_FORMAT_HELP = `Format output using a custom template:
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`;

export function isTable(f: string): boolean {
  return f.startsWith(TABLE);
}

/** docker's SubHeaderContext: a map of field → header, with a Label method for {{.Label "k"}}. */
export function headerMap(h: Record<string, string>): Record<string, unknown> {
  const m: Record<string, unknown> = { ...h };
  Object.defineProperty(m, 'Label', {
    enumerable: false,
    value: (name: string) => {
      const parts = name.split('.');
      return parts[parts.length - 1]!.replace(/[-_]/g, ' ');
    },
  });
  return m;
}

/** The final template text for a format (preFormat). */
export function finalFormat(format: string): string {
  let f = format;
  if (isTable(f)) f = f.slice(TABLE.length);
  else if (f === JSON_KEY) f = '{{json .}}';
  return f.replace(/^ +| +$/g, '').replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

export function parseFormat(format: string): Template {
  try {
    return new Template(finalFormat(format));
  } catch (e) {
    throw new Error(`template parsing error: ${(e as Error).message}`);
  }
}

/** Renders items with a format; returns the text to print. Throws "template parsing error: ...". */
export function renderList(format: string, header: Record<string, string>, items: GoStruct[]): string {
  const tmpl = parseFormat(format);
  let body = '';
  for (const it of items) {
    try {
      body += tmpl.execute(it) + '\n';
    } catch (e) {
      if (e instanceof TemplateError) throw new Error(`template parsing error: ${e.message}`);
      throw e;
    }
  }
  if (!isTable(format)) return body;
  let head: string;
  try {
    head = tmpl.execute(headerMap(header), { header: true });
  } catch (e) {
    head = (e as { partial?: string }).partial ?? '';
  }
  return tabwrite(head + '\n' + body);
}

/** stringid.TruncateID: drop an algorithm prefix, keep 12 characters. */
export function truncateId(id: string): string {
  const i = id.indexOf(':');
  if (i >= 0) id = id.slice(i + 1);
  return id.length > 12 ? id.slice(0, 12) : id;
}

function charWidth(cp: number): number {
  // East Asian Wide/Fullwidth ranges (golang.org/x/text/width), the common blocks.
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  )
    return 2;
  return 1;
}

/** formatter.Ellipsis: cut to a display width, ending with "…". */
export function ellipsis(s: string, max: number): string {
  if (max <= 0) return '';
  const rs = [...s];
  if (max === 1) return rs[0] ?? '';
  if (Buffer.byteLength(s) === rs.length) return rs.length <= max ? s : rs.slice(0, max - 1).join('') + '…';
  const display: number[] = [];
  let w = 0;
  for (const r of rs) {
    w += charWidth(r.codePointAt(0)!);
    display.push(w);
  }
  if (w <= max) return s;
  for (let i = 0; i < display.length - 1; i++) {
    if (display[i]! <= max - 1 && display[i + 1]! > max - 1) return rs.slice(0, i + 1).join('') + '…';
  }
  return s;
}

/** Go's time.Time.String() in the local zone ("2006-01-02 15:04:05 -0700 MST"), fractional seconds kept. */
export function goTimeString(ms: number, nanos?: string, utc = false): string {
  const d = new Date(ms);
  const off = utc ? 0 : -d.getTimezoneOffset();
  const local = new Date(ms + off * 60000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const frac = nanos ? `.${nanos.replace(/0+$/, '')}`.replace(/^\.$/, '') : '';
  const sign = off >= 0 ? '+' : '-';
  const zone = off === 0 ? 'UTC' : (new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((x) => x.type === 'timeZoneName')?.value ?? '');
  return `${local.getUTCFullYear()}-${p(local.getUTCMonth() + 1)}-${p(local.getUTCDate())} ${p(local.getUTCHours())}:${p(local.getUTCMinutes())}:${p(local.getUTCSeconds())}${frac} ${sign}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)} ${zone}`;
}

/** time.Time.String() of an RFC 3339 timestamp as decoded by Go (its own offset kept). */
export function goTimeStringRfc3339(s: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|([+-]\d\d):?(\d\d))$/.exec(s);
  if (!m) return s;
  const frac = m[3] ? `.${m[3].replace(/0+$/, '')}`.replace(/^\.$/, '') : '';
  const zone = m[4] === 'Z' ? '+0000 UTC' : `${m[5]}${m[6]} ${m[5]}${m[6]}`;
  return `${m[1]} ${m[2]}${frac} ${zone}`;
}

/** Sorted "k=v,k2=v2" of a label map (docker joins map entries; sorted here for stable output). */
export function joinLabels(labels: Record<string, string> | null | undefined): string {
  if (!labels) return '';
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .sort()
    .join(',');
}
