// The Dockerfile parser: text → instruction nodes, with the semantics of BuildKit's parser package
// (parser directives `# escape=`/`# syntax=`, line continuations, comments inside continuations,
// JSON vs shell form, heredocs). It does not interpret instructions (see instructions.ts).
import { errors, RuntimeError } from '../../errors/index';
import { parseLineArgs, splitCommand, trimSpace, type KeyValue } from './line-parsers';
import { EMPTY_ENV, ShellLex } from './shell-lex';

export type Heredoc = {
  /** The delimiter word, quotes removed. */
  name: string;
  /** The file descriptor before `<<` (`3<<EOF`); 0 when absent. */
  fileDescriptor: number;
  /** False when the delimiter was quoted: the body is then taken literally. */
  expand: boolean;
  /** `<<-`: leading tabs are stripped from the body and the delimiter line. */
  chomp: boolean;
  /** The body, each line with its newline. */
  content: string;
};

export type Node = {
  /** The instruction keyword in lower case ("run"). */
  keyword: string;
  /** The keyword as written ("Run"). */
  rawKeyword: string;
  /** The joined instruction line (continuations resolved, comments dropped). */
  original: string;
  /** The --flags before the arguments, quotes resolved ("--from=build"). */
  flags: string[];
  args: string[];
  /** ENV and LABEL pairs. */
  kvs?: KeyValue[];
  /** Arguments came from a JSON array. */
  json: boolean;
  heredocs: Heredoc[];
  /** ONBUILD: the trigger instruction. */
  sub?: Node;
  startLine: number;
  endLine: number;
};

export type ParseWarning = { line: number; message: string };

export type ParseResult = {
  nodes: Node[];
  escapeToken: string;
  /** `# syntax=` value, recorded and otherwise ignored (there is no frontend image here). */
  syntax?: string;
  warnings: ParseWarning[];
};

/** A Dockerfile error tied to a line; message is dockerd's, location separate. */
export class DockerfileError extends RuntimeError {
  constructor(
    readonly detail: string,
    readonly line: number,
    readonly endLine: number = line,
  ) {
    super('InvalidArgument', line > 0 ? `dockerfile parse error line ${line}: ${detail}` : `failed to parse Dockerfile: ${detail}`);
    this.name = 'DockerfileError';
  }
}

const HEREDOC_KEYWORDS = new Set(['add', 'copy', 'run']);
const RE_HEREDOC = /^(\d*)<<(-?)\s*([^<]*)$/;
const RE_DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const VALID_DIRECTIVES = new Set(['syntax', 'escape', 'check']);

/** Parser-directive state: directives are only recognised before anything else. */
class Directives {
  escapeToken = '\\';
  continuation = Directives.regexFor('\\');
  syntax: string | undefined;
  private done = false;
  private readonly seen = new Set<string>();

  private static regexFor(esc: string): RegExp {
    const e = esc === '\\' ? '\\\\' : '`';
    return new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
  }

  /** Looks at a line for `# name=value`; true when it was a directive. */
  possible(line: string): boolean {
    if (this.done) return false;
    if (!line.startsWith('#')) {
      this.done = true;
      return false;
    }
    const m = RE_DIRECTIVE.exec(line.slice(1).replace(/^\s+/u, ''));
    if (!m) {
      this.done = true;
      return false;
    }
    const k = m[1]!.toLowerCase();
    if (!VALID_DIRECTIVES.has(k)) {
      this.done = true;
      return false;
    }
    if (this.seen.has(k)) throw errors.invalid(`only one ${k} parser directive can be used`);
    this.seen.add(k);
    const v = m[2]!;
    if (k === 'escape') {
      if (v !== '`' && v !== '\\') throw errors.invalid(`invalid escape token '${v}' does not match \` or \\`);
      this.escapeToken = v;
      this.continuation = Directives.regexFor(v);
    }
    if (k === 'syntax') this.syntax = v;
    return true;
  }
}

const trimNewline = (s: string) => s.replace(/[\r\n]+$/, '');
const trimLeadingWs = (s: string) => s.replace(/^\s+/u, '');
const isComment = (s: string) => trimLeadingWs(s).startsWith('#');

/** Splits into lines that keep their "\n" (bufio.Scanner with ScanLines, endings preserved). */
function splitLines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', start)) {
    out.push(text.slice(start, i + 1));
    start = i + 1;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

/** A heredoc word (`<<EOF`, `<<-"EOF"`, `3<<EOF`) or undefined. */
export function parseHeredoc(word: string): Omit<Heredoc, 'content'> | undefined {
  const m = RE_HEREDOC.exec(word);
  if (!m) return undefined;
  const rest = m[3]!;
  if (rest === '') return undefined;
  const plain = new ShellLex('\\', { skipUnsetEnv: true }).processWords(rest, EMPTY_ENV);
  if (plain.length !== 1) return undefined;
  const raw = new ShellLex('\\', { skipUnsetEnv: true, rawQuotes: true }).processWords(rest, EMPTY_ENV);
  if (raw.length !== plain.length) throw errors.invalid(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  const quotes = (s: string) => (s.match(/['"]/g) ?? []).length;
  return {
    name: plain[0]!,
    fileDescriptor: m[1] ? Number.parseInt(m[1], 10) : 0,
    chomp: m[2] === '-',
    expand: quotes(plain[0]!) === quotes(raw[0]!),
  };
}

function heredocsFromLine(line: string): Omit<Heredoc, 'content'>[] {
  let words: string[];
  try {
    words = new ShellLex('\\', { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true }).processWords(line, EMPTY_ENV);
  } catch {
    return [];
  }
  const docs: Omit<Heredoc, 'content'>[] = [];
  for (const w of words) {
    const h = parseHeredoc(w);
    if (h) docs.push(h);
  }
  return docs;
}

/** Strips leading tabs from every line of a `<<-` heredoc body. */
export function chompHeredoc(content: string): string {
  return content.replace(/^\t+/gm, '');
}

function newNode(line: string, esc: string): Node {
  const { cmd, flags, rest } = splitCommand(line, esc);
  const keyword = cmd.toLowerCase();
  const node: Node = { keyword, rawKeyword: cmd, original: line, flags, args: [], json: false, heredocs: [], startLine: 0, endLine: 0 };
  if (keyword === 'onbuild') {
    if (rest !== '') {
      node.sub = newNode(rest, esc);
      node.args = [node.sub.rawKeyword, ...node.sub.args];
    }
    return node;
  }
  const parsed = parseLineArgs(keyword, rest, esc);
  node.args = parsed.args;
  node.json = parsed.json;
  if (parsed.kvs) node.kvs = parsed.kvs;
  return node;
}

function canContainHeredoc(n: Node): boolean {
  const t = n.keyword === 'onbuild' && n.sub ? n.sub : n;
  return HEREDOC_KEYWORDS.has(t.keyword) && !t.json;
}

/** Parses a whole Dockerfile. Throws DockerfileError with the line of the problem. */
export function parseDockerfile(text: string): ParseResult {
  const d = new Directives();
  const lines = splitLines(text);
  const nodes: Node[] = [];
  const warnings: ParseWarning[] = [];
  let i = 0;
  let current = 0;
  const processLine = (raw: string, strip: boolean): [string, boolean] => {
    let t = trimNewline(raw);
    if (strip) t = trimLeadingWs(t);
    let directive: boolean;
    try {
      directive = d.possible(t);
    } catch (e) {
      throw new DockerfileError((e as Error).message, current + 1);
    }
    return [isComment(t) ? '' : t, directive];
  };
  while (i < lines.length) {
    let raw = lines[i++]!;
    if (current === 0) raw = raw.replace(/^\uFEFF/, '');
    let [bytes] = processLine(raw, true);
    current++;
    const start = current;
    let m = d.continuation.test(bytes);
    if (m) bytes = bytes.replace(d.continuation, '$1');
    if (!m && bytes === '') continue;
    let buf = bytes;
    let emptyContinuation = false;
    while (m && i < lines.length) {
      const next = lines[i++]!;
      const [b] = processLine(next, false);
      current++;
      if (isComment(next)) continue;
      if (trimLeadingWs(trimNewline(b)) === '') {
        emptyContinuation = true;
        continue;
      }
      m = d.continuation.test(b);
      buf += m ? b.replace(d.continuation, '$1') : b;
    }
    if (emptyContinuation) warnings.push({ line: current, message: `Empty continuation line found in: ${buf}` });
    let node: Node;
    try {
      node = newNode(buf, d.escapeToken);
    } catch (e) {
      if (e instanceof DockerfileError) throw e;
      throw new DockerfileError((e as Error).message, start, current);
    }
    if (canContainHeredoc(node) && buf.includes('<<')) {
      let docs: Omit<Heredoc, 'content'>[];
      try {
        docs = heredocsFromLine(buf);
      } catch (e) {
        throw new DockerfileError((e as Error).message, start, current);
      }
      for (const h of docs) {
        let content = '';
        let terminated = false;
        while (i < lines.length) {
          const l = lines[i++]!;
          current++;
          let possible = trimNewline(l);
          if (h.chomp) possible = possible.replace(/^\t+/, '');
          if (possible === h.name) {
            terminated = true;
            break;
          }
          content += l;
        }
        if (!terminated) throw new DockerfileError('unterminated heredoc', start, current);
        node.heredocs.push({ ...h, content });
      }
    }
    node.startLine = start;
    node.endLine = current;
    nodes.push(node);
  }
  if (nodes.length === 0) throw new DockerfileError('file with no instructions', 0);
  const result: ParseResult = { nodes, escapeToken: d.escapeToken, warnings };
  if (d.syntax !== undefined) result.syntax = d.syntax;
  return result;
}

/** The original text of a node as the classic builder prints it in `Step N/M : …`. */
export function nodeSource(n: Node): string {
  return trimSpace(n.original);
}
