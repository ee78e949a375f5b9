// Root logger factory: pino configured to write exactly what containerd, podman and conmon parse from
// runc (logrus JSON or text lines, string levels, RFC 3339 times), with synchronous appends.
// It owns no policy about what to log; callers receive a Logger.
import * as fs from 'node:fs';
import pino from 'pino';

/** What libraries may use of a logger; pino's Logger satisfies it, and so does lazyLogger's. */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}
export type LogFormat = 'text' | 'json';

export type LogOptions = {
  /** File to append to; stderr when absent (runc's default). */
  path?: string;
  format?: LogFormat;
  debug?: boolean;
};

/** pino's labels as logrus writes them: "warn" is "warning", as containerd and crun expect. */
const levelLabel: Record<string, string> = { warn: 'warning', fatal: 'fatal', error: 'error', info: 'info', debug: 'debug', trace: 'trace' };

/**
 * Opens the log target the way runc does (O_APPEND|O_SYNC), so a caller reading the file right
 * after we exit sees every line.
 */
function openTarget(path: string | undefined): number {
  if (!path || path === '/dev/stderr') return 2;
  if (path === '/dev/stdout') return 1;
  const c = fs.constants;
  return fs.openSync(path, c.O_WRONLY | c.O_APPEND | c.O_CREAT | c.O_SYNC, 0o644);
}

/** Quotes a logrus text value when it needs quoting, as logrus's TextFormatter does. */
function textValue(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /^[A-Za-z0-9\-._/@^+]+$/.test(s) ? s : JSON.stringify(s);
}

/** Turns one pino JSON line into logrus's `time="…" level=… msg="…" k=v` text line. */
export function jsonLineToText(line: string): string {
  const rec = JSON.parse(line) as Record<string, unknown>;
  const { time, level, msg, ...rest } = rec;
  let out = `time=${JSON.stringify(String(time))} level=${String(level)} msg=${JSON.stringify(String(msg ?? ''))}`;
  for (const [k, v] of Object.entries(rest)) out += ` ${k}=${textValue(v)}`;
  return out + '\n';
}

/** A synchronous destination for pino that writes text or JSON lines to an fd. */
function destination(fd: number, format: LogFormat): pino.DestinationStream {
  return {
    write(line: string): void {
      const out = format === 'text' ? jsonLineToText(line) : line;
      fs.writeSync(fd, out);
    },
  };
}

/** Builds the root logger for a runtime command. */
export function createLogger(opts: LogOptions = {}): pino.Logger {
  const fd = openTarget(opts.path);
  return pino(
    {
      level: opts.debug ? 'debug' : 'info',
      base: null,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label: string) => ({ level: levelLabel[label] ?? label }) },
    },
    destination(fd, opts.format ?? 'text'),
  );
}

type Level = 'debug' | 'info' | 'warn' | 'error';
const rank: Record<Level, number> = { debug: 20, info: 30, warn: 40, error: 50 };

/**
 * A Logger that builds the pino logger (and opens the log file) only when a line at an enabled
 * level is first written, so a command that logs nothing pays neither the module load nor the open.
 */
export function lazyLogger(opts: LogOptions = {}, bindings: Record<string, unknown> = {}, shared?: { real?: pino.Logger }): Logger {
  const root = shared ?? {};
  const min = opts.debug ? rank.debug : rank.info;
  let real: pino.Logger | undefined;
  const get = (): pino.Logger => {
    if (!real) {
      root.real ??= createLogger(opts);
      real = Object.keys(bindings).length ? root.real.child(bindings) : root.real;
    }
    return real;
  };
  const at = (level: Level) => (obj: object | string, msg?: string) => {
    if (rank[level] < min) return;
    if (typeof obj === 'string') get()[level](obj);
    else get()[level](obj, msg);
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => lazyLogger(opts, { ...bindings, ...more }, root),
  };
}
