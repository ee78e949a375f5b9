// Go text/template's lexer and parser, for the subset the docker CLI's --format uses: text, actions
// with {{- -}} trimming, pipelines, fields/chains/variables, literals, parenthesised pipelines,
// if/else if/else, range (with $i, $v :=), with, break/continue, comments. Errors read as Go's.

export type Node =
  | { t: 'text'; text: string }
  | { t: 'action'; pos: number; pipe: Pipe }
  | { t: 'if' | 'with'; pos: number; pipe: Pipe; list: Node[]; else?: Node[] }
  | { t: 'range'; pos: number; pipe: Pipe; list: Node[]; else?: Node[] }
  | { t: 'break' | 'continue'; pos: number };

export type Pipe = { decl: string[]; assign: boolean; cmds: Cmd[]; pos: number; text: string };
export type Cmd = { args: Arg[]; pos: number };
export type Arg =
  | { t: 'field'; idents: string[]; text: string; pos: number }
  | { t: 'chain'; node: Arg; fields: string[]; text: string; pos: number }
  | { t: 'var'; name: string; fields: string[]; text: string; pos: number }
  | { t: 'dot'; text: string }
  | { t: 'ident'; name: string; text: string }
  | { t: 'string'; value: string; text: string }
  | { t: 'number'; value: number; text: string }
  | { t: 'bool'; value: boolean; text: string }
  | { t: 'nil'; text: string }
  | { t: 'pipe'; pipe: Pipe; text: string };

type Tok = { k: string; v: string; pos: number; line: number };

export class TemplateError extends Error {}

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'break', 'continue', 'define', 'template', 'block', 'nil']);

/** Splits a template into tokens (Go's lexer states flattened into one loop). */
function lex(src: string, name: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let line = 1;
  const push = (k: string, v: string, pos: number) => toks.push({ k, v, pos, line });
  const err = (msg: string) => new TemplateError(`template: ${name}:${line}: ${msg}`);
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      push('text', src.slice(i), i);
      break;
    }
    let text = src.slice(i, open);
    let j = open + 2;
    const trimLeft = src[j] === '-' && /[ \t\r\n]/.test(src[j + 1] ?? '');
    if (trimLeft) {
      text = text.replace(/[ \t\r\n]+$/, '');
      j += 2;
    }
    if (text) push('text', text, i);
    line += (src.slice(i, open).match(/\n/g) ?? []).length;
    // Comments: {{/* ... */}}
    if (src.startsWith('/*', j)) {
      const end = src.indexOf('*/', j);
      if (end < 0) throw err('unclosed comment');
      let k = end + 2;
      let trimR = false;
      if (src.startsWith(' -}}', k) || src.startsWith('\t-}}', k) || src.startsWith('\n-}}', k)) {
        trimR = true;
        k += 4;
      } else if (src.startsWith('}}', k)) k += 2;
      else throw err('comment ends before closing delimiter');
      i = k;
      if (trimR) while (i < src.length && /[ \t\r\n]/.test(src[i]!)) i++;
      continue;
    }
    push('{{', '{{', open);
    let parenDepth = 0;
    for (;;) {
      if (j >= src.length) throw err('unclosed action');
      const c = src[j]!;
      if (/[ \t\r\n]/.test(c)) {
        if (src[j + 1] === '-' && src.startsWith('}}', j + 2)) {
          push('}}', '}}', j);
          j += 4;
          while (j < src.length && /[ \t\r\n]/.test(src[j]!)) j++;
          break;
        }
        if (c === '\n') line++;
        j++;
        continue;
      }
      if (src.startsWith('}}', j)) {
        if (parenDepth > 0) throw err('unclosed left paren');
        push('}}', '}}', j);
        j += 2;
        break;
      }
      const start = j;
      if (c === '|') (j++, push('|', '|', start));
      else if (c === '(') (j++, parenDepth++, push('(', '(', start));
      else if (c === ')') {
        j++;
        parenDepth--;
        if (parenDepth < 0) throw err(`unexpected right paren U+0029 ')'`);
        push(')', ')', start);
      } else if (c === ',') (j++, push(',', ',', start));
      else if (src.startsWith(':=', j)) (j += 2, push(':=', ':=', start));
      else if (c === '=') (j++, push('=', '=', start));
      else if (c === '"') {
        j++;
        while (j < src.length && src[j] !== '"') {
          if (src[j] === '\\') j++;
          if (src[j] === '\n') throw err('unterminated quoted string');
          j++;
        }
        if (j >= src.length) throw err('unterminated quoted string');
        j++;
        push('string', src.slice(start, j), start);
      } else if (c === '`') {
        const end = src.indexOf('`', j + 1);
        if (end < 0) throw err('unterminated raw quoted string');
        j = end + 1;
        push('rawstring', src.slice(start, j), start);
      } else if (c === "'") {
        const m = /^'(\\.|[^'\\])+'/.exec(src.slice(j));
        if (!m) throw err('unterminated character constant');
        j += m[0].length;
        push('char', m[0], start);
      } else if (c === '$') {
        const m = /^\$[\p{L}_\d]*/u.exec(src.slice(j))!;
        j += m[0].length;
        push('var', m[0], start);
      } else if (c === '.' && !/[0-9]/.test(src[j + 1] ?? '')) {
        const m = /^\.[\p{L}_\d]*/u.exec(src.slice(j))!;
        j += m[0].length;
        push(m[0] === '.' ? 'dot' : 'field', m[0], start);
      } else if (/[+\-0-9.]/.test(c)) {
        const m = /^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(\d[\d_]*)?\.?[\d_]*([eE][+-]?\d+)?)/.exec(src.slice(j));
        if (!m || !m[0] || m[0] === '+' || m[0] === '-') throw err(`bad number syntax: "${src.slice(j, j + 2)}"`);
        j += m[0].length;
        push('number', m[0], start);
      } else if (/[\p{L}_]/u.test(c)) {
        const m = /^[\p{L}_\d]+/u.exec(src.slice(j))!;
        j += m[0].length;
        const w = m[0];
        push(KEYWORDS.has(w) ? w : w === 'true' || w === 'false' ? 'bool' : 'ident', w, start);
      } else throw err(`unrecognized character in action: U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} '${c}'`);
      // A field or variable may be followed directly by .Field (a chain).
    }
    i = j;
  }
  push('eof', '', src.length);
  return toks;
}

function unquote(tok: Tok): string {
  if (tok.k === 'rawstring') return tok.v.slice(1, -1);
  const body = tok.v.slice(1, -1);
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/g, (_m, e: string) => {
    const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", a: '\x07', b: '\b', f: '\f', v: '\v' };
    if (e in map) return map[e]!;
    if (/^[xuU]/.test(e)) return String.fromCodePoint(parseInt(e.slice(1), 16));
    if (/^[0-7]{3}$/.test(e)) return String.fromCharCode(parseInt(e, 8));
    throw new TemplateError(`invalid syntax`);
  });
}

export class Parser {
  private toks: Tok[] = [];
  private p = 0;
  private vars: string[][] = [];
  constructor(
    private readonly src: string,
    private readonly name = '',
  ) {}

  parse(): Node[] {
    this.toks = lex(this.src, this.name);
    this.p = 0;
    this.vars = [['$']];
    const list = this.itemList(new Set());
    if (this.peek().k !== 'eof') throw this.err(`unexpected ${this.describe(this.peek())}`);
    return list;
  }

  private peek(): Tok {
    return this.toks[this.p]!;
  }
  private next(): Tok {
    return this.toks[this.p++]!;
  }
  private err(msg: string): TemplateError {
    return new TemplateError(`template: ${this.name}:${this.peek().line}: ${msg}`);
  }
  private describe(t: Tok): string {
    if (t.k === '}}') return '"}}"';
    if (t.k === 'eof') return 'EOF';
    return `<${t.v}>`;
  }

  /** Parses nodes until one of the end keywords ({{end}}, {{else}}) inside an action. */
  private itemList(ends: Set<string>): Node[] {
    const out: Node[] = [];
    for (;;) {
      const t = this.peek();
      if (t.k === 'eof') {
        if (ends.size) throw this.err('unexpected EOF');
        return out;
      }
      if (t.k === 'text') {
        this.next();
        out.push({ t: 'text', text: t.v });
        continue;
      }
      // t is '{{'
      const kw = this.toks[this.p + 1]!;
      if (ends.has(kw.k)) return out;
      this.next();
      out.push(this.action());
    }
  }

  private action(): Node {
    const t = this.next();
    switch (t.k) {
      case 'if':
      case 'with':
      case 'range':
        return this.control(t);
      case 'break':
      case 'continue':
        this.expect('}}');
        return { t: t.k, pos: t.pos };
      case 'end':
      case 'else':
        throw this.err(`unexpected {{${t.k}}}`);
      case 'define':
      case 'template':
      case 'block':
        throw this.err(`{{${t.k}}} is not supported`);
    }
    this.p--;
    return { t: 'action', pos: t.pos, pipe: this.pipeline('command', '}}') };
  }

  private expect(k: string): Tok {
    const t = this.next();
    if (t.k !== k) throw this.err(`unexpected ${this.describe(t)} in ${k === '}}' ? 'end' : k}`);
    return t;
  }

  private control(kw: Tok): Node {
    this.vars.push([...this.vars.at(-1)!]);
    const pipe = this.pipeline(kw.k, '}}');
    const list = this.itemList(new Set(['end', 'else']));
    let elseList: Node[] | undefined;
    this.next(); // {{
    const t = this.next();
    if (t.k === 'else') {
      const n = this.peek();
      if (kw.k !== 'range' && (n.k === 'if' || n.k === 'with') && n.k === kw.k) {
        // {{else if ...}} is {{else}}{{if ...}}...{{end}}{{end}} with one shared end.
        this.next();
        const inner = this.control(n);
        elseList = [inner];
        this.vars.pop();
        return { t: kw.k as 'if' | 'with', pos: kw.pos, pipe, list, else: elseList };
      }
      this.expect('}}');
      elseList = this.itemList(new Set(['end']));
      this.next();
      this.next();
      this.expect('}}');
    } else this.expect('}}');
    this.vars.pop();
    return { t: kw.k as 'if' | 'with' | 'range', pos: kw.pos, pipe, list, ...(elseList ? { else: elseList } : {}) };
  }

  private pipeline(context: string, end: string): Pipe {
    const start = this.peek();
    const decl: string[] = [];
    let assign = false;
    // Declarations: $x := / $x = / $i, $v :=
    if (this.peek().k === 'var') {
      const save = this.p;
      const v = this.next();
      if (this.peek().k === ':=' || this.peek().k === '=') {
        assign = this.next().k === '=';
        decl.push(v.v);
      } else if (this.peek().k === ',' && context === 'range') {
        this.next();
        const v2 = this.next();
        if (v2.k !== 'var') throw this.err(`range can only initialize variables`);
        if (this.peek().k !== ':=' && this.peek().k !== '=') throw this.err(`missing := in range`);
        assign = this.next().k === '=';
        decl.push(v.v, v2.v);
      } else this.p = save;
    }
    for (const d of decl) {
      if (assign) {
        if (!this.vars.at(-1)!.includes(d)) throw this.err(`undefined variable "${d}"`);
      } else this.vars.at(-1)!.push(d);
    }
    const cmds: Cmd[] = [];
    for (;;) {
      const t = this.peek();
      if (t.k === end) {
        this.next();
        break;
      }
      if (t.k === 'eof') throw this.err(`unclosed action`);
      cmds.push(this.command(end));
      if (this.peek().k === '|') {
        this.next();
        if (this.peek().k === end) throw this.err(`missing command`);
      }
    }
    if (cmds.length === 0) throw this.err(`missing value for ${context}`);
    const text = this.src.slice(start.pos, this.toks[this.p - 1]!.pos).trim();
    return { decl, assign, cmds, pos: start.pos, text };
  }

  private command(end: string): Cmd {
    const args: Arg[] = [];
    const pos = this.peek().pos;
    for (;;) {
      const t = this.peek();
      if (t.k === end || t.k === '|') break;
      if (t.k === 'eof') throw this.err('unclosed action');
      args.push(this.operand());
    }
    if (args.length === 0) throw this.err(`empty command`);
    return { args, pos };
  }

  private operand(): Arg {
    const t = this.next();
    let node: Arg;
    switch (t.k) {
      case 'field':
        node = { t: 'field', idents: t.v.slice(1).split('.'), text: t.v, pos: t.pos };
        break;
      case 'var': {
        if (!this.vars.at(-1)!.includes(t.v)) throw this.err(`undefined variable "${t.v}"`);
        node = { t: 'var', name: t.v, fields: [], text: t.v, pos: t.pos };
        break;
      }
      case 'dot':
        node = { t: 'dot', text: '.' };
        break;
      case 'ident':
        node = { t: 'ident', name: t.v, text: t.v };
        break;
      case 'string':
      case 'rawstring':
        node = { t: 'string', value: unquote(t), text: t.v };
        break;
      case 'char': {
        const ch = unquote({ ...t, v: `"${t.v.slice(1, -1)}"` });
        node = { t: 'number', value: ch.codePointAt(0)!, text: t.v };
        break;
      }
      case 'number': {
        const v = Number(t.v.replace(/_/g, ''));
        if (Number.isNaN(v)) throw this.err(`bad number syntax: "${t.v}"`);
        node = { t: 'number', value: v, text: t.v };
        break;
      }
      case 'bool':
        node = { t: 'bool', value: t.v === 'true', text: t.v };
        break;
      case 'nil':
        node = { t: 'nil', text: 'nil' };
        break;
      case '(': {
        const pipe = this.pipeline('parenthesized pipeline', ')');
        node = { t: 'pipe', pipe, text: `(${pipe.text})` };
        break;
      }
      default:
        throw this.err(`unexpected ${this.describe(t)} in operand`);
    }
    // Chained field access: (pipe).Field, $x.Field, .A.B. Go's node then sits at the first chained
    // field, which is where its execution errors point.
    let chained = false;
    while (this.peek().k === 'field' && this.toks[this.p - 1]!.pos + this.toks[this.p - 1]!.v.length === this.peek().pos) {
      const f = this.next();
      const fields = f.v.slice(1).split('.');
      const pos: number = chained ? (node as { pos: number }).pos : f.pos;
      chained = true;
      if (node.t === 'var') node = { ...node, fields: [...node.fields, ...fields], text: node.text + f.v, pos };
      else if (node.t === 'field') node = { ...node, idents: [...node.idents, ...fields], text: node.text + f.v, pos };
      else node = { t: 'chain', node, fields, text: node.text + f.v, pos };
    }
    return node;
  }
}

export function parseTemplate(src: string, name = ''): Node[] {
  return new Parser(src, name).parse();
}
