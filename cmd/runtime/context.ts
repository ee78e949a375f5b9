// Shared plumbing of the keel verbs: global flags, the lazily built logger and runtime, and the one
// place that turns an error into runc's single error line plus exit status 1.
import type { Command } from 'commander';
import type { Logger, LogFormat } from '../../src/log/index';
import type { ContainerRuntime } from '../../src/runtime/container';

export type Globals = {
  root: string;
  log?: string;
  logFormat: LogFormat;
  debug: boolean;
  systemdCgroup: boolean;
  rootless: string;
  /** --criu: the CRIU binary for checkpoint and restore */
  criu: string;
};

/** runc's default root: /run/<name> for real root, else $XDG_RUNTIME_DIR/<name> (rootless_linux.go). */
export function defaultRoot(): string {
  const euid = process.geteuid?.() ?? 0;
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (euid !== 0 && xdg) return `${xdg}/keel`;
  if (euid === 0 && xdg && process.env.USER && process.env.USER !== 'root' && inUserNamespace()) return `${xdg}/keel`;
  return '/run/keel';
}

function inUserNamespace(): boolean {
  try {
    return !/^\s*0\s+0\s+4294967295\s*$/.test(require('node:fs').readFileSync('/proc/self/uid_map', 'utf8'));
  } catch {
    return false;
  }
}

/** Thrown by fail() after the error line is written; main() turns it into the exit status. */
export class ExitError extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export class Cli {
  private logger?: Logger;
  private rt?: ContainerRuntime;

  constructor(private readonly program: Command) {}

  get globals(): Globals {
    return this.program.opts() as Globals;
  }

  /** The root logger, built on first use (pino and the log file are not touched before). */
  async log(): Promise<Logger> {
    if (!this.logger) {
      const { lazyLogger } = await import('../../src/log/index');
      const g = this.globals;
      this.logger = lazyLogger({ path: g.log, format: g.logFormat, debug: g.debug });
    }
    return this.logger!;
  }

  /** The container runtime over --root, built on first use. */
  async runtime(): Promise<ContainerRuntime> {
    if (!this.rt) {
      const [{ ContainerRuntime }, { realSys }] = await Promise.all([import('../../src/runtime/container'), import('../../src/native/index')]);
      const g = this.globals;
      const rootless = g.rootless === 'true' || (g.rootless === 'auto' && (process.geteuid?.() ?? 0) !== 0);
      // Fds we inherited beyond stdio are not for the hooks we run (runc's init closes them before
      // the startContainer hooks; crun's tests count them). The container's preserved fds are made
      // inheritable again by the child itself (native/src/child/exec.c).
      realSys.cloexecFrom(3);
      this.rt = new ContainerRuntime({ root: g.root, sys: realSys, log: await this.log(), systemdCgroup: g.systemdCgroup, rootless });
    }
    return this.rt!;
  }

  /**
   * Reports a failed command the runc way: one error line through the logger (JSON or text, to
   * --log or stderr) and, when --log names a file, the bare message on stderr too (runc's
   * fatalWithCode). Then exit status `code` (1 unless a verb says otherwise, as exec's 255).
   */
  async fail(err: unknown, code = 1): Promise<never> {
    const msg = err instanceof Error ? err.message : String(err);
    const g = this.globals;
    try {
      (await this.log()).error(msg);
    } catch (logErr) {
      process.stderr.write(`${(logErr as Error).message}\n`);
    }
    const toFile = g.log && g.log !== '/dev/stderr' && g.log !== '/dev/stdout';
    if (toFile) process.stderr.write(`${msg}\n`);
    if (g.debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    throw new ExitError(code);
  }
}
