// The classic builder's output: the exact text of dockerd 20.10–24 (`Step N/M : …`, ` ---> …`,
// `Removing intermediate container …`, `Successfully built/tagged …`) framed as the Engine API's
// JSON-message stream (one JSON object per write, "\r\n" after each, Go's HTML escaping, stderr in
// red as dockerd's StderrFormatter), `{"aux":{"ID":…}}` per stage, errorDetail with a RUN's exit code,
// and quiet mode. Steps of stages that run ahead of their turn are held back so the text reads as
// a sequential build. Knows nothing of how steps run.

/** Receives encoded JSON-message lines (each ends with "\r\n"). */
export type MessageSink = (line: string) => void;

/** encoding/json's output: <, >, & and U+2028/U+2029 escaped as Go does. */
export function goJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** One JSON message, framed as dockerd writes it. */
export function message(v: Record<string, unknown>): string {
  return `${goJson(v)}\r\n`;
}

/** A failure as the stream's last message; code is the failing RUN's exit status when there is one. */
export function errorMessage(msg: string, code?: number): string {
  const detail: Record<string, unknown> = code !== undefined ? { code, message: msg } : { message: msg };
  return message({ errorDetail: detail, error: msg });
}

/** The text events of one stage (or of the steps around the stages). */
export interface StepWriter {
  /** `Step n/m : text` (printed as two messages, the text then "\n", as dockerd does). */
  step(n: number, m: number, text: string): void;
  /** ` ---> <id12>` (empty after FROM scratch). */
  result(imageId: string): void;
  usingCache(): void;
  runningIn(containerId: string): void;
  removing(containerId: string): void;
  /** Container output, one message per chunk; stderr is wrapped in red as dockerd does. */
  stdout(chunk: string): void;
  stderr(chunk: string): void;
  /** Any other stream text (warnings, trigger notes, explanations); include the newline. */
  text(s: string): void;
  /** {"aux":{"ID":"sha256:…"}} (the API client's --iidfile comes from the last one). */
  aux(imageId: string): void;
  /** Any other JSON message (pull progress). */
  raw(msg: Record<string, unknown>): void;
}

type Segment = { buffer: string[]; done: boolean };

/**
 * Orders the output of concurrently built stages: segment i goes out live once every earlier
 * segment is finished; until then it is buffered. With quiet set, nothing goes out until finish():
 * then only the image id (or, on failure, everything held plus the error), as dockerd's q=1 does.
 */
export class BuildOutput {
  private readonly segments: Segment[] = [];
  private live = 0;
  private readonly held: string[] = [];

  constructor(
    private readonly sink: MessageSink,
    private readonly opts: { quiet?: boolean } = {},
  ) {}

  private emit(line: string): void {
    if (this.opts.quiet) this.held.push(line);
    else this.sink(line);
  }

  private write(seg: number, line: string): void {
    while (this.segments.length <= seg) this.segments.push({ buffer: [], done: false });
    if (seg === this.live) this.emit(line);
    else this.segments[seg]!.buffer.push(line);
  }

  /** Marks a segment finished and releases the buffered text of the segments after it. */
  end(seg: number): void {
    while (this.segments.length <= seg) this.segments.push({ buffer: [], done: false });
    this.segments[seg]!.done = true;
    while (this.live < this.segments.length && this.segments[this.live]!.done) {
      this.live++;
      const next = this.segments[this.live];
      if (next) {
        for (const l of next.buffer) this.emit(l);
        next.buffer = [];
      }
    }
  }

  /** A writer whose text belongs to segment seg. */
  writer(seg: number): StepWriter {
    const w = (v: Record<string, unknown>) => this.write(seg, message(v));
    const s = (text: string) => w({ stream: text });
    return {
      step: (n, m, text) => {
        s(`Step ${n}/${m} : ${text}`);
        s('\n');
      },
      result: (id) => s(` ---> ${shortId(id)}\n`),
      usingCache: () => s(' ---> Using cache\n'),
      runningIn: (id) => s(` ---> Running in ${shortId(id)}\n`),
      removing: (id) => s(`Removing intermediate container ${shortId(id)}\n`),
      stdout: (chunk) => s(chunk),
      stderr: (chunk) => s(`\u001b[91m${chunk}\u001b[0m`),
      text: (t) => s(t),
      aux: (id) => w({ aux: { ID: id } }),
      raw: (msg) => w(msg),
    };
  }

  /**
   * Flushes whatever is still held (segments up to lastSegment, in order; later ones are dropped)
   * and then the result: the image id for quiet builds, or the error.
   */
  finish(result: { imageId: string } | { error: string; code?: number }, lastSegment = Number.MAX_SAFE_INTEGER): void {
    for (let i = this.live; i < this.segments.length && i <= lastSegment; i++) {
      for (const l of this.segments[i]!.buffer) this.emit(l);
      this.segments[i]!.buffer = [];
    }
    this.live = this.segments.length;
    if ('error' in result) {
      if (this.opts.quiet) for (const l of this.held) this.sink(l);
      this.sink(errorMessage(result.error, result.code));
      return;
    }
    if (this.opts.quiet) this.sink(message({ stream: `${result.imageId}\n` }));
  }
}
