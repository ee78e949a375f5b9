// What the daemon holds in memory for a container besides its record: the running task's stdio,
// the log writer, attached clients, waiters for exit and removal, timers. Lost on daemon restart
// and rebuilt from the record and the shim.
import type { JsonFileWriter } from '../logs/jsonfile';
import type { ProcessStreams, OutputStream } from '../tasks/io';
import type { ShimConn } from '../tasks/shim';

export type OutputListener = (stream: OutputStream, data: Buffer) => void;

export type ExitInfo = { code: number; error?: string };

export class Live {
  io?: ProcessStreams;
  log?: JsonFileWriter;
  conn?: ShimConn;
  /** Clients receiving output (attach). */
  readonly listeners = new Set<OutputListener>();
  /** Called when the current run's output is complete (attach streams end). */
  private endOfOutput = new Set<() => void>();
  private exitWaiters = new Set<(e: ExitInfo) => void>();
  private removedWaiters = new Set<() => void>();
  /** Settles when the exit of the current run has been fully handled (state saved). */
  exitHandled: Promise<void> = Promise.resolve();
  /** A run is in progress (between task start and exit handling). */
  running = false;
  oomKilled = false;
  restartTimer?: NodeJS.Timeout;
  /** Health check loop, while running. */
  stopHealth?: () => void;
  /** Unmounts and releases what start acquired (volumes, rootfs). */
  releaseStart?: () => Promise<void>;
  /** Time the current run started (restart backoff). */
  startedAtMs = 0;
  /** Restart backoff delay in ms (Docker's restart manager). */
  backoffMs = 0;

  private stdinBuf: Buffer[] = [];
  private stdinEOF = false;

  /** stdin from an attached client: to the process, or kept until it starts. */
  writeStdin(d: Buffer): void {
    const w = this.io?.stdin();
    if (w) w.write(d);
    else this.stdinBuf.push(Buffer.from(d));
  }

  /** The attached client's stdin ended (StdinOnce): the process gets EOF. */
  endStdin(): void {
    if (this.io) this.io.closeStdin();
    else this.stdinEOF = true;
  }

  /** After start: hands over what attached clients sent before the process existed. */
  flushStdin(): void {
    const w = this.io?.stdin();
    if (w) for (const b of this.stdinBuf.splice(0)) w.write(b);
    if (this.stdinEOF) {
      this.stdinEOF = false;
      this.io?.closeStdin();
    }
  }

  emit(stream: OutputStream, data: Buffer): void {
    for (const l of this.listeners) l(stream, data);
  }

  onEndOfOutput(fn: () => void): () => void {
    this.endOfOutput.add(fn);
    return () => void this.endOfOutput.delete(fn);
  }

  outputEnded(): void {
    const fns = [...this.endOfOutput];
    this.endOfOutput.clear();
    for (const f of fns) f();
  }

  nextExit(): Promise<ExitInfo> {
    return new Promise((resolve) => this.exitWaiters.add(resolve));
  }

  exited(e: ExitInfo): void {
    const ws = [...this.exitWaiters];
    this.exitWaiters.clear();
    for (const w of ws) w(e);
  }

  whenRemoved(): Promise<void> {
    return new Promise((resolve) => this.removedWaiters.add(resolve));
  }

  removed(): void {
    const ws = [...this.removedWaiters];
    this.removedWaiters.clear();
    for (const w of ws) w();
  }
}
