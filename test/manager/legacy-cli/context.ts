// Shared plumbing of the dock verbs: global options → a wired Dock, error → exit code and message,
// and small text helpers (sizes, ages, tables) that mimic the docker CLI (go-units).
import type { Command } from 'commander';
import { messageOf } from '../../../src/errors/index';
import { createDock, DEFAULT_ROOT, type Dock } from '../../../src/manager/wiring';

export type GlobalOptions = { root: string; insecureRegistry: string[]; config?: string };

export class Cli {
  constructor(readonly program: Command) {}

  get opts(): GlobalOptions {
    return this.program.opts<GlobalOptions>();
  }

  /** Builds the services for --root; the caller closes it. */
  dock(): Dock {
    const o = this.opts;
    return createDock({
      root: o.root ?? DEFAULT_ROOT,
      insecureRegistries: o.insecureRegistry ?? [],
      ...(o.config ? { authConfig: `${o.config}/config.json` } : {}),
    });
  }

  /** Runs a verb body with a Dock, printing errors as the docker CLI does and setting the exit code. */
  action<A extends unknown[]>(fn: (dock: Dock, ...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
    return async (...args: A) => {
      const dock = this.dock();
      try {
        const code = await fn(dock, ...args);
        process.exitCode = code ?? 0;
      } catch (e) {
        process.stderr.write(`Error: ${messageOf(e)}\n`);
        process.exitCode = 1;
      } finally {
        await dock.close();
      }
    };
  }
}

export function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

/** go-units HumanSize: decimal units, 3 significant digits ("4.26MB"). */
export function humanSize(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/** go-units HumanDuration plus " ago", as `docker images` prints CREATED. */
export function humanAge(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'N/A';
  const t = Date.parse(iso);
  if (Number.isNaN(t) || t <= 0) return 'N/A';
  const s = Math.max(0, (now - t) / 1000);
  const h = s / 3600;
  let d: string;
  if (s < 1) d = 'Less than a second';
  else if (s < 2) d = '1 second';
  else if (s < 60) d = `${Math.floor(s)} seconds`;
  else if (s / 60 < 2) d = 'About a minute';
  else if (s / 60 < 60) d = `${Math.floor(s / 60)} minutes`;
  else if (h < 2) d = 'About an hour';
  else if (h < 48) d = `${Math.floor(h)} hours`;
  else if (h < 24 * 7 * 2) d = `${Math.floor(h / 24)} days`;
  else if (h < 24 * 30 * 2) d = `${Math.floor(h / 24 / 7)} weeks`;
  else if (h < 24 * 365 * 2) d = `${Math.floor(h / 24 / 30)} months`;
  else d = `${Math.floor(h / 24 / 365)} years`;
  return `${d} ago`;
}

/** Left-aligned columns separated by at least three spaces (docker's tabwriter settings). */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd() + '\n').join('');
}
