// A flag set with spf13/pflag's semantics (the docker CLI's flag parser): GNU long flags, combined
// shorthands, `--` terminator, optional interspersing, Go-worded errors, and FlagUsagesWrapped for
// help. It only parses; docker's option types (lists, maps, ulimits, ...) are FlagValues in opts/.
import { formatDuration, goQuote, goQuoteRune, parseBool, parseDuration, parseFloat64, parseInt64, parseUint } from './go-strconv';

/** pflag.Value: what a flag stores and how it parses one occurrence. */
export interface FlagValue<T = unknown> {
  /** Value.Type(): the word shown in help ("string", "list", "bytes", ...). */
  readonly type: string;
  /** Parses one occurrence; throws Error with the Go message. */
  set(s: string): void;
  /** Value.String(). */
  string(): string;
  /** The typed value the command reads. */
  get(): T;
}

/** How pflag decides whether a default is worth printing (defaultIsZeroValue). */
type ZeroRule = 'bool' | 'number' | 'duration' | 'string' | 'slice' | 'custom';

export type Flag = {
  name: string;
  shorthand?: string;
  usage: string;
  value: FlagValue;
  defValue: string;
  noOptDefVal?: string;
  hidden?: boolean;
  deprecated?: string;
  shorthandDeprecated?: string;
  annotations: Record<string, string[]>;
  changed: boolean;
  zero: ZeroRule;
};

export class FlagError extends Error {}

class Simple<T> implements FlagValue<T> {
  constructor(
    readonly type: string,
    private v: T,
    private readonly parse: (s: string) => T,
    private readonly show: (v: T) => string = String,
  ) {}
  set(s: string): void {
    this.v = this.parse(s);
  }
  string(): string {
    return this.show(this.v);
  }
  get(): T {
    return this.v;
  }
}

/** A []string flag that appends each occurrence (pflag stringArray; docker's ListOpts without validation). */
export class ListValue implements FlagValue<string[]> {
  readonly values: string[] = [];
  constructor(
    private readonly validate?: (s: string) => string,
    readonly type = 'list',
  ) {}
  set(s: string): void {
    this.values.push(this.validate ? this.validate(s) : s);
  }
  string(): string {
    return this.values.length ? `[${this.values.join(' ')}]` : '';
  }
  get(): string[] {
    return this.values;
  }
}

export class FlagSet {
  private readonly formal = new Map<string, Flag>();
  private readonly shorthands = new Map<string, Flag>();
  interspersed = true;
  args: string[] = [];
  argsLenAtDash = -1;
  /** Where deprecation notices go (cobra points pflag's output at the command's stdout). */
  output: (s: string) => void = (s) => process.stdout.write(s);

  constructor(readonly name: string) {}

  add(f: Omit<Flag, 'changed' | 'annotations' | 'defValue'> & { defValue?: string; annotations?: Record<string, string[]> }): Flag {
    const flag: Flag = { annotations: {}, ...f, defValue: f.defValue ?? f.value.string(), changed: false };
    this.formal.set(flag.name, flag);
    if (flag.shorthand) this.shorthands.set(flag.shorthand, flag);
    return flag;
  }

  bool(name: string, shorthand: string, def: boolean, usage: string): Flag {
    return this.add({ name, shorthand, usage, value: new Simple('bool', def, parseBool), noOptDefVal: 'true', zero: 'bool' });
  }
  string(name: string, shorthand: string, def: string, usage: string): Flag {
    return this.add({ name, shorthand, usage, value: new Simple('string', def, (s) => s), zero: 'string' });
  }
  int(name: string, shorthand: string, def: number, usage: string, type = 'int'): Flag {
    return this.add({ name, shorthand, usage, value: new Simple(type, def, (s) => parseInt64(s, 64)), zero: 'number' });
  }
  uint(name: string, shorthand: string, def: number, usage: string, type: 'uint16' | 'uint64' = 'uint64'): Flag {
    return this.add({ name, shorthand, usage, value: new Simple(type, def, (s) => parseUint(s, type === 'uint16' ? 16 : 64)), zero: 'number' });
  }
  float(name: string, shorthand: string, def: number, usage: string): Flag {
    return this.add({ name, shorthand, usage, value: new Simple('float64', def, parseFloat64), zero: 'number' });
  }
  /** A time.Duration flag; its value is in nanoseconds. */
  duration(name: string, shorthand: string, defNs: number, usage: string): Flag {
    return this.add({ name, shorthand, usage, value: new Simple('duration', defNs, parseDuration, formatDuration), zero: 'duration' });
  }
  /** A custom Value (docker's opts types). */
  var(value: FlagValue, name: string, shorthand: string, usage: string): Flag {
    return this.add({ name, shorthand, usage, value, zero: 'custom' });
  }
  list(name: string, shorthand: string, usage: string, validate?: (s: string) => string): Flag {
    return this.var(new ListValue(validate), name, shorthand, usage);
  }
  /** A second name for an existing flag's value (docker's hidden --net for --network). */
  alias(name: string, of: string, usage: string, hidden = true): Flag {
    const o = this.lookup(of)!;
    return this.add({ name, usage, value: o.value, zero: o.zero, hidden });
  }

  lookup(name: string): Flag | undefined {
    return this.formal.get(name);
  }
  has(name: string): boolean {
    return this.formal.has(name);
  }
  /** All flags sorted by name (pflag's SortFlags). */
  all(): Flag[] {
    return [...this.formal.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  changed(name: string): boolean {
    return this.formal.get(name)?.changed ?? false;
  }
  get<T>(name: string): T {
    const f = this.formal.get(name);
    if (!f) throw new Error(`flag accessed but not defined: ${name}`);
    return f.value.get() as T;
  }
  /** Adds parent flags not already defined here (cobra's persistent-flag merge). */
  inherit(other: FlagSet): void {
    for (const f of other.formal.values()) {
      if (this.formal.has(f.name)) continue;
      if (f.shorthand && this.shorthands.has(f.shorthand)) {
        this.formal.set(f.name, { ...f, shorthand: undefined });
        continue;
      }
      this.formal.set(f.name, f);
      if (f.shorthand) this.shorthands.set(f.shorthand, f);
    }
  }

  setFlag(flag: Flag, value: string): void {
    try {
      flag.value.set(value);
    } catch (e) {
      const name = flag.shorthand ? `-${flag.shorthand}, --${flag.name}` : `--${flag.name}`;
      throw new FlagError(`invalid argument ${goQuote(value)} for ${goQuote(name)} flag: ${(e as Error).message}`);
    }
    flag.changed = true;
    if (flag.deprecated) this.output(`Flag --${flag.name} has been deprecated, ${flag.deprecated}\n`);
  }

  /** pflag's Parse: throws FlagError with pflag's wording. */
  parse(argv: string[]): void {
    this.args = [];
    let args = argv.slice();
    while (args.length > 0) {
      const s = args.shift()!;
      if (s.length === 0 || s[0] !== '-' || s.length === 1) {
        if (!this.interspersed) {
          this.args.push(s, ...args);
          return;
        }
        this.args.push(s);
        continue;
      }
      if (s[1] === '-') {
        if (s.length === 2) {
          this.argsLenAtDash = this.args.length;
          this.args.push(...args);
          return;
        }
        args = this.parseLong(s, args);
      } else {
        args = this.parseShort(s, args);
      }
    }
  }

  private parseLong(s: string, args: string[]): string[] {
    let name = s.slice(2);
    if (name.length === 0 || name[0] === '-' || name[0] === '=') throw new FlagError(`bad flag syntax: ${s}`);
    const eq = name.indexOf('=');
    const inline = eq >= 0 ? name.slice(eq + 1) : undefined;
    if (eq >= 0) name = name.slice(0, eq);
    const flag = this.formal.get(name);
    if (!flag) {
      if (name === 'help') throw new HelpRequested();
      throw new FlagError(`unknown flag: --${name}`);
    }
    let value: string;
    if (inline !== undefined) value = inline;
    else if (flag.noOptDefVal !== undefined) value = flag.noOptDefVal;
    else if (args.length > 0) value = args.shift()!;
    else throw new FlagError(`flag needs an argument: ${s}`);
    this.setFlag(flag, value);
    return args;
  }

  private parseShort(s: string, args: string[]): string[] {
    let shorthands = s.slice(1);
    let out = args;
    // pflag passes the original args to every shorthand in a group; only the last result counts.
    while (shorthands.length > 0) {
      const c = shorthands[0]!;
      const flag = this.shorthands.get(c);
      let rest = shorthands.slice(1);
      let next = args;
      if (!flag) {
        if (c === 'h') throw new HelpRequested();
        throw new FlagError(`unknown shorthand flag: ${goQuoteRune(c)} in -${shorthands}`);
      }
      let value: string;
      if (shorthands.length > 2 && shorthands[1] === '=') {
        value = shorthands.slice(2);
        rest = '';
      } else if (flag.noOptDefVal !== undefined) value = flag.noOptDefVal;
      else if (shorthands.length > 1) {
        value = shorthands.slice(1);
        rest = '';
      } else if (args.length > 0) {
        value = args[0]!;
        next = args.slice(1);
      } else throw new FlagError(`flag needs an argument: ${goQuoteRune(c)} in -${shorthands}`);
      if (flag.shorthandDeprecated) this.output(`Flag shorthand -${flag.shorthand} has been deprecated, ${flag.shorthandDeprecated}\n`);
      this.setFlag(flag, value);
      shorthands = rest;
      out = next;
    }
    return out;
  }

  hasAvailable(): boolean {
    return [...this.formal.values()].some((f) => !f.hidden);
  }

  /** pflag's FlagUsagesWrapped(cols). */
  usages(cols: number): string {
    const lines: string[] = [];
    let maxlen = 0;
    for (const flag of this.all()) {
      if (flag.hidden) continue;
      let line = flag.shorthand && !flag.shorthandDeprecated ? `  -${flag.shorthand}, --${flag.name}` : `      --${flag.name}`;
      const [varname, usage0] = unquoteUsage(flag);
      if (varname) line += ' ' + varname;
      if (flag.noOptDefVal !== undefined) {
        if (flag.value.type === 'string') line += `[="${flag.noOptDefVal}"]`;
        else if (flag.value.type === 'bool') {
          if (flag.noOptDefVal !== 'true') line += `[=${flag.noOptDefVal}]`;
        } else line += `[=${flag.noOptDefVal}]`;
      }
      line += '\x00';
      if (line.length > maxlen) maxlen = line.length;
      line += usage0;
      if (!defaultIsZero(flag)) line += flag.value.type === 'string' ? ` (default ${goQuote(flag.defValue)})` : ` (default ${flag.defValue})`;
      if (flag.deprecated) line += ` (DEPRECATED: ${flag.deprecated})`;
      lines.push(line);
    }
    let out = '';
    for (const line of lines) {
      const sidx = line.indexOf('\x00');
      const spacing = ' '.repeat(maxlen - sidx);
      out += `${line.slice(0, sidx)} ${spacing} ${wrap(maxlen + 2, cols, line.slice(sidx + 1))}\n`;
    }
    return out;
  }
}

/** Thrown when -h/--help is given but not defined (pflag's ErrHelp). */
export class HelpRequested extends Error {
  constructor() {
    super('pflag: help requested');
  }
}

function defaultIsZero(f: Flag): boolean {
  switch (f.zero) {
    case 'bool':
      return f.defValue === 'false';
    case 'duration':
      return f.defValue === '0' || f.defValue === '0s';
    case 'number':
      return f.defValue === '0';
    case 'string':
      return f.defValue === '';
    case 'slice':
      return f.defValue === '[]';
    default:
      return ['false', '<nil>', '', '0'].includes(f.value.string());
  }
}

function unquoteUsage(flag: Flag): [string, string] {
  const u = flag.usage;
  const i = u.indexOf('`');
  if (i >= 0) {
    const j = u.indexOf('`', i + 1);
    if (j >= 0) {
      const name = u.slice(i + 1, j);
      return [name, u.slice(0, i) + name + u.slice(j + 1)];
    }
  }
  const names: Record<string, string> = { bool: '', float64: 'float', int64: 'int', uint64: 'uint', stringSlice: 'strings', intSlice: 'ints', uintSlice: 'uints', boolSlice: 'bools' };
  const t = flag.value.type;
  return [t in names ? names[t]! : t, u];
}

function wrapN(i: number, slop: number, s: string): [string, string] {
  if (i + slop > s.length) return [s, ''];
  const head = s.slice(0, i);
  const w = Math.max(head.lastIndexOf(' '), head.lastIndexOf('\t'), head.lastIndexOf('\n'));
  if (w <= 0) return [s, ''];
  const nl = head.lastIndexOf('\n');
  if (nl > 0 && nl < w) return [s.slice(0, nl), s.slice(nl + 1)];
  return [s.slice(0, w), s.slice(w + 1)];
}

/** pflag's wrap: indent i, width w; continuation lines indented by i. */
function wrap(i: number, w: number, s: string): string {
  if (w === 0) return s.replace(/\n/g, '\n' + ' '.repeat(i));
  let width = w - i;
  let r = '';
  if (width < 24) {
    i = 16;
    width = w - i;
    r += '\n' + ' '.repeat(i);
  }
  if (width < 24) return s.replace(/\n/g, r);
  const slop = 5;
  width -= slop;
  let l: string;
  [l, s] = wrapN(width, slop, s);
  r += l.replace(/\n/g, '\n' + ' '.repeat(i));
  while (s !== '') {
    let t: string;
    [t, s] = wrapN(width, slop, s);
    r += '\n' + ' '.repeat(i) + t.replace(/\n/g, '\n' + ' '.repeat(i));
  }
  return r;
}
