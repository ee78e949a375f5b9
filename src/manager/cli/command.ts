// A command tree with cobra's behaviour as the docker CLI configures it: traversal through management
// commands, per-command flag sets (pflag), argument rules with docker's wording, and help in
// docker's layout (usage template of docker/cli's cli/cobra.go). Commands are declared as specs;
// a spec can be mounted in several places (`container run` and the `run` shortcut).
import { FlagError, FlagSet, HelpRequested } from './flags';

/** An error that carries the exit status (docker's cli.StatusError); status '' prints nothing. */
export class StatusError extends Error {
  constructor(
    readonly status: string,
    readonly code: number,
    options?: { cause?: unknown },
  ) {
    super(status, options);
    this.name = 'StatusError';
  }
}

/** What a command's run function receives. */
export type Invocation<C> = { cli: C; cmd: Command<C>; flags: FlagSet; args: string[] };

export type ArgsRule = (cmd: Command<unknown>, args: string[]) => void;

export type CommandSpec<C> = {
  /** cobra Use: the name, then the argument synopsis. */
  use: string;
  short: string;
  long?: string;
  example?: string;
  /** cobra aliases: other names under the same parent (ls → list, ps). */
  aliases?: string[];
  /** Paths (without the binary) shown under "Aliases:", docker's "aliases" annotation. */
  aliasPaths?: string[];
  /** Position among "Common Commands" of the root help. */
  categoryTop?: number;
  hidden?: boolean;
  args?: ArgsRule;
  /** pflag SetInterspersed; false stops flag parsing at the first argument (run, exec). */
  interspersed?: boolean;
  flags?: (f: FlagSet) => void;
  /** Takes every argument after its name unparsed (commands with their own parser: daemon, compose). */
  passthrough?: boolean;
  /** A command that keeps the process alive after run resolves (a server): exit is not forced. */
  longRunning?: boolean;
  run?: (inv: Invocation<C>) => Promise<number | void>;
  commands?: CommandSpec<C>[];
};

const MIN_NAME_PADDING = 11;

export class Command<C> {
  readonly children: Command<C>[] = [];
  parent?: Command<C>;
  readonly flags: FlagSet;

  constructor(readonly spec: CommandSpec<C>) {
    this.flags = new FlagSet(this.name);
    spec.flags?.(this.flags);
    for (const s of spec.commands ?? []) this.add(s);
  }

  add(spec: CommandSpec<C>): Command<C> {
    const c = new Command(spec);
    c.parent = this;
    this.children.push(c);
    this.children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return c;
  }

  get name(): string {
    return this.spec.use.split(' ')[0]!;
  }
  get root(): Command<C> {
    return this.parent ? this.parent.root : this;
  }
  get path(): string {
    return this.parent ? `${this.parent.path} ${this.name}` : this.name;
  }
  /** cobra UseLine with DisableFlagsInUseLine. */
  get useLine(): string {
    return this.parent ? `${this.parent.path} ${this.spec.use}` : this.spec.use;
  }
  get hasSubCommands(): boolean {
    return this.children.length > 0;
  }
  get isAvailable(): boolean {
    if (this.spec.hidden) return false;
    if (this.name === 'help' && this.parent && !this.parent.parent) return false;
    return !!this.spec.run || this.children.some((c) => c.isAvailable);
  }
  get namePadding(): number {
    if (!this.parent) return MIN_NAME_PADDING;
    const max = Math.max(...this.parent.children.map((c) => c.name.length));
    return Math.max(MIN_NAME_PADDING, max);
  }

  findChild(name: string): Command<C> | undefined {
    return this.children.find((c) => c.name === name || (c.spec.aliases ?? []).includes(name));
  }

  /** cobra's Traverse: flags before a subcommand name belong to the command they follow. */
  traverse(args: string[]): { cmd: Command<C>; args: string[] } {
    const flags: string[] = [];
    let inFlag = false;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a.startsWith('--') && !a.includes('=')) {
        const f = this.flags.lookup(a.slice(2));
        inFlag = !(f && f.noOptDefVal !== undefined);
        flags.push(a);
        continue;
      }
      if (a.startsWith('-') && !a.includes('=') && a.length === 2 && !this.shortHasNoOpt(a[1]!)) {
        inFlag = true;
        flags.push(a);
        continue;
      }
      if (inFlag) {
        inFlag = false;
        flags.push(a);
        continue;
      }
      if (a.startsWith('-') && a.length > 1) {
        flags.push(a);
        continue;
      }
      const next = this.findChild(a);
      if (!next) return { cmd: this, args };
      if (flags.length) this.parseFlags(flags);
      if (next.spec.passthrough) return { cmd: next, args: args.slice(i + 1) };
      return next.traverse(args.slice(i + 1));
    }
    return { cmd: this, args };
  }

  private shortHasNoOpt(c: string): boolean {
    const f = this.flags.all().find((x) => x.shorthand === c);
    return !!f && f.noOptDefVal !== undefined;
  }

  /** Parses flags (the persistent --help included); flag errors become docker's exit-125 usage error. */
  parseFlags(args: string[]): void {
    try {
      this.flags.parse(args);
    } catch (e) {
      if (e instanceof HelpRequested) throw e;
      if (e instanceof FlagError) throw this.flagError(e.message);
      throw e;
    }
  }

  /** docker's FlagErrorFunc. */
  flagError(msg: string): StatusError {
    return new StatusError(`${msg}\n\nUsage:  ${this.useLine}\n\nRun '${this.path} --help' for more information`, 125);
  }

  /** The help text (docker's usage template), for a terminal of `cols` columns. */
  help(cols: number, additionalHelp?: string): string {
    const lines: string[] = [];
    const useLine = this.hasSubCommands ? `${this.path}${this.flags.hasAvailable() ? ' [OPTIONS]' : ''} COMMAND` : this.useLine;
    lines.push(`Usage:  ${useLine}`, '', (this.spec.long ?? this.spec.short).trim());
    if (this.spec.aliases?.length || this.spec.aliasPaths?.length) {
      const bin = this.root.name;
      const text = this.spec.aliasPaths
        ? this.spec.aliasPaths.map((p) => `${bin} ${p}`).join(', ')
        : [this.path, ...(this.spec.aliases ?? []).map((a) => `${this.parent!.path} ${a}`)].join(', ');
      lines.push('', 'Aliases:', `  ${text}`);
    }
    if (this.spec.example) lines.push('', 'Examples:', this.spec.example);
    const usages = () => this.flags.usages(cols - 1).replace(/\s+$/, '');
    if (this.parent && this.flags.hasAvailable()) lines.push('', 'Options:', usages());
    const avail = this.children.filter((c) => c.isAvailable);
    if (!this.parent) {
      const top = avail.filter((c) => c.spec.categoryTop !== undefined).sort((a, b) => a.spec.categoryTop! - b.spec.categoryTop!);
      if (top.length) {
        lines.push('', 'Common Commands:');
        for (const c of top) lines.push(`  ${`${c.name} `.padEnd(c.namePadding + 1)}${c.spec.short}`);
      }
    }
    const mgmt = avail.filter((c) => c.hasSubCommands);
    if (mgmt.length) {
      lines.push('', 'Management Commands:');
      for (const c of mgmt) lines.push(`  ${`${c.name} `.padEnd(c.namePadding + 1)}${c.spec.short}`);
    }
    const ops = avail.filter((c) => !c.hasSubCommands && !(c.spec.categoryTop !== undefined && !this.parent));
    if (ops.length) {
      lines.push('', 'Commands:');
      for (const c of ops) lines.push(`  ${c.name.padEnd(c.namePadding)} ${c.spec.short}`);
    }
    if (!this.parent && this.flags.hasAvailable()) lines.push('', 'Global Options:', usages());
    if (this.hasSubCommands) lines.push('', `Run '${this.path} COMMAND --help' for more information on a command.`);
    if (additionalHelp) lines.push('', additionalHelp);
    return lines.join('\n') + '\n';
  }
}

function pluralize(word: string, n: number): string {
  return n === 1 ? word : `${word}s`;
}

function usageTail(cmd: Command<unknown>, verb: 'Run' | 'See' | 'SRun'): string {
  return `\n\nUsage:  ${cmd.useLine}\n\n${verb} '${cmd.path} --help' for more information`;
}

/** cli.NoArgs. */
export const noArgs: ArgsRule = (cmd, args) => {
  if (args.length === 0) return;
  const bin = cmd.root.name;
  if (cmd.hasSubCommands) throw new Error(`${bin}: unknown command: ${cmd.path} ${args[0]}${usageTail(cmd, 'Run')}`);
  throw new Error(`${bin}: '${cmd.path}' accepts no arguments${usageTail(cmd, 'Run')}`);
};

/** cli.RequiresMinArgs. */
export function minArgs(n: number): ArgsRule {
  return (cmd, args) => {
    if (args.length >= n) return;
    throw new Error(`${cmd.root.name}: '${cmd.path}' requires at least ${n} ${pluralize('argument', n)}${usageTail(cmd, 'See')}`);
  };
}

/** cli.RequiresMaxArgs (docker prints "SRun" here, a typo kept for fidelity). */
export function maxArgs(n: number): ArgsRule {
  return (cmd, args) => {
    if (args.length <= n) return;
    throw new Error(`${cmd.root.name}: '${cmd.path}' requires at most ${n} ${pluralize('argument', n)}${usageTail(cmd, 'SRun')}`);
  };
}

/** cli.RequiresRangeArgs. */
export function rangeArgs(min: number, max: number): ArgsRule {
  return (cmd, args) => {
    if (args.length >= min && args.length <= max) return;
    throw new Error(`${cmd.root.name}: '${cmd.path}' requires at least ${min} and at most ${max} ${pluralize('argument', max)}${usageTail(cmd, 'Run')}`);
  };
}

/** cli.ExactArgs. */
export function exactArgs(n: number): ArgsRule {
  return (cmd, args) => {
    if (args.length === n) return;
    throw new Error(`${cmd.root.name}: '${cmd.path}' requires ${n} ${pluralize('argument', n)}${usageTail(cmd, 'Run')}`);
  };
}
