// undici, loaded on first use: evaluating it costs a noticeable part of dock's start-up, which verbs
// that never touch the network (images, inspect, tag, rmi) should not pay.
import type * as Undici from 'undici';

let mod: typeof Undici | undefined;

export function undici(): typeof Undici {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  mod ??= require('undici') as typeof Undici;
  return mod;
}
