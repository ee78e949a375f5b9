// Atomic file replacement: write a temp file beside the target, fsync, rename. Used for state files
// and pid files, which callers may read at any moment. Generic: no container knowledge here.
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Writes data to file atomically: a reader sees either the old content or the whole new one.
 * The temp file is created O_EXCL so two writers never share it.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const c = fs.constants;
  const fd = fs.openSync(tmp, c.O_WRONLY | c.O_CREAT | c.O_EXCL | c.O_SYNC, mode);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fchmodSync(fd, mode);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
