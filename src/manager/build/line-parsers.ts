// Per-instruction argument splitting of the Dockerfile parser (BuildKit parser/line_parsers.go and
// split_command.go semantics): builder flags, words with quotes kept, name=value lists, JSON arrays.
// Turns one joined line into keyword, flags and arguments; knows nothing of what an instruction means.
import { errors } from '../../errors/index';
import { goQuote } from './go-format';

/** One ENV/LABEL pair; sep is "=" for the name=value form, "" for the legacy "NAME value" form. */
export type KeyValue = { key: string; value: string; sep: '' | '=' };

export type LineArgs = {
  /** The arguments; for ENV/LABEL the flattened key, value pairs. */
  args: string[];
  /** ENV and LABEL: the pairs as parsed. */
  kvs?: KeyValue[];
  /** The arguments came from a JSON array (exec form). */
  json: boolean;
};

export const RE_WHITESPACE = /[\t\v\f\r ]+/;
const isSpace = (c: string) => /^\s$/u.test(c);

/** Go's strings.TrimSpace (unicode white space). */
export function trimSpace(s: string): string {
  return s.replace(/^\s+|\s+$/gu, '');
}

/** regexp.Split(s, n) with Go's semantics for n = 2 and n = -1. */
function splitWs(s: string, n: number): string[] {
  if (n === 2) {
    const m = RE_WHITESPACE.exec(s);
    return m ? [s.slice(0, m.index), s.slice(m.index + m[0].length)] : [s];
  }
  return s.split(new RegExp(RE_WHITESPACE.source, 'g'));
}

/**
 * Splits "CMD --flag=x rest" into the keyword, the leading --flags (quotes and escapes resolved)
 * and the rest of the line, as splitCommand/extractBuilderFlags do.
 */
export function splitCommand(line: string, escapeToken: string): { cmd: string; flags: string[]; rest: string } {
  const parts = splitWs(trimSpace(line), 2);
  if (parts.length < 2) return { cmd: parts[0]!, flags: [], rest: '' };
  const { rest, flags } = extractBuilderFlags(parts[1]!, escapeToken);
  return { cmd: parts[0]!, flags, rest: trimSpace(rest) };
}

function extractBuilderFlags(line: string, esc: string): { rest: string; flags: string[] } {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = '';
  let blankOK = false;
  for (let pos = 0; pos <= line.length; pos++) {
    const ch = pos < line.length ? line[pos]! : '';
    if (phase === 'spaces') {
      if (pos === line.length) break;
      if (isSpace(ch)) continue;
      if (ch !== '-' || pos + 1 === line.length || line[pos + 1] !== '-') return { rest: line.slice(pos), flags: words };
      phase = 'word';
    }
    if (pos === line.length) {
      if (word !== '--' && (blankOK || word.length > 0)) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (word === '--') return { rest: line.slice(pos), flags: words };
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        continue;
      }
      let c = ch;
      if (c === esc) {
        if (pos + 1 === line.length) continue;
        c = line[++pos]!;
      }
      word += c;
      continue;
    }
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    let c = ch;
    if (c === esc) {
      if (pos + 1 === line.length) {
        phase = 'word';
        continue;
      }
      c = line[++pos]!;
    }
    word += c;
  }
  return { rest: '', flags: words };
}

/**
 * Splits on white space outside quotes; quotes and escapes are kept in the words (they are
 * resolved later by the lexer), as parseWords does.
 */
export function parseWords(rest: string, esc: string): string[] {
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let quote = '';
  let blankOK = false;
  let word = '';
  const chars = [...rest];
  for (let pos = 0; pos <= chars.length; pos++) {
    let ch = pos < chars.length ? chars[pos]! : '';
    if (phase === 'spaces') {
      if (pos === chars.length) break;
      if (isSpace(ch)) continue;
      phase = 'word';
    }
    if (pos === chars.length) {
      if (blankOK || word.length > 0) words.push(word);
      break;
    }
    if (phase === 'word') {
      if (isSpace(ch)) {
        phase = 'spaces';
        if (blankOK || word.length > 0) words.push(word);
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOK = true;
        phase = 'quote';
      }
      if (ch === esc) {
        if (pos + 1 === chars.length) continue;
        word += ch;
        ch = chars[++pos]!;
      }
      word += ch;
      continue;
    }
    if (ch === quote) phase = 'word';
    if (ch === esc && quote !== "'") {
      if (pos + 1 === chars.length) {
        phase = 'word';
        continue;
      }
      word += ch;
      ch = chars[++pos]!;
    }
    word += ch;
  }
  return words;
}

function parseNameVal(rest: string, key: string, esc: string): LineArgs {
  const words = parseWords(rest, esc);
  if (words.length === 0) return { args: [], json: false };
  if (!words[0]!.includes('=')) {
    const parts = splitWs(rest, 2);
    if (parts.length < 2) throw errors.invalid(`${key} must have two arguments`);
    const kv: KeyValue = { key: parts[0]!, value: parts[1]!, sep: '' };
    return { args: [kv.key, kv.value], kvs: [kv], json: false };
  }
  const kvs: KeyValue[] = [];
  for (const w of words) {
    const i = w.indexOf('=');
    if (i < 0) throw errors.invalid(`Syntax error - can't find = in ${goQuote(w)}. Must be of the form: name=value`);
    kvs.push({ key: w.slice(0, i), value: w.slice(i + 1), sep: '=' });
  }
  return { args: kvs.flatMap((k) => [k.key, k.value]), kvs, json: false };
}

function parseJSON(rest: string): string[] | undefined {
  const t = rest.replace(/^\s+/u, '');
  if (!t.startsWith('[')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v)) return undefined;
  if (!v.every((x) => typeof x === 'string')) throw errors.invalid('when using JSON array syntax, arrays must be comprised of strings only');
  return v as string[];
}

function maybeJSON(rest: string): LineArgs {
  if (rest === '') return { args: [], json: false };
  const j = parseJSON(rest);
  if (j) return { args: j, json: true };
  return { args: [rest], json: false };
}

function maybeJSONToList(rest: string): LineArgs {
  const j = parseJSON(rest);
  if (j) return { args: j, json: true };
  return { args: rest === '' ? [] : splitWs(rest, -1), json: false };
}

/** Parses the rest of a line for keyword (lower case); ONBUILD is handled by the caller. */
export function parseLineArgs(keyword: string, rest: string, esc: string): LineArgs {
  switch (keyword) {
    case 'add':
    case 'copy':
    case 'volume':
      return maybeJSONToList(rest);
    case 'run':
    case 'cmd':
    case 'entrypoint':
    case 'shell':
      return maybeJSON(rest);
    case 'arg':
      return { args: parseWords(rest, esc), json: false };
    case 'env':
      return parseNameVal(rest, 'ENV', esc);
    case 'label':
      return parseNameVal(rest, 'LABEL', esc);
    case 'expose':
    case 'from':
      return { args: rest === '' ? [] : splitWs(rest, -1), json: false };
    case 'maintainer':
    case 'stopsignal':
    case 'user':
    case 'workdir':
      return { args: rest === '' ? [] : [rest], json: false };
    case 'healthcheck': {
      const m = /^(\S+)\s*/u.exec(rest);
      if (!m || rest === '' || isSpace(rest[0]!)) return { args: [], json: false };
      const cmd = maybeJSON(rest.slice(m[0].length));
      return { args: [m[1]!, ...cmd.args], json: cmd.json };
    }
    default:
      return { args: [], json: false };
  }
}
