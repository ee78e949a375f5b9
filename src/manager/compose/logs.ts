// Container output with compose v2's prefixes (`web-1  | line`, one rainbow colour per container),
// from the logs endpoint (`compose logs`) or from attach (`compose up` in the foreground).
import type { Readable, Writable } from 'node:stream';
import { Demuxer } from '../api/client';
import type { Engine } from './engine';
import type { ObservedContainer } from './observe';

// compose v2's rainbow (cmd/formatter/colors.go): cyan, yellow, green, magenta, blue, then bold.
const RAINBOW = ['36', '33', '32', '35', '34', '36;1', '33;1', '32;1', '35;1', '34;1'];

export type PrinterOptions = { color: boolean; prefix?: boolean; timestamps?: boolean };

/** Prints lines of several containers, each prefixed with its padded, coloured name. */
export class LogPrinter {
  private width = 0;
  private next = 0;
  private readonly colors = new Map<string, string>();

  constructor(private readonly out: Writable, private readonly o: PrinterOptions) {}

  /** Registers the names up front so the prefixes line up (the width is the longest name + 1). */
  register(names: string[]): void {
    for (const n of names) {
      if (!this.colors.has(n)) this.colors.set(n, RAINBOW[this.next++ % RAINBOW.length]!);
      this.width = Math.max(this.width, n.length + 1);
    }
  }

  private paint(name: string, s: string): string {
    return this.o.color ? `\x1b[${this.colors.get(name) ?? '0'}m${s}\x1b[0m` : s;
  }

  prefix(name: string): string {
    if (this.o.prefix === false) return '';
    this.register([name]);
    return this.paint(name, `${name.padEnd(this.width)} | `);
  }

  line(name: string, text: string): void {
    this.out.write(`${this.prefix(name)}${text}\n`);
  }

  /** A status line ("web-1 exited with code 0"), coloured like the container's output. */
  status(name: string, text: string): void {
    this.register([name]);
    this.out.write(`${this.paint(name, `${name} ${text}`)}\n`);
  }
}

/** The name compose shows for a container: without the "<project>-" prefix unless container_name. */
export function displayName(c: Pick<ObservedContainer, 'name' | 'labels'>): string {
  const project = c.labels['com.docker.compose.project'] ?? '';
  const number = c.labels['com.docker.compose.container-number'];
  const service = c.labels['com.docker.compose.service'] ?? '';
  if (number && c.name === `${project}-${service}-${number}`) return c.name.slice(project.length + 1);
  return c.name;
}

/** Calls onLine for each complete line of a (raw or multiplexed) output stream; resolves at its end. */
export function readLines(src: Readable, multiplexed: boolean, onLine: (line: string, stream: number) => void): Promise<void> {
  const partial = new Map<number, string>();
  const emit = (stream: number, data: Buffer) => {
    let buf = (partial.get(stream) ?? '') + data.toString('utf8');
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i).replace(/\r$/, ''), stream);
      buf = buf.slice(i + 1);
    }
    partial.set(stream, buf);
  };
  const demux = multiplexed ? new Demuxer(emit) : undefined;
  return new Promise((resolve) => {
    const finish = () => {
      for (const [s, rest] of partial) if (rest) onLine(rest, s);
      partial.clear();
      resolve();
    };
    src.on('data', (c: Buffer) => (demux ? demux.push(c) : emit(1, c)));
    src.on('end', finish);
    src.on('close', finish);
    src.on('error', finish);
  });
}

export type LogsOptions = { follow?: boolean; tail?: string; timestamps?: boolean; since?: string; until?: string; signal?: AbortSignal };

/** Streams one container's log through the printer. */
export async function printContainerLogs(engine: Engine, c: ObservedContainer, printer: LogPrinter, o: LogsOptions): Promise<void> {
  const info = await engine.inspectContainer(c.id);
  const stream = await engine.containerLogs(c.id, { stdout: true, stderr: true, follow: o.follow ?? false, tail: o.tail ?? 'all', timestamps: o.timestamps ?? false, since: o.since, until: o.until }, o.signal);
  const name = displayName(c);
  await readLines(stream, !info.Config.Tty, (l) => printer.line(name, l));
}
