// A process's stdio as containerd hands it over: fifo paths (or file:// URIs) for stdin, stdout
// and stderr, and optionally a terminal. Owns opening the fifos, the stdin pipe and the copies
// between fifos and a pty master; never starts processes.
//
// Without a terminal the stdout/stderr fifos are given to the process directly (opened O_RDWR so
// neither a missing reader (ENXIO) nor a departed one (SIGPIPE) can hurt the container, and with
// O_NONBLOCK cleared because the open file description is shared with it). That saves the two
// copy loops the runc shim runs per container. stdin goes through a pipe, so that CloseIO can give
// the process EOF even while containerd keeps its end of the fifo open. libuv opens every fd
// O_CLOEXEC, so none of ours leak into the processes the shim spawns.
//
// Output ordering: the process's exit is published only after its output was read. The read-side
// holder fd of each stdout/stderr fifo (holdPipe) never reads, so it steals nothing, but poll(2)
// on it says when the fifo is empty and has no writer left (POLLHUP without POLLIN; fifo_open
// arms POLLHUP for a reader opened while a writer exists, or once one appears): containerd has
// read the last byte and its next read is EOF. containerd 1.6 closes its
// readers as soon as it handles TaskExit (task.Delete), so publishing earlier loses the tail.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tty from 'node:tty';
import { errors } from '../errors/index';
import { POLLHUP, POLLIN, type ShimSys, type Sys } from '../native/index';

export type StdioPaths = { stdin: string; stdout: string; stderr: string; terminal: boolean };

const { O_RDONLY, O_RDWR, O_WRONLY, O_NONBLOCK, O_APPEND, O_CREAT } = fs.constants;

function fifoPath(uri: string): { kind: 'fifo' | 'file'; path: string } | undefined {
  if (!uri) return undefined;
  if (uri.startsWith('fifo://')) return { kind: 'fifo', path: uri.slice('fifo://'.length) };
  if (uri.startsWith('file://')) return { kind: 'file', path: uri.slice('file://'.length) };
  if (uri.startsWith('binary://')) throw errors.notImplemented(`stdio ${uri}: logging binaries are not supported`);
  return { kind: 'fifo', path: uri };
}

/** The open ends of one process's stdio, and the copies that run while it lives. */
export class ProcessIO {
  /** fds for the process's 0/1/2 while it is being created (-1 = /dev/null). */
  readonly childFds: [number, number, number] = [-1, -1, -1];
  private stdinWriter: net.Socket | undefined;
  private stdinReader: net.Socket | undefined;
  private stdinHold = -1;
  private readonly toClose: number[] = [];
  private outDone: Promise<void> = Promise.resolve();

  private constructor(private readonly sys: Pick<ShimSys, 'pipe' | 'setNonblock' | 'setWinsize' | 'dup'>, readonly paths: StdioPaths) {}

  /** Opens stdout/stderr and the stdin pipe for a process without a terminal. */
  static open(sys: Pick<ShimSys, 'pipe' | 'setNonblock' | 'setWinsize' | 'dup'>, paths: StdioPaths): ProcessIO {
    const io = new ProcessIO(sys, paths);
    try {
      if (!paths.terminal) {
        io.childFds[1] = io.openOut(paths.stdout);
        io.childFds[2] = paths.stderr && paths.stderr === paths.stdout ? io.childFds[1] : io.openOut(paths.stderr);
        if (paths.stdin) {
          const [r, w] = sys.pipe();
          io.toClose.push(r);
          io.childFds[0] = r;
          io.stdinWriter = new net.Socket({ fd: w, readable: false, writable: true });
          io.stdinWriter.on('error', () => undefined);
          io.pumpStdin(io.stdinWriter);
        }
      }
      return io;
    } catch (e) {
      io.close();
      throw e;
    }
  }

  private openOut(uri: string): number {
    const p = fifoPath(uri);
    if (!p) return -1;
    const fd = p.kind === 'file' ? fs.openSync(p.path, O_WRONLY | O_APPEND | O_CREAT, 0o644) : fs.openSync(p.path, O_RDWR | O_NONBLOCK);
    this.toClose.push(fd);
    if (p.kind === 'fifo') {
      this.sys.setNonblock(fd, false);
      this.holdPipe(p.path);
    }
    return fd;
  }

  /**
   * Keeps a read-only fd on an output fifo until the process is deleted. It reads nothing and is
   * no writer, so the reader's EOF still comes when the process exits; but the pipe, and whatever
   * the process wrote into it, outlives a reader that went away (a daemon restarting) after the
   * process exited: the next reader finds the output there.
   */
  private holdPipe(p: string): void {
    try {
      this.holders.push(fs.openSync(p, O_RDONLY | O_NONBLOCK));
    } catch {
      /* not a fifo we can open: nothing to keep */
    }
  }

  /** Read-side holders of the stdout/stderr fifos (see the header and holdPipe). */
  private readonly holders: number[] = [];

  /**
   * Resolves once every output fifo is empty and has no writer left, or after timeoutMs (a reader
   * that went away, or a process of the container that still holds the fifo): then the exit may be
   * published (runc's shim waits for its copies the same way, at most 2 s, in delete).
   */
  async drained(sys: Pick<Sys, 'poll'>, timeoutMs = 2000): Promise<void> {
    await this.outDone;
    const deadline = Date.now() + timeoutMs;
    for (const fd of this.holders) {
      for (;;) {
        const ev = sys.poll(fd, POLLIN, 0);
        if (ev & POLLHUP && !(ev & POLLIN)) break;
        if (Date.now() >= deadline) return;
        await new Promise((r) => setTimeout(r, 2));
      }
    }
  }

  /** Copies the stdin fifo into dst; a second write-only open keeps EOF away until CloseIO. */
  private pumpStdin(dst: net.Socket | fs.WriteStream): void {
    const p = fifoPath(this.paths.stdin);
    if (!p) return;
    const rfd = fs.openSync(p.path, O_RDONLY | O_NONBLOCK);
    this.stdinHold = fs.openSync(p.path, O_WRONLY | O_NONBLOCK);
    this.stdinReader = new net.Socket({ fd: rfd, readable: true, writable: false });
    this.stdinReader.on('error', () => undefined);
    this.stdinReader.pipe(dst as NodeJS.WritableStream);
  }

  /** After create/exec returned: the process holds its own copies, so ours are dropped. */
  released(): void {
    for (const fd of this.toClose.splice(0)) closeQuietly(fd);
  }

  /** With a terminal: copies the stdin fifo into the pty master and the master into stdout. */
  attachConsole(master: number): void {
    this.master = master;
    const out = fifoPath(this.paths.stdout);
    if (out) {
      const ofd = out.kind === 'file' ? fs.openSync(out.path, O_WRONLY | O_APPEND | O_CREAT, 0o644) : fs.openSync(out.path, O_RDWR | O_NONBLOCK);
      if (out.kind === 'fifo') this.holdPipe(out.path);
      const dst = out.kind === 'file' ? fs.createWriteStream('', { fd: ofd }) : new net.Socket({ fd: ofd, readable: false, writable: true });
      dst.on('error', () => undefined);
      // The reader gets its own fd: it closes it at EOF, while `master` stays ours (ResizePty,
      // stdin) until the process is deleted, so the number can never be reused under us.
      const src = new tty.ReadStream(this.sys.dup(master));
      this.outDone = new Promise((resolve) => {
        // A pty master reads EIO once every slave fd is closed: that is its EOF.
        src.on('error', () => src.destroy());
        src.on('close', () => {
          dst.end();
          resolve();
        });
      });
      src.pipe(dst as NodeJS.WritableStream, { end: false });
    }
    if (this.paths.stdin) {
      // A second libuv handle on the same fd is not allowed, so the master is written through fs.
      const w = fs.createWriteStream('', { fd: master, autoClose: false });
      w.on('error', () => undefined);
      this.masterWriter = w;
      this.pumpStdin(w);
    }
  }

  private master = -1;
  private masterWriter: fs.WriteStream | undefined;

  /** ResizePty. */
  resize(width: number, height: number): void {
    if (this.master < 0) throw errors.precondition('no terminal for this process');
    this.sys.setWinsize(this.master, height, width);
  }

  /**
   * The process runs: containerd's writer has long been connected (it opens the fifo as soon as we
   * open the reader, before create returns), so our own writer goes and the fifo's EOF, when the
   * client closes its end, becomes the process's EOF, as in the runc shim. ctr sends CloseIO only
   * if the task exists when its stdin ends, so EOF on the fifo must work without it.
   */
  started(): void {
    if (this.stdinHold >= 0) closeQuietly(this.stdinHold);
    this.stdinHold = -1;
  }

  /** CloseIO(stdin): the process sees EOF once the data still in the fifo is drained. */
  closeStdin(): void {
    this.started();
    if (!this.stdinReader) this.stdinWriter?.end();
  }

  /** Drops everything (delete). */
  close(): void {
    this.released();
    for (const fd of this.holders.splice(0)) closeQuietly(fd);
    if (this.master >= 0) {
      this.masterWriter?.destroy();
      this.masterWriter = undefined;
      closeQuietly(this.master);
      this.master = -1;
    }
    if (this.stdinHold >= 0) closeQuietly(this.stdinHold);
    this.stdinHold = -1;
    this.stdinReader?.destroy();
    this.stdinWriter?.destroy();
    this.masterWriter?.destroy();
  }
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    /* already closed */
  }
}
