// The .env / env_file format as compose v2 reads it (compose-go's dotenv parser): KEY=VALUE lines,
// `export ` prefixes, # comments (inline only after a space, on unquoted values), single quotes
// literal, double quotes with escapes and interpolation, a bare KEY inherits from the lookup.
import { RuntimeError } from '../../errors/index';
import { substitute, type Lookup } from './interpolate';

const KEY_CHAR = /[A-Za-z0-9_.\-[\]]/;

/** Parses a dotenv text; values may refer to earlier keys and to lookup (`${V}`). */
export function parseDotenv(text: string, lookup: Lookup = () => undefined, file = '.env'): Record<string, string> {
  const out: Record<string, string> = {};
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const resolve: Lookup = (n) => (n in out ? out[n] : lookup(n));
  let i = 0;
  let line = 1;
  const fail = (msg: string) => new RuntimeError('InvalidArgument', `failed to read ${file}: line ${line}: ${msg}`);
  while (i < src.length) {
    // Skip blank space and comment lines.
    const c = src[i]!;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      const nl = src.indexOf('\n', i);
      i = nl < 0 ? src.length : nl;
      continue;
    }
    const exp = /^export[ \t]+/.exec(src.slice(i));
    if (exp) i += exp[0].length;
    let key = '';
    let sep = '';
    for (; i < src.length; i++) {
      const ch = src[i]!;
      if (ch === '=' || ch === ':' || ch === '\n') {
        sep = ch;
        i++;
        break;
      }
      if (ch === ' ' || ch === '\t') {
        key += ch;
        continue;
      }
      if (!KEY_CHAR.test(ch) && !/\p{L}|\p{N}/u.test(ch)) {
        throw fail(`unexpected character ${JSON.stringify(ch)} in variable name ${JSON.stringify(src.slice(i - key.length, src.indexOf('\n', i) < 0 ? undefined : src.indexOf('\n', i)))}`);
      }
      key += ch;
    }
    key = key.trimEnd();
    if (key.includes(' ') || key.includes('\t')) throw fail('key cannot contain a space');
    if (sep === '\n' || sep === '') {
      // A bare KEY: take the value from the environment, if it has one.
      const v = lookup(key);
      if (v !== undefined) out[key] = v;
      if (sep === '\n') line++;
      continue;
    }
    while (i < src.length && (src[i] === ' ' || src[i] === '\t')) i++;
    const q = src[i];
    if (q === '"' || q === "'") {
      let j = i + 1;
      let raw = '';
      let escaped = false;
      for (; j < src.length; j++) {
        const ch = src[j]!;
        if (ch === '\n') line++;
        if (escaped) {
          raw += ch === q ? ch : `\\${ch}`;
          escaped = false;
          continue;
        }
        if (ch === '\\') {
          escaped = true;
          continue;
        }
        if (ch === q) break;
        raw += ch;
      }
      if (j >= src.length) throw fail(`unterminated quoted value ${src.slice(i, src.indexOf('\n', i) < 0 ? undefined : src.indexOf('\n', i))}`);
      out[key] = q === "'" ? raw : substitute(unescape(raw), resolve, `${file} ${key}`);
      i = j + 1;
      // The rest of the line (a comment) is ignored.
      const nl = src.indexOf('\n', i);
      i = nl < 0 ? src.length : nl;
      continue;
    }
    const nl = src.indexOf('\n', i);
    let value = src.slice(i, nl < 0 ? undefined : nl);
    const hash = value.indexOf(' #');
    if (hash >= 0) value = value.slice(0, hash);
    out[key] = substitute(value.trimEnd(), resolve, `${file} ${key}`);
    i = nl < 0 ? src.length : nl;
  }
  return out;
}

/** Shell escapes of double-quoted values (\n \t \\ \" ...); \$ stays a literal dollar. */
function unescape(s: string): string {
  const map: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '"': '"', '\\': '\\', $: '$$' };
  return s.replace(/\\([abfnrtv"\\$])/g, (_m, c: string) => map[c]!);
}
