// Normalises argv written for Go-style CLIs (runc's urfave/cli) into what commander parses:
// single-dash long flags (`-no-subreaper`) become `--no-subreaper`, and boolean `--flag=true|false`
// become `--flag` or nothing. It knows flag names only, never what they mean.

export type FlagSet = {
  /** Long names (without dashes) of flags that take a value. */
  values: ReadonlySet<string>;
  /** Long names of boolean flags. */
  bools: ReadonlySet<string>;
};

/**
 * Rewrites one command's segment of argv. Parsing stops at the first positional argument when
 * stopAtPositional is set (Go's flag package behaviour, which `exec` relies on: everything after the
 * container id is the command), and always at "--".
 */
export function normalizeGoFlags(args: readonly string[], flags: FlagSet, stopAtPositional: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      if (stopAtPositional) {
        out.push(...args.slice(i));
        break;
      }
      out.push(arg);
      continue;
    }
    // Go accepts "-f=json" for one-letter flags too; commander wants "-f json".
    const short = /^-([A-Za-z])=(.*)$/s.exec(arg);
    if (short) {
      out.push(`-${short[1]}`, short[2]!);
      continue;
    }
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const isLong = flags.values.has(name) || flags.bools.has(name);
    if (!isLong) {
      out.push(arg);
      continue;
    }
    if (flags.bools.has(name) && eq >= 0) {
      const v = body.slice(eq + 1).toLowerCase();
      if (v === 'true' || v === '1' || v === 't') out.push(`--${name}`);
      else if (v !== 'false' && v !== '0' && v !== 'f') out.push(`--${body}`);
      continue;
    }
    // A value flag consumes the next argument even when it starts with "-", as Go's flag package does;
    // the "=value" form keeps commander from reading it as another option.
    if (flags.values.has(name) && eq < 0 && i + 1 < args.length) out.push(`--${name}=${args[++i]!}`);
    else out.push(`--${body}`);
  }
  return out;
}
