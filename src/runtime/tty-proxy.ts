// Foreground `run`/`exec` with process.terminal and no --console-socket: keel keeps the pty master
// itself and copies between it and its own stdio (runc's tty.go does the same), with the caller's
// terminal in raw mode while the container runs. No policy beyond copying bytes.
import * as fs from 'node:fs';
import * as tty from 'node:tty';

export type TtyProxy = { close(): void; drain(ms?: number): Promise<void> };

/** Starts copying stdin → master and master → stdout; close() restores the terminal and the fd. */
export function proxyTty(masterFd: number): TtyProxy {
  const stdin = process.stdin;
  const wasRaw = stdin.isTTY ? (stdin as tty.ReadStream).isRaw : false;
  if (stdin.isTTY) (stdin as tty.ReadStream).setRawMode(true);
  const output = fs.createReadStream('', { fd: masterFd, autoClose: false, highWaterMark: 16384 });
  output.on('data', (chunk) => process.stdout.write(chunk));
  // EIO is how a pty master reports that the last slave fd closed: the container exited.
  output.on('error', () => undefined);
  const onInput = (chunk: Buffer) => {
    try {
      fs.writeSync(masterFd, chunk);
    } catch {
      /* the container is gone */
    }
  };
  stdin.on('data', onInput);
  stdin.resume();
  let closed = false;
  let ended = false;
  const endedP = new Promise<void>((resolve) => {
    const done = () => {
      ended = true;
      resolve();
    };
    output.on('error', done);
    output.on('end', done);
    output.on('close', done);
  });
  return {
    /** Waits (bounded) until the master reports the slave side closed, so no output is lost. */
    async drain(ms = 500) {
      if (ended) return;
      await Promise.race([endedP, new Promise((r) => setTimeout(r, ms))]);
    },
    close() {
      if (closed) return;
      closed = true;
      stdin.off('data', onInput);
      stdin.pause();
      if (stdin.isTTY) (stdin as tty.ReadStream).setRawMode(wasRaw);
      output.destroy();
      try {
        fs.closeSync(masterFd);
      } catch {
        /* already closed */
      }
    },
  };
}

/** The caller's terminal size, to give the container's pty (process.consoleSize). */
export function callerConsoleSize(): { height: number; width: number } | undefined {
  const out = process.stdout;
  return out.isTTY && out.rows && out.columns ? { height: out.rows, width: out.columns } : undefined;
}
