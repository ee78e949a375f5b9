// Reads a runtime log file exactly as containerd 1.6's shim does (pkg/process/utils.go
// getLastRuntimeError), so tests prove containerd would show our error text.
import assert from 'node:assert/strict';

/** RFC 3339 as Go's time.Time UnmarshalJSON accepts it. */
export const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Decodes consecutive JSON objects as {Level, Msg, Time} and returns the last error's msg. */
export function lastRuntimeError(text: string): string {
  let last = '';
  for (const line of text.split('\n').filter(Boolean)) {
    const rec = JSON.parse(line) as { level?: unknown; msg?: unknown; time?: unknown };
    if (rec.time !== undefined) assert.match(String(rec.time), rfc3339, 'time must decode as Go time.Time');
    if (rec.level === 'error') last = String(rec.msg).trim();
  }
  return last;
}
