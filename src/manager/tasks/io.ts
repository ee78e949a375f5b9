// A task process's stdio as the daemon sees it: fifos in the bundle directory that the shim hands
// to the process, the daemon reading stdout/stderr (EOF once every writer in the container is
// gone) and writing stdin. Reading starts only after Task.Create, when the container holds its
// ends: a fifo without writers reads as EOF at once.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Sys } from '../../native/index';
import type { TaskIO } from './shim';

export type OutputStream = 'stdout' | 'stderr';

const { O_RDONLY, O_RDWR, O_NONBLOCK } = fs.constants;

export class ProcessStreams {
  private readers: { stream: OutputStream; fd: number; sock?: net.Socket }[] = [];
  private stdinSock: net.Socket | undefined;
  private ended = 0;
  private resolveDone!: () => void;
  /** Resolves when every output stream reached EOF (or close() was called). */
  readonly done: Promise<void>;

  private constructor(readonly paths: TaskIO, private readonly wantStdin: boolean) {
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  /**
   * Makes the fifos (prefix-stdin/-stdout/-stderr in dir) and opens the daemon's ends without
   * reading yet. A terminal has no stderr: the pty merges it into stdout.
   */
  static async open(sys: Pick<Sys, 'mkfifo'>, dir: string, prefix: string, o: { stdin: boolean; tty: boolean }): Promise<ProcessStreams> {
    await fsp.mkdir(dir, { recursive: true, mode: 0o711 });
    const f = (n: string) => path.join(dir, `${prefix}-${n}`);
    const paths: TaskIO = { stdin: o.stdin ? f('stdin') : '', stdout: f('stdout'), stderr: o.tty ? '' : f('stderr'), terminal: o.tty };
    const ps = new ProcessStreams(paths, o.stdin);
    try {
      for (const p of [paths.stdin, paths.stdout, paths.stderr]) {
        if (!p) continue;
        await fsp.rm(p, { force: true });
        sys.mkfifo(p, 0o600);
      }
      ps.readers.push({ stream: 'stdout', fd: fs.openSync(paths.stdout, O_RDONLY | O_NONBLOCK) });
      if (paths.stderr) ps.readers.push({ stream: 'stderr', fd: fs.openSync(paths.stderr, O_RDONLY | O_NONBLOCK) });
      // Our stdin end is open before the task exists: the process must see EOF only when we close
      // it, not in a moment when no client happened to be writing yet.
      if (o.stdin) ps.stdin();
    } catch (e) {
      ps.close();
      throw e;
    }
    return ps;
  }

  /**
   * Re-opens the fifos of a process that already runs (daemon restart): whatever the container
   * wrote while nobody read is still in the pipes.
   */
  static reopen(paths: TaskIO): ProcessStreams {
    const ps = new ProcessStreams(paths, !!paths.stdin);
    try {
      if (paths.stdout) ps.readers.push({ stream: 'stdout', fd: fs.openSync(paths.stdout, O_RDONLY | O_NONBLOCK) });
      if (paths.stderr) ps.readers.push({ stream: 'stderr', fd: fs.openSync(paths.stderr, O_RDONLY | O_NONBLOCK) });
    } catch (e) {
      ps.close();
      throw e;
    }
    return ps;
  }

  /** Starts reading (call once the process holds its ends); onData gets every chunk in order. */
  startReading(onData: (stream: OutputStream, data: Buffer) => void): void {
    if (this.readers.length === 0) {
      this.resolveDone();
      return;
    }
    for (const r of this.readers) {
      const sock = new net.Socket({ fd: r.fd, readable: true, writable: false });
      r.sock = sock;
      sock.on('data', (d: Buffer) => onData(r.stream, d));
      sock.on('error', () => undefined);
      sock.on('close', () => {
        if (++this.ended === this.readers.length) this.resolveDone();
      });
    }
  }

  /** The stdin fifo's write end (opened read-write: never ENXIO, never blocks on open). */
  stdin(): net.Socket | undefined {
    if (!this.wantStdin || !this.paths.stdin) return undefined;
    if (!this.stdinSock) {
      const fd = fs.openSync(this.paths.stdin, O_RDWR | O_NONBLOCK);
      this.stdinSock = new net.Socket({ fd, readable: false, writable: true });
      this.stdinSock.on('error', () => undefined);
    }
    return this.stdinSock;
  }

  /** Closes stdin: the process sees EOF once the shim has drained the fifo. */
  closeStdin(): void {
    const s = this.stdinSock;
    if (!s) return;
    this.stdinSock = undefined;
    // end() only: what was written must reach the fifo before our end closes.
    s.end(() => s.destroy());
  }

  /** Drops every end we hold (outputs that never started count as done). */
  close(): void {
    this.stdinSock?.destroy();
    this.stdinSock = undefined;
    for (const r of this.readers) {
      if (r.sock) r.sock.destroy();
      else {
        try {
          fs.closeSync(r.fd);
        } catch {
          /* closed */
        }
      }
    }
    this.resolveDone();
  }

  /** Removes the fifo files. */
  async removeFiles(): Promise<void> {
    for (const p of [this.paths.stdin, this.paths.stdout, this.paths.stderr]) if (p) await fsp.rm(p, { force: true });
  }
}
