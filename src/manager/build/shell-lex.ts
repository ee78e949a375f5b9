// Shell-word lexing and variable substitution with the semantics of BuildKit's dockerfile shell/lex:
// quotes, the escape token, $v ${v} ${v:-w} ${v-w} ${v:+w} ${v+w} ${v:?m} ${v?m} ${v#p} ${v##p}
// ${v%p} ${v%%p} ${v/p/r} ${v//p/r}, word splitting after expansion. Knows nothing of instructions.
import { RuntimeError } from '../../errors/index';
import { goQuote } from './go-format';

/** Variables visible to an expansion; the first definition of a name wins. */
export interface EnvGetter {
  /** The value of name, or undefined when it is not defined. */
  get(name: string): string | undefined;
  /** Every defined name, in definition order. */
  keys(): string[];
}

/** An EnvGetter over "K=V" strings (a bare "K" is defined and empty); the first K wins, as in Docker. */
export function envFromList(list: readonly string[]): EnvGetter {
  const map = new Map<string, string>();
  for (const e of list) {
    const i = e.indexOf('=');
    const k = i < 0 ? e : e.slice(0, i);
    if (!map.has(k)) map.set(k, i < 0 ? '' : e.slice(i + 1));
  }
  return { get: (n) => map.get(n), keys: () => [...map.keys()] };
}

export const EMPTY_ENV: EnvGetter = { get: () => undefined, keys: () => [] };

export class LexError extends RuntimeError {
  constructor(message: string) {
    super('InvalidArgument', message);
    this.name = 'LexError';
  }
}

export type LexOptions = {
  /** Keep quote characters in the result (heredoc detection uses it). */
  rawQuotes?: boolean;
  /** Keep escape characters in the result. */
  rawEscapes?: boolean;
  /** Treat quotes as ordinary characters. */
  skipProcessQuotes?: boolean;
  /** Leave references to unset variables as written. */
  skipUnsetEnv?: boolean;
};

export type WordResult = { result: string; words: string[]; matched: Set<string>; unmatched: Set<string> };

const EOF = null;
type Ch = string | null;

const isSpace = (c: string) => /^\s$/u.test(c);
const isLetter = (c: string) => /^\p{L}$/u.test(c);
const isDigit = (c: string) => /^\p{Nd}$/u.test(c);
const isSpecialParam = (c: string) => '@*#?-$!0'.includes(c);

/** Collects the words of a processed string: unquoted whitespace splits, quoted text never does. */
class Words {
  private buf = '';
  private inWord = false;
  readonly words: string[] = [];

  addChar(c: string): void {
    if (isSpace(c)) {
      if (this.inWord && this.buf.length > 0) {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else this.addRawChar(c);
  }
  addRawChar(c: string): void {
    this.buf += c;
    this.inWord = true;
  }
  addString(s: string): void {
    for (const c of s) this.addChar(c);
  }
  addRawString(s: string): void {
    this.buf += s;
    this.inWord = true;
  }
  get(): string[] {
    if (this.buf.length > 0) {
      this.words.push(this.buf);
      this.buf = '';
      this.inWord = false;
    }
    return this.words;
  }
}

/** One pass over one word (the scanner state of shell/lex's shellWord). */
class WordScanner {
  private pos = 0;
  private readonly chars: string[];
  matched = new Set<string>();
  unmatched = new Set<string>();
  private rawEscapes: boolean;

  constructor(
    word: string,
    private readonly lex: ShellLex,
    private readonly env: EnvGetter,
    private readonly capture: boolean,
  ) {
    this.chars = [...word];
    this.rawEscapes = lex.opts.rawEscapes ?? false;
  }

  private peek(): Ch {
    return this.pos < this.chars.length ? this.chars[this.pos]! : EOF;
  }
  private next(): Ch {
    return this.pos < this.chars.length ? this.chars[this.pos++]! : EOF;
  }

  processStopOn(stop: Ch, rawEscapes: boolean): { result: string; words: string[] } {
    let result = '';
    const words = new Words();
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      const esc = this.lex.escapeToken;
      for (let ch = this.peek(); ch !== EOF; ch = this.peek()) {
        if (stop !== EOF && ch === stop) {
          this.next();
          return { result, words: words.get() };
        }
        let special: (() => string) | undefined;
        if (ch === '$') special = () => this.processDollar();
        else if (ch === '<') special = () => this.processPossibleHeredoc();
        else if (!this.lex.opts.skipProcessQuotes && ch === "'") special = () => this.processSingleQuote();
        else if (!this.lex.opts.skipProcessQuotes && ch === '"') special = () => this.processDoubleQuote();
        if (special) {
          const tmp = special();
          result += tmp;
          if (ch === '$') words.addString(tmp);
          else words.addRawString(tmp);
          continue;
        }
        let c = this.next()!;
        if (c === esc) {
          if (this.rawEscapes) {
            words.addRawChar(c);
            result += c;
          }
          const n = this.next();
          if (n === EOF) break;
          c = n;
          words.addRawChar(c);
        } else words.addChar(c);
        result += c;
      }
      if (stop !== EOF) throw new LexError(`unexpected end of statement while looking for matching ${stop}`);
      return { result, words: words.get() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private processSingleQuote(): string {
    let result = '';
    const open = this.next()!;
    if (this.lex.opts.rawQuotes) result += open;
    for (;;) {
      const ch = this.next();
      if (ch === EOF) throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (ch === "'") {
        if (this.lex.opts.rawQuotes) result += ch;
        return result;
      }
      result += ch;
    }
  }

  private processDoubleQuote(): string {
    let result = '';
    const open = this.next()!;
    if (this.lex.opts.rawQuotes) result += open;
    const esc = this.lex.escapeToken;
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        this.next();
        if (this.lex.opts.rawQuotes) result += p;
        return result;
      }
      if (p === '$') {
        result += this.processDollar();
        continue;
      }
      let ch = this.next()!;
      if (ch === esc) {
        if (this.rawEscapes) result += ch;
        const q = this.peek();
        if (q === EOF) continue;
        // Inside double quotes the escape only quotes ", $ and itself; otherwise it stays literal.
        if (q === '"' || q === '$' || q === esc) ch = this.next()!;
      }
      result += ch;
    }
  }

  private processName(): string {
    let name = '';
    for (let ch = this.peek(); ch !== EOF; ch = this.peek()) {
      if (name === '' && isDigit(ch)) {
        while (this.peek() !== EOF && isDigit(this.peek()!)) name += this.next();
        return name;
      }
      if (name === '' && isSpecialParam(ch)) return this.next()!;
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += this.next();
    }
    return name;
  }

  private getEnv(name: string): string | undefined {
    const v = this.env.get(name);
    if (this.capture) (v !== undefined ? this.matched : this.unmatched).add(name);
    return v;
  }

  private processDollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.processName();
      if (name === '') return '$';
      const v = this.getEnv(name);
      if (v === undefined && this.lex.opts.skipUnsetEnv) return `$${name}`;
      return v ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new LexError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new LexError('syntax error: bad substitution');
    const name = this.processName();
    let ch = this.next();
    if (ch === EOF) throw new LexError("syntax error: missing '}'");
    let mods = ch;
    if (ch === '}') {
      const v = this.getEnv(name);
      if (v === undefined && this.lex.opts.skipUnsetEnv) return `\${${name}}`;
      return v ?? '';
    }
    if (ch === '/') return this.processReplace(name);
    let nullIsUnset = false;
    if (ch === ':') {
      nullIsUnset = true;
      ch = this.next();
      if (ch === EOF) throw new LexError("syntax error: missing '}'");
      mods += ch;
    }
    if (!'+-?#%'.includes(ch)) throw new LexError(`unsupported modifier (${mods}) in substitution`);
    const trims = ch === '#' || ch === '%';
    if (nullIsUnset && trims) throw new LexError(`unsupported modifier (${mods}) in substitution`);
    let word: string;
    try {
      word = this.processStopOn('}', trims).result;
    } catch (e) {
      if (this.peek() === EOF) throw new LexError("syntax error: missing '}'");
      throw e;
    }
    const value = this.getEnv(name);
    if (value === undefined && this.lex.opts.skipUnsetEnv) return `\${${name}${mods}${word}}`;
    const unset = value === undefined || (nullIsUnset && value === '');
    switch (ch) {
      case '-':
        return unset ? word : value!;
      case '+':
        return unset ? '' : word;
      case '?':
        if (value === undefined) throw new LexError(`${name}: ${word || 'is not allowed to be unset'}`);
        if (nullIsUnset && value === '') throw new LexError(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      default: {
        let pattern = word;
        let greedy = false;
        if (pattern.startsWith(ch)) {
          greedy = true;
          pattern = pattern.slice(1);
        }
        return ch === '%' ? trimSuffix(pattern, value ?? '', greedy) : trimPrefix(pattern, value ?? '', greedy);
      }
    }
  }

  private processReplace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    let pattern: string;
    let replacement: string;
    try {
      pattern = this.processStopOn('/', true).result;
    } catch (e) {
      if (this.peek() === EOF) throw new LexError("syntax error: missing '/' in ${}");
      throw e;
    }
    try {
      replacement = this.processStopOn('}', true).result;
    } catch (e) {
      if (this.peek() === EOF) throw new LexError("syntax error: missing '}'");
      throw e;
    }
    const value = this.getEnv(name);
    if (value === undefined && this.lex.opts.skipUnsetEnv) return `\${${name}/${pattern}/${replacement}}`;
    const re = patternToRegex(pattern, true, false, all);
    const v = value ?? '';
    if (all) return v.replace(re, () => replacement);
    const m = re.exec(v);
    return m ? v.slice(0, m.index) + replacement + v.slice(m.index + m[0].length) : v;
  }

  private processPossibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let space = '';
    for (let c = this.peek(); c === '\t' || c === '\r' || c === ' '; c = this.peek()) space += this.next();
    return `<<${space}`;
  }
}

/**
 * A shell-like word pattern (`*`, `?`, `\` escapes; no bracket expressions) as a RegExp, the way
 * shell/lex's convertShellPatternToRegex builds it.
 */
function patternToRegex(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = [...pattern];
  let out = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') out += greedy ? '[\\s\\S]*' : '[\\s\\S]*?';
    else if (c === '?') out += '[\\s\\S]';
    else if (c === '\\') {
      const n = chars[i + 1];
      if (n === '}' || n === '/') continue;
      i++;
      if (n !== '*' && n !== '?' && n !== '\\') throw new LexError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${n ?? ''}'`);
      out += `\\${n}`;
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = patternToRegex(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

/** Reverses a pattern but keeps each escape before the character it escapes. */
function reversePattern(pattern: string): string {
  const r = [...pattern];
  const out: string[] = new Array<string>(r.length);
  const last = r.length - 1;
  for (let i = 0; i <= last; ) {
    if (r[i] === '\\' && i !== last) {
      out[last - i - 1] = '\\';
      out[last - i] = r[i + 1]!;
      i += 2;
    } else {
      out[last - i] = r[i]!;
      i++;
    }
  }
  return out.join('');
}

function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  const rev = (s: string) => [...s].reverse().join('');
  return rev(trimPrefix(reversePattern(pattern), rev(value), greedy));
}

/** The lexer; one instance per escape token and option set. */
export class ShellLex {
  constructor(
    readonly escapeToken: string = '\\',
    readonly opts: LexOptions = {},
  ) {}

  private run(word: string, env: EnvGetter, capture: boolean): WordResult {
    const sc = new WordScanner(word, this, env, capture);
    try {
      const { result, words } = sc.processStopOn(EOF, this.opts.rawEscapes ?? false);
      return { result, words, matched: sc.matched, unmatched: sc.unmatched };
    } catch (e) {
      throw new LexError(`failed to process ${goQuote(word)}: ${(e as Error).message}`);
    }
  }

  /** Expands word into one string (spaces between words kept). */
  processWord(word: string, env: EnvGetter): string {
    return this.run(word, env, false).result;
  }

  /** Expands word and splits the result into words (splitting happens after expansion). */
  processWords(word: string, env: EnvGetter): string[] {
    return this.run(word, env, false).words;
  }

  /** Like processWord, also reporting which variables were found and which were not. */
  processWordWithMatches(word: string, env: EnvGetter): WordResult {
    return this.run(word, env, true);
  }
}
