// Signal name/number parsing with runc's rules: "KILL", "SIGKILL", "9" and "sigkill" are all SIGKILL.
// Pure; used by kill and by the shim.
import { constants } from 'node:os';
import { RuntimeError } from '../errors/index';

const bySignalName = constants.signals as Record<string, number>;

/**
 * Parses a signal name or number; InvalidArgument with runc's wording when unknown. 0 is kill(2)'s
 * null signal: nothing is sent, the target is only checked ("is it alive", as `runc kill ID 0`).
 */
export function parseSignal(raw: string): number {
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n >= 0 && n <= 64) return n;
    throw new RuntimeError('InvalidArgument', `unknown signal "${raw}"`);
  }
  const upper = raw.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const rt = /^SIGRTMIN(\+(\d+))?$/.exec(name) ?? /^SIGRTMAX(-(\d+))?$/.exec(name);
  if (rt) {
    const off = Number(rt[2] ?? 0);
    const n = name.startsWith('SIGRTMIN') ? 34 + off : 64 - off;
    if (n >= 34 && n <= 64) return n;
  }
  const n = bySignalName[name];
  if (n === undefined) throw new RuntimeError('InvalidArgument', `unknown signal "${raw}"`);
  return n;
}
