// Executes parsed Go templates against Go-like values (see values.ts). Field lookup follows
// text/template: struct contexts expose getters and methods (`.Label "k"` calls a method with
// arguments), maps answer with <no value> for missing keys (or fail with missingkey=error).
import { ExecError, templateFuncs, typeName, type TemplateFunc } from './funcs';
import { parseTemplate, TemplateError, type Arg, type Cmd, type Node, type Pipe } from './parse';
import { GoStruct, isMap, missingKey, NO_VALUE, sprint, truth, type PrintMode } from './values';

class Break {}
class Continue {}

type Scope = { vars: Map<string, unknown>[] };

export type ExecOptions = {
  missingKeyError?: boolean;
  header?: boolean;
  funcs?: Record<string, TemplateFunc>;
  printMode?: PrintMode;
  /** The Go type of dot when it stands for a struct: unknown fields of it fail as Go's would. */
  rootType?: string;
};

export class Template {
  readonly nodes: Node[];
  constructor(
    readonly source: string,
    readonly name = '',
  ) {
    this.nodes = parseTemplate(source, name);
  }

  /** Runs the template with dot = data; throws TemplateError with Go's "executing" wording. */
  execute(data: unknown, opts: ExecOptions = {}): string {
    const ex = new Executor(this, opts, data);
    const scope: Scope = { vars: [new Map([['$', data]])] };
    const out: string[] = [];
    try {
      ex.walkList(this.nodes, data, scope, out);
    } catch (e) {
      // Go's Execute leaves what was written before the failure in the writer.
      if (e instanceof Error) (e as Error & { partial?: string }).partial = out.join('');
      throw e;
    }
    return out.join('');
  }
}

class Executor {
  private readonly funcs: Record<string, TemplateFunc>;
  constructor(
    private readonly tmpl: Template,
    private readonly opts: ExecOptions,
    private readonly root?: unknown,
  ) {
    this.funcs = { ...templateFuncs(!!opts.header), ...(opts.funcs ?? {}) };
  }

  private lineOf(pos: number): string {
    const before = this.tmpl.source.slice(0, pos);
    const line = (before.match(/\n/g) ?? []).length + 1;
    const col = pos - (before.lastIndexOf('\n') + 1);
    return `${line}:${col}`;
  }

  private fail(pos: number, at: string, msg: string): TemplateError {
    return new TemplateError(`template: ${this.tmpl.name}:${this.lineOf(pos)}: executing "${this.tmpl.name}" at <${at}>: ${msg}`);
  }

  walkList(nodes: Node[], dot: unknown, scope: Scope, out: string[]): void {
    for (const n of nodes) this.walk(n, dot, scope, out);
  }

  private walk(n: Node, dot: unknown, scope: Scope, out: string[]): void {
    switch (n.t) {
      case 'text':
        out.push(n.text);
        return;
      case 'action': {
        const v = this.evalPipe(n.pipe, dot, scope);
        if (n.pipe.decl.length === 0) out.push(sprint(v, true, this.opts.printMode ?? 'map', lastField(n.pipe)));
        return;
      }
      case 'if':
      case 'with': {
        scope.vars.push(new Map());
        try {
          const v = this.evalPipe(n.pipe, dot, scope);
          if (truth(v)) this.walkList(n.list, n.t === 'with' ? v : dot, scope, out);
          else if (n.else) this.walkList(n.else, dot, scope, out);
        } finally {
          scope.vars.pop();
        }
        return;
      }
      case 'range':
        this.walkRange(n, dot, scope, out);
        return;
      case 'break':
        throw new Break();
      case 'continue':
        throw new Continue();
    }
  }

  private walkRange(n: Extract<Node, { t: 'range' }>, dot: unknown, scope: Scope, out: string[]): void {
    scope.vars.push(new Map());
    try {
      const pipe = { ...n.pipe, decl: [] };
      const v = this.evalPipe(pipe, dot, scope);
      let entries: [unknown, unknown][];
      if (Array.isArray(v)) entries = v.map((x, i) => [i, x]);
      else if (isMap(v)) entries = Object.keys(v).sort().map((k) => [k, v[k]]);
      else if (typeof v === 'number' && Number.isInteger(v)) entries = Array.from({ length: Math.max(0, v) }, (_x, i) => [i, i]);
      else if (v === null || v === undefined || v === NO_VALUE) entries = [];
      else throw this.fail(n.pos, n.pipe.text, `range can't iterate over ${sprint(v)}`);
      if (entries.length === 0) {
        if (n.else) this.walkList(n.else, dot, scope, out);
        return;
      }
      for (const [k, x] of entries) {
        const frame = scope.vars.at(-1)!;
        if (n.pipe.decl.length === 1) this.setVar(scope, n.pipe.decl[0]!, x, n.pipe.assign);
        else if (n.pipe.decl.length === 2) {
          this.setVar(scope, n.pipe.decl[0]!, k, n.pipe.assign);
          this.setVar(scope, n.pipe.decl[1]!, x, n.pipe.assign);
        }
        try {
          this.walkList(n.list, x, scope, out);
        } catch (e) {
          if (e instanceof Break) break;
          if (!(e instanceof Continue)) throw e;
        }
        void frame;
      }
    } finally {
      scope.vars.pop();
    }
  }

  private setVar(scope: Scope, name: string, v: unknown, assign: boolean): void {
    if (assign) {
      for (let i = scope.vars.length - 1; i >= 0; i--) {
        if (scope.vars[i]!.has(name)) {
          scope.vars[i]!.set(name, v);
          return;
        }
      }
    }
    scope.vars.at(-1)!.set(name, v);
  }

  private getVar(scope: Scope, name: string): unknown {
    for (let i = scope.vars.length - 1; i >= 0; i--) if (scope.vars[i]!.has(name)) return scope.vars[i]!.get(name);
    throw new ExecError(`undefined variable: ${name}`);
  }

  private evalPipe(pipe: Pipe, dot: unknown, scope: Scope): unknown {
    let v: unknown = undefined;
    let first = true;
    for (const cmd of pipe.cmds) {
      v = this.evalCmd(cmd, dot, scope, first ? undefined : { v });
      first = false;
    }
    for (const d of pipe.decl) this.setVar(scope, d, v, pipe.assign);
    return v;
  }

  private evalCmd(cmd: Cmd, dot: unknown, scope: Scope, final: { v: unknown } | undefined): unknown {
    const [head, ...rest] = cmd.args;
    try {
      switch (head!.t) {
        case 'field':
          return this.evalFields(dot, head!.idents, rest, dot, scope, final, head!.text, cmd.pos);
        case 'chain': {
          const base = this.evalArg(head!.node, dot, scope, cmd.pos);
          return this.evalFields(base, head!.fields, rest, dot, scope, final, head!.text, cmd.pos);
        }
        case 'var': {
          const base = this.getVar(scope, head!.name);
          if (head!.fields.length === 0) {
            if (rest.length || final) throw new ExecError(`can't give argument to non-function ${head!.name}`);
            return base;
          }
          return this.evalFields(base, head!.fields, rest, dot, scope, final, head!.text, cmd.pos);
        }
        case 'ident':
          return this.evalFunction(head!.name, rest, dot, scope, final, cmd.pos);
        case 'pipe':
          if (rest.length || final) throw new ExecError(`can't give argument to non-function ${head!.text}`);
          return this.evalPipe(head!.pipe, dot, scope);
        default:
          if (head!.t === 'nil') throw new ExecError('nil is not a command');
          if (rest.length || final) throw new ExecError(`can't give argument to non-function ${head!.text}`);
          return this.evalArg(head!, dot, scope, cmd.pos);
      }
    } catch (e) {
      const pos = 'pos' in head! ? head.pos : cmd.pos;
      if (e instanceof ExecError) throw this.fail(pos, head!.text, e.message);
      throw e;
    }
  }

  private evalArg(a: Arg, dot: unknown, scope: Scope, pos: number): unknown {
    switch (a.t) {
      case 'dot':
        return dot;
      case 'string':
        return a.value;
      case 'number':
        return a.value;
      case 'bool':
        return a.value;
      case 'nil':
        return null;
      case 'field':
        return this.evalFields(dot, a.idents, [], dot, scope, undefined, a.text, pos);
      case 'chain':
        return this.evalFields(this.evalArg(a.node, dot, scope, pos), a.fields, [], dot, scope, undefined, a.text, pos);
      case 'var': {
        const base = this.getVar(scope, a.name);
        return a.fields.length ? this.evalFields(base, a.fields, [], dot, scope, undefined, a.text, pos) : base;
      }
      case 'pipe':
        return this.evalPipe(a.pipe, dot, scope);
      case 'ident': {
        return this.evalFunction(a.name, [], dot, scope, undefined, pos);
      }
    }
  }

  private evalFunction(name: string, args: Arg[], dot: unknown, scope: Scope, final: { v: unknown } | undefined, pos: number): unknown {
    if (name === 'and' || name === 'or') {
      const all = [...args.map((a) => () => this.evalArg(a, dot, scope, pos)), ...(final ? [() => final.v] : [])];
      if (all.length === 0) throw new ExecError(`wrong number of args for ${name}: want at least 1 got 0`);
      let v: unknown;
      for (const f of all) {
        v = f();
        if (name === 'and' ? !truth(v) : truth(v)) return v;
      }
      return v;
    }
    const fn = this.funcs[name];
    if (!fn) throw new TemplateError(`template: ${this.tmpl.name}:${this.lineOf(pos)}: function "${name}" not defined`);
    const vals = args.map((a) => this.evalArg(a, dot, scope, pos));
    if (final) vals.push(final.v);
    try {
      return fn(...vals);
    } catch (e) {
      if (e instanceof ExecError && !e.message.startsWith('error calling')) throw new ExecError(`error calling ${name}: ${e.message}`);
      throw e;
    }
  }

  /** Walks .A.B.C from base; the last one may be a method taking args (and the piped value). */
  private evalFields(base: unknown, idents: string[], args: Arg[], dot: unknown, scope: Scope, final: { v: unknown } | undefined, text: string, pos: number): unknown {
    let v = base;
    idents.forEach((id, i) => {
      const last = i === idents.length - 1;
      const argv = last ? [...args.map((a) => this.evalArg(a, dot, scope, pos)), ...(final ? [final.v] : [])] : [];
      v = this.field(v, id, argv, last && (args.length > 0 || !!final));
    });
    void text;
    return v;
  }

  private field(v: unknown, name: string, args: unknown[], hasArgs: boolean): unknown {
    if (v instanceof GoStruct) {
      const m = (v as unknown as Record<string, unknown>)[name];
      const desc = findDescriptor(v, name);
      if (!/^[A-Z]/.test(name) || (m === undefined && !desc)) throw new ExecError(`can't evaluate field ${name} in type ${v.goType()}`);
      if (typeof m === 'function') {
        const fn = m as (...a: unknown[]) => unknown;
        if (fn.length !== args.length) throw new ExecError(`wrong number of args for ${name}: want ${fn.length} got ${args.length}`);
        return fn.apply(v, args);
      }
      if (hasArgs) throw new ExecError(`${name} has arguments but cannot be invoked as function`);
      return m;
    }
    if (isMap(v)) {
      const m = v[name];
      // A map type with methods (docker's SubHeaderContext.Label): non-enumerable functions.
      if (typeof m === 'function' && !Object.prototype.propertyIsEnumerable.call(v, name)) return (m as (...a: unknown[]) => unknown).apply(v, args);
      if (hasArgs) throw new ExecError(`${name} is not a method but has arguments`);
      if (Object.prototype.hasOwnProperty.call(v, name)) return v[name];
      if (this.opts.printMode === 'typed') {
        // The engine's Go field names (APIVersion, NanoCPUs, ID) differ in case from their JSON
        // names; encoding/json matches them case-insensitively, so the typed objects answer to both.
        const k = Object.keys(v).find((x) => x.toLowerCase() === name.toLowerCase());
        if (k !== undefined) return v[k];
      }
      if (v === this.root && this.opts.rootType) throw new ExecError(`can't evaluate field ${name} in type ${this.opts.rootType}`);
      if (this.opts.missingKeyError) throw new ExecError(`map has no entry for key "${name}"`);
      return missingKey(v);
    }
    if (v === null || v === undefined || v === NO_VALUE) throw new ExecError(`nil pointer evaluating ${typeName(v) === '<nil>' ? 'interface {}' : typeName(v)}.${name}`);
    throw new ExecError(`can't evaluate field ${name} in type ${typeName(v)}`);
  }
}

function findDescriptor(v: object, name: string): PropertyDescriptor | undefined {
  let p = Object.getPrototypeOf(v) as object | null;
  while (p) {
    const d = Object.getOwnPropertyDescriptor(p, name);
    if (d) return d;
    p = Object.getPrototypeOf(p) as object | null;
  }
  return Object.getOwnPropertyDescriptor(v, name);
}

/** The field an action's value was read from ({{.A.B}} → "B"), for typed-mode nil printing. */
function lastField(p: Pipe): string | undefined {
  const last = p.cmds.at(-1);
  if (!last || last.args.length !== 1) return undefined;
  const a = last.args[0]!;
  if (a.t === 'field') return a.idents.at(-1);
  if (a.t === 'chain' || a.t === 'var') return a.fields.at(-1);
  return undefined;
}

export { TemplateError };
