// Terminal handling over a hijacked Engine connection (attach, exec, run), as docker's
// hijackedIOStreamer: raw mode for -it, detach keys (ctrl-p,ctrl-q or --detach-keys), stdin copied
// to the socket and half-closed at EOF, output raw (tty) or demultiplexed, resize at start and on
// SIGWINCH, and signal forwarding to the container (POST /containers/{id}/kill).
import type * as ChildProcess from 'node:child_process';
import type * as net from 'node:net';
import type * as tty from 'node:tty';
import { Demuxer, type EngineClient } from '../api/client';
import type { DockCli } from './cli';
import { esc } from './commands/common';

const CTRL = ['@', ...'abcdefghijklmnopqrstuvwxyz', '[', '\\', ']', '^', '_'];

/** term.ToBytes: "ctrl-p,ctrl-q" → [16, 17]. */
export function detachKeyBytes(keys: string): number[] {
  const out: number[] = [];
  for (const k of keys.split(',')) {
    if (k.length === 1) out.push(k.charCodeAt(0));
    else if (k === 'DEL') out.push(127);
    else {
      const i = CTRL.findIndex((c) => `ctrl-${c}` === k);
      if (i < 0) throw new Error(`Unknown character: '${k}'`);
      out.push(i);
    }
  }
  return out;
}

export const DEFAULT_DETACH = [16, 17];

/** Scans input for the escape sequence; holds a partial match until it completes or breaks. */
export class EscapeScanner {
  private pos = 0;
  constructor(private readonly keys: number[]) {}
  /** Returns the bytes to forward and whether the sequence completed. */
  push(chunk: Buffer): { data: Buffer; detached: boolean } {
    if (this.keys.length === 0) return { data: chunk, detached: false };
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.pos]) {
        this.pos++;
        if (this.pos === this.keys.length) return { data: Buffer.from(out), detached: true };
        continue;
      }
      if (this.pos > 0) {
        out.push(...this.keys.slice(0, this.pos));
        this.pos = 0;
        if (b === this.keys[0]) {
          this.pos = 1;
          continue;
        }
      }
      out.push(b);
    }
    return { data: Buffer.from(out), detached: false };
  }
}

export type StreamOptions = {
  socket: net.Socket;
  tty: boolean;
  /** Attach the CLI's stdin. */
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  detachKeys?: string;
};

/** Outcome of a hijacked session: the output ended, or the user typed the detach keys. */
export type StreamResult = 'done' | 'detached';

/** Streams until the output ends (or stdin ends when no output is attached, or detach). */
export function streamHijacked(cli: DockCli, o: StreamOptions): Promise<StreamResult> {
  const sock = o.socket;
  const input = cli.in.stream as tty.ReadStream;
  let restore = () => {};
  let keys = DEFAULT_DETACH;
  if (o.stdin && o.tty) {
    if (o.detachKeys) {
      try {
        keys = detachKeyBytes(o.detachKeys);
      } catch (e) {
        cli.err.write(`time="${new Date().toISOString()}" level=warning msg="invalid detach escape keys, using default: ${(e as Error).message}"\n`);
      }
    }
    if (input.isTTY && typeof input.setRawMode === 'function') {
      input.setRawMode(true);
      // libuv's raw mode keeps ONLCR; docker's (moby/term MakeRaw) clears OPOST, so the container's
      // own "\r\n" reaches the terminal unchanged. libuv restores the saved termios on setRawMode(false).
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      (require('node:child_process') as typeof ChildProcess).spawnSync('stty', ['-opost'], { stdio: [(input as unknown as { fd?: number }).fd ?? 0, 'ignore', 'ignore'] });
      let restored = false;
      restore = () => {
        if (restored) return;
        restored = true;
        input.setRawMode(false);
      };
    }
  }
  const scanner = o.stdin && o.tty ? new EscapeScanner(keys) : new EscapeScanner([]);
  return new Promise<StreamResult>((resolve, reject) => {
    let settled = false;
    const finish = (r: StreamResult | Error) => {
      if (settled) return;
      settled = true;
      restore();
      if (o.stdin) {
        input.off('data', onInput);
        input.off('end', onInputEnd);
        input.pause();
      }
      if (r instanceof Error) reject(r);
      else resolve(r);
    };
    const outputAttached = o.stdout || o.stderr;
    // Output: raw bytes for a tty, frames otherwise.
    const demux = new Demuxer((stream, data) => {
      if (stream === 1 && o.stdout) cli.out.write(data);
      else if (stream === 2 && o.stderr) (o.tty ? cli.out : cli.err).write(data);
      else if (stream === 3) finish(new Error(data.toString()));
    });
    sock.on('data', (d: Buffer) => {
      if (!outputAttached) return;
      if (o.tty) cli.out.write(d);
      else demux.push(d);
    });
    sock.on('end', () => {
      if (o.tty) restore();
      if (outputAttached) finish('done');
    });
    sock.on('close', () => finish('done'));
    sock.on('error', (e) => finish(e));
    // Input: copied until EOF (then half-close) or the detach keys.
    const onInput = (d: Buffer | string) => {
      const { data, detached } = scanner.push(Buffer.isBuffer(d) ? d : Buffer.from(d));
      if (data.length) sock.write(data);
      if (detached) {
        sock.destroy();
        finish('detached');
      }
    };
    const onInputEnd = () => {
      restore();
      sock.end();
      if (!outputAttached) finish('done');
    };
    if (o.stdin) {
      input.on('data', onInput);
      input.on('end', onInputEnd);
      input.resume();
    } else {
      sock.end();
      if (!outputAttached) finish('done');
    }
  });
}

const FORWARDED: NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR2', 'SIGALRM', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGVTALRM', 'SIGPROF', 'SIGIO', 'SIGPWR', 'SIGSYS', 'SIGTRAP', 'SIGABRT', 'SIGXCPU', 'SIGXFSZ', 'SIGURG'];

/**
 * Forwards the CLI's signals to the container (ForwardAllSignals); a third SIGINT/SIGTERM forces
 * the CLI out, as docker does. Returns a function that stops forwarding.
 */
export function forwardSignals(cli: DockCli, client: EngineClient, id: string): () => void {
  let terms = 0;
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const sig of FORWARDED) {
    if (sig === 'SIGURG') continue;
    const h = () => {
      if (sig === 'SIGINT' || sig === 'SIGTERM') {
        terms++;
        if (terms >= 3) {
          cli.err.write('\ngot 3 SIGTERM/SIGINTs, forcefully exiting\n');
          process.exit(1);
        }
      }
      void client.request('POST', `/containers/${esc(id)}/kill`, { query: { signal: sig.slice(3) } }).then(
        (r) => r.resume(),
        () => undefined,
      );
    };
    try {
      process.on(sig, h);
      handlers.set(sig, h);
    } catch {
      /* not catchable here */
    }
  }
  return () => {
    for (const [s, h] of handlers) process.off(s, h);
  };
}

/** Sends the terminal size now and on every SIGWINCH (MonitorTtySize); returns a stop function. */
export function monitorTtySize(cli: DockCli, client: EngineClient, id: string, isExec: boolean, bump = false): () => void {
  const path = isExec ? `/exec/${esc(id)}/resize` : `/containers/${esc(id)}/resize`;
  const resize = async (h: number, w: number): Promise<boolean> => {
    if (h === 0 && w === 0) return true;
    try {
      (await client.request('POST', path, { query: { h, w } })).resume();
      return true;
    } catch {
      return false;
    }
  };
  // One request at a time, each sending the size of the moment it goes: the start-up ones and a
  // SIGWINCH's could otherwise overtake each other on separate connections, and a start-up size
  // applied last would stay (a second SIGWINCH to the same size emits no 'resize').
  let queue: Promise<unknown> = Promise.resolve();
  const inOrder = <T>(f: () => Promise<T>): Promise<T> => {
    const next = queue.then(f);
    queue = next.catch(() => undefined);
    return next;
  };
  const now = () =>
    inOrder(() => {
      const [h, w] = cli.out.size();
      return resize(h, w);
    });
  void (async () => {
    if (bump) {
      await inOrder(() => {
        const [h, w] = cli.out.size();
        return resize(h + 1, w + 1);
      });
    }
    if (!(await now())) {
      for (let retry = 0; retry < 10; retry++) {
        await new Promise((r) => setTimeout(r, (retry + 1) * 10));
        if (await now()) return;
      }
      cli.err.write('failed to resize tty, using default size\n');
    }
  })();
  // The tty stream refreshes its size on SIGWINCH and then emits 'resize'.
  const onResize = () => void now();
  const out = cli.out.stream as tty.WriteStream;
  if (cli.out.isTerminal) out.on('resize', onResize);
  return () => out.off('resize', onResize);
}
