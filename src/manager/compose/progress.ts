// Progress lines of compose v2's plain mode (` Container proj-web-1  Started`), on stderr, so that
// stdout carries only command output. One line per state change; no cursor movement.
import type { Writable } from 'node:stream';

export interface Progress {
  /** resource: "Container proj-web-1", "Network proj_default"; status: "Creating", "Created"... */
  event(resource: string, status: string): void;
  /** A warning line (compose's "WARN[0000] ..."). */
  warn(msg: string): void;
  /** A plain status sentence ("Aborting on container exit..."). */
  message(msg: string): void;
}

export class PlainProgress implements Progress {
  constructor(private readonly out: Writable) {}

  event(resource: string, status: string): void {
    this.out.write(` ${resource}  ${status}\n`);
  }

  warn(msg: string): void {
    this.out.write(`WARN[0000] ${msg}\n`);
  }

  message(msg: string): void {
    this.out.write(`${msg}\n`);
  }
}

/** Collects events (tests, and commands run quietly). */
export class RecordingProgress implements Progress {
  readonly events: string[] = [];
  readonly warnings: string[] = [];
  event(resource: string, status: string): void {
    this.events.push(`${resource} ${status}`);
  }
  warn(msg: string): void {
    this.warnings.push(msg);
  }
  message(msg: string): void {
    this.events.push(msg);
  }
}
