// A long-lived `ip -force -batch -` fed over stdin, so a veth or a route costs a pipe write, not a
// process launch (a launch is most of a sandbox's cost). Protocol: iproute2 runs each line as it
// arrives and reports a failed one on stderr (unbuffered) as "Command failed -:<line>" after its
// message; every request ends with a sentinel command that always fails (`link show dev
// keel-sentinel`), so its "Command failed -:<n>" marks the end of the request and any other
// failure line inside the request's range is that request's error.
import { spawn, type ChildProcess } from 'node:child_process';
import { RuntimeError } from '../../errors';
import { Mutex } from './exec';

const SENTINEL = 'link show dev keel-sentinel';

type Waiter = { first: number; end: number; errors: string[]; resolve: () => void; reject: (e: Error) => void };

export class IpBatch {
  private readonly proc: ChildProcess;
  private readonly lock = new Mutex();
  private line = 0;
  private waiter: Waiter | undefined;
  private context: string[] = [];
  private partial = '';
  private dead: Error | undefined;
  private idle: NodeJS.Timeout | undefined;

  /** argv ends in `ip -force -batch -` (possibly behind unshare/nsenter); idleMs > 0 closes it when unused. */
  constructor(
    readonly argv: string[],
    private readonly idleMs = 0,
  ) {
    this.proc = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'ignore', 'pipe'] });
    this.proc.stdin!.on('error', () => undefined);
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', (d: string) => this.onStderr(d));
    this.proc.on('error', (e) => this.fail(e));
    this.proc.on('exit', (code, sig) => this.fail(new RuntimeError('Internal', `${argv.slice(0, 2).join(' ')}: exited (${sig ?? code})`)));
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** Runs the commands in order; rejects with the first failure's message (the others still ran). */
  run(cmds: string[]): Promise<void> {
    return this.lock.run(
      () =>
        new Promise<void>((resolve, reject) => {
          if (this.dead) return reject(this.dead);
          if (this.idle) clearTimeout(this.idle);
          const first = this.line + 1;
          this.line += cmds.length + 1;
          this.waiter = { first, end: this.line, errors: [], resolve, reject };
          this.proc.stdin!.write([...cmds, SENTINEL].join('\n') + '\n');
        }).finally(() => {
          if (this.idleMs > 0 && !this.dead) {
            this.idle = setTimeout(() => this.close(), this.idleMs);
            this.idle.unref();
          }
        }),
    );
  }

  private onStderr(d: string): void {
    const lines = (this.partial + d).split('\n');
    this.partial = lines.pop()!;
    for (const l of lines) {
      const m = /^Command failed -:(\d+)$/.exec(l);
      if (!m) {
        this.context.push(l);
        continue;
      }
      const n = Number(m[1]);
      const w = this.waiter;
      const why = this.context.join(' ').trim();
      this.context = [];
      if (!w) continue;
      if (n === w.end) {
        this.waiter = undefined;
        if (w.errors.length > 0) w.reject(new RuntimeError('Internal', `ip: ${w.errors[0]}`));
        else w.resolve();
      } else if (n >= w.first && n < w.end) w.errors.push(why || `line ${n - w.first + 1} failed`);
    }
  }

  private fail(e: Error): void {
    if (this.dead) return;
    this.dead = e;
    if (this.idle) clearTimeout(this.idle);
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(e);
  }

  /** Ends the process (stdin EOF); pending work finishes first. */
  close(): void {
    if (this.idle) clearTimeout(this.idle);
    void this.lock.run(async () => {
      this.proc.stdin!.end();
    });
  }

  /** Resolves once the process is gone (after close()). */
  exited(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return Promise.resolve();
    return new Promise((r) => this.proc.once('exit', () => r()));
  }
}
