// The one seam between the network module and the kernel's configuration tools: run an argv with
// optional stdin, return stdout, throw one error line naming the command and its stderr. The real
// implementation uses child_process (the daemon is not a subreaper, so libuv may own the waits).
import { execFile } from 'node:child_process';
import { RuntimeError } from '../../errors';

export interface NetExec {
  /** Runs argv[0] with the rest as arguments; stdin is input when given. Resolves with stdout. */
  run(argv: string[], input?: string): Promise<string>;
}

export class ExecError extends RuntimeError {
  readonly stderr: string;
  constructor(argv: string[], stderr: string, code: number | string | null) {
    const first = argv.slice(0, 3).join(' ');
    const why = stderr.trim().split('\n').filter(Boolean).slice(-1)[0] ?? `exit status ${code}`;
    super('Internal', `${first}: ${why}`);
    this.name = 'ExecError';
    this.stderr = stderr;
  }
}

export const realExec: NetExec = {
  run(argv, input) {
    return new Promise((resolve, reject) => {
      const child = execFile(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        if (err) reject(new ExecError(argv, stderr || err.message, (err as NodeJS.ErrnoException).code ?? null));
        else resolve(stdout);
      });
      child.stdin?.on('error', () => undefined);
      if (input !== undefined) child.stdin?.end(input);
      else child.stdin?.end();
    });
  },
};

/** Serialises async sections (one kernel reconfiguration at a time per resource). */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }
}
