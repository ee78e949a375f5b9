// Per-file content checksums of the classic builder's cache (tarsum v1 as dockerd's builder uses it):
// sha256 over selected tar header fields (no mtime; uname/gname blanked) followed by the file's bytes,
// and the `file:`/`dir:`/`multi:` combinations that go into COPY/ADD cache keys and history.
import { createHash, type Hash } from 'node:crypto';

export type SumHeader = {
  /** The name as it appears in the tar (directories end in "/"). */
  name: string;
  /** Permission bits plus setuid/setgid/sticky (the tar mode field). */
  mode: number;
  uid: number;
  gid: number;
  /** Size of the file's data (0 for everything but regular files). */
  size: number;
  /** Tar typeflag: "0" file, "1" hardlink, "2" symlink, "3" char, "4" block, "5" dir, "6" fifo. */
  typeflag: string;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes (security.capability is the one the docker CLI sends). */
  xattrs?: ReadonlyMap<string, Buffer | string>;
};

/** A sha256 primed with the header, ready for the file's bytes. */
export function startSum(h: SumHeader): Hash {
  const sha = createHash('sha256');
  const fields: [string, string][] = [
    ['name', h.name],
    ['mode', String(h.mode)],
    ['uid', String(h.uid)],
    ['gid', String(h.gid)],
    ['size', String(h.size)],
    ['typeflag', h.typeflag],
    ['linkname', h.linkname],
    ['uname', ''],
    ['gname', ''],
    ['devmajor', String(h.devmajor)],
    ['devminor', String(h.devminor)],
  ];
  for (const [k, v] of fields) sha.update(k + v);
  if (h.xattrs) {
    for (const k of [...h.xattrs.keys()].sort()) {
      const v = h.xattrs.get(k)!;
      sha.update(k);
      sha.update(v);
    }
  }
  return sha;
}

/** The checksum of one entry whose data is `data` (empty for non-files). */
export function sumOf(h: SumHeader, data: Buffer | string = ''): string {
  return startSum(h).update(data).digest('hex');
}

/** `<prefix>:<sha256 of the sums joined by ",">` (dockerd's hashStringSlice). */
export function hashStringSlice(prefix: string, sums: readonly string[]): string {
  return `${prefix}:${createHash('sha256').update(sums.join(',')).digest('hex')}`;
}
