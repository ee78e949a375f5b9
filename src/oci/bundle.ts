// Loads an OCI bundle: reads <bundle>/config.json, validates it against the schema (validate.ts) and the
// semantic rules (semantic.ts), and resolves the rootfs. Reads files only; creates and mounts nothing.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntimeError, kindOfErrno } from '../errors/index';
import type { Spec } from '../../spec/types/runtime';
import { validateSpec } from './validate';
import { checkSpec, type CheckOptions } from './semantic';

/** A loaded, checked bundle. */
export interface Bundle {
  /** Absolute path of the bundle directory. */
  bundle: string;
  /** The validated config.json. */
  spec: Spec;
  /** Absolute path of the root filesystem (root.path resolved against the bundle). */
  rootfs: string;
}

/** Options of loadBundle: those of checkSpec (--systemd-cgroup, the warning sink). */
export type LoadBundleOptions = CheckOptions;

/** strerror(3) wording for the errors a config.json read can hit, so messages read like runc's. */
const strerror: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EACCES: 'permission denied',
  ELOOP: 'too many levels of symbolic links',
};

/** Reads and checks <bundleDir>/config.json; throws RuntimeError with a pointer-precise message on any problem. */
export function loadBundle(bundleDir: string, opts: LoadBundleOptions = {}): Bundle {
  const bundle = path.resolve(bundleDir);
  const configPath = path.join(bundle, 'config.json');
  let text: string;
  try {
    text = fs.readFileSync(configPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    throw new RuntimeError(kindOfErrno(code), `open ${configPath}: ${strerror[code] ?? code}`, { cause: err });
  }
  const spec = validateSpec(parseJson(text, 'config.json'), 'config.json');
  checkSpec(spec, bundle, 'config.json', opts);
  // checkSpec has established that root is present and a directory.
  return { bundle, spec, rootfs: path.resolve(bundle, spec.root!.path) };
}

/**
 * JSON.parse with a locatable error: "config.json: invalid JSON: <reason> at line L column C". V8's own
 * messages sometimes carry no position (and then quote the whole document), so on failure the text is
 * re-scanned by findJsonError to locate the first offending character.
 */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    let found: { offset: number; reason: string } | null = null;
    try {
      found = findJsonError(text);
    } catch {
      // A pathologically deep document can exhaust the scanner's stack; fall back to V8's message.
    }
    if (!found)
      throw new RuntimeError('InvalidArgument', `${file}: invalid JSON: ${(err as Error).message}`, { cause: err });
    const before = text.slice(0, found.offset).split('\n');
    const line = before.length;
    const column = before[before.length - 1]!.length + 1;
    throw new RuntimeError(
      'InvalidArgument',
      `${file}: invalid JSON: ${found.reason} at line ${line} column ${column}`,
      {
        cause: err,
      },
    );
  }
}

/** Finds the first syntax error of a JSON text (RFC 8259): its offset and a short reason; null if the text is valid. */
export function findJsonError(text: string): { offset: number; reason: string } | null {
  let i = 0;
  class Stop {
    constructor(
      readonly offset: number,
      readonly reason: string,
    ) {}
  }
  const stop = (reason: string, at = i): never => {
    throw new Stop(at, reason);
  };
  const show = (c: string | undefined) => (c === undefined ? 'end of input' : `character ${JSON.stringify(c)}`);
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else stop(`unexpected ${show(text[i])}`);
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      const c = text[i];
      if (c === undefined) stop('unterminated string');
      if (c === '"') return void i++;
      if (c! < ' ') stop('bad control character in string');
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) stop('bad \\u escape in string');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else stop('bad escape in string', i + 1);
      } else i++;
    }
  };
  const number = () => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) stop(`unexpected ${show(text[i])}`);
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') stop(`expected a double-quoted property name, got ${show(text[i])}`);
        string();
        ws();
        if (text[i] !== ':') stop(`expected ':' after property name, got ${show(text[i])}`);
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else stop(`expected ',' or '}' after property value, got ${show(text[i])}`);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else stop(`expected ',' or ']' after array element, got ${show(text[i])}`);
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    stop(`unexpected ${show(c)}`);
  };
  try {
    value();
    ws();
    if (i < text.length) stop(`unexpected ${show(text[i])} after the document`);
    return null;
  } catch (e) {
    if (e instanceof Stop) return { offset: e.offset, reason: e.reason };
    throw e;
  }
}
