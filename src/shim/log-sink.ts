// The shim daemon's logger: runc-shaped JSON lines (see src/log) written to the bundle's `log`
// fifo that containerd reads. Writes never block and never throw: the fifo is non-blocking and a
// full or reader-less fifo drops the line. When the container whose fifo we write to is deleted,
// the sink moves to another served bundle's fifo (one shim serves many containers).
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';

const levelLabel: Record<string, string> = { warn: 'warning', fatal: 'fatal', error: 'error', info: 'info', debug: 'debug', trace: 'trace' };

export class LogSink {
  private fd: number;
  private bundle: string | undefined;

  /** Starts on fd (2: the log fifo that `start` put on our stderr) belonging to bundle. */
  constructor(fd: number, bundle: string | undefined) {
    this.fd = fd;
    this.bundle = bundle;
  }

  write(line: string): void {
    if (this.fd < 0) return;
    try {
      fs.writeSync(this.fd, line);
    } catch {
      /* EAGAIN or EPIPE: containerd is not reading; drop the line */
    }
  }

  /** Keeps writing to a fifo of a bundle still served; call whenever the set changes. */
  retarget(bundles: string[]): void {
    if (this.bundle && bundles.includes(this.bundle)) return;
    for (const b of bundles) {
      try {
        const fd = fs.openSync(path.join(b, 'log'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
        if (this.fd > 2) fs.closeSync(this.fd);
        this.fd = fd;
        this.bundle = b;
        return;
      } catch {
        /* ENXIO: nobody reads that one; try the next */
      }
    }
  }

  /** A pino logger on this sink. */
  logger(debug: boolean): pino.Logger {
    return pino(
      {
        level: debug ? 'debug' : 'info',
        base: null,
        messageKey: 'msg',
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label: string) => ({ level: levelLabel[label] ?? label }) },
      },
      { write: (line: string) => this.write(line) },
    );
  }
}
