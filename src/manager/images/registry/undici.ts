// undici, loaded on first use: evaluating it costs a noticeable part of dock's start-up, which verbs
// that never touch the network (images, inspect, tag, rmi) should not pay. Under cmd/loader.js it is
// its own bundle (dist/undici-entry.js, outside the daemon's), so an engine that never pulls does
// not even keep its source in memory.
import type * as Undici from 'undici';

let mod: typeof Undici | undefined;

const loadBundle = (globalThis as Record<symbol, ((entry: string) => unknown) | undefined>)[Symbol.for('keel.loadBundle')];

export function undici(): typeof Undici {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  mod ??= (loadBundle ? loadBundle('undici-entry') : require('undici')) as typeof Undici;
  return mod;
}
