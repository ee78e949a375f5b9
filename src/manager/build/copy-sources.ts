// COPY/ADD source resolution as dockerd's copier does it: URLs (ADD only; fetched through a
// Downloader), wildcards (filepath.Match over the source tree), single files and directories, the
// `file:`/`dir:`/`multi:` checksums of the cache key, the "several sources need a directory
// destination" rule, and destination normalisation against WORKDIR. Heredoc sources (BuildKit's
// COPY <<EOF) become inline files. Reads sources; never writes anything.
import { errors, RuntimeError } from '../../errors/index';
import type { FileRecord } from './cache';
import { inlineFileSum, type ContextSource, type SourceEntry } from './context';
import { cleanPath } from './dockerignore';
import type { SourceContent } from './instructions';
import { containsWildcards, pathMatch } from './path-match';
import { mapPool } from './pool';
import { hashStringSlice } from './tarsum';

export type CopyInfo =
  | {
      kind: 'path';
      source: ContextSource;
      /** The source path as written, without a leading "/" or "./" (its base names the copy). */
      path: string;
      hash: string;
      /** Downloaded data is never extracted, even by ADD. */
      noDecompress: boolean;
      /** The URL this file was downloaded from. */
      url?: string;
    }
  | { kind: 'inline'; name: string; data: string; hash: string };

/** A fetched ADD URL: the file sits in a directory source under `path`. */
export type Download = {
  source: ContextSource;
  /** File name from the URL or Content-Disposition; "" when neither gives one. */
  filename: string;
  /** Where the file is inside source ("__unnamed__" when filename is ""). */
  path: string;
};

export type Downloader = (url: string) => Promise<Download>;

export const UNNAMED = '__unnamed__';

export function isURL(s: string): boolean {
  return /^https?:\/\//.test(s);
}

/** A COPY/ADD failure; the message is dockerd's. */
function failed(cmd: string, msg: string): RuntimeError {
  return errors.invalid(`${cmd} failed: ${msg}`);
}

export type ResolveCopyOptions = {
  cmdName: 'COPY' | 'ADD';
  sources: readonly string[];
  contents?: readonly SourceContent[];
  dest: string;
  /** The build context, or the image/stage root for COPY --from. */
  source: ContextSource | undefined;
  /** The source is an image or stage (changes the not-found wording). */
  fromImage: boolean;
  download?: Downloader;
  /** Receives a record of every file that went into a checksum (for cache explanations). */
  collect?: FileRecord[];
};

function fileRecord(e: SourceEntry, sum: string, name = e.path): FileRecord {
  return { path: name, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, size: e.size, linkname: e.linkname, sum };
}

/** Every source of one COPY/ADD with its checksum; throws dockerd's errors. */
export async function resolveCopySources(o: ResolveCopyOptions): Promise<CopyInfo[]> {
  const infos: CopyInfo[] = [];
  for (const orig of o.sources) {
    if (isURL(orig)) {
      if (o.cmdName === 'COPY' || !o.download) throw failed(o.cmdName, "source can't be a URL for COPY");
      let d: Download;
      try {
        d = await o.download(orig);
      } catch (e) {
        throw failed(o.cmdName, (e as Error).message);
      }
      if (d.filename === '' && o.dest.endsWith('/')) throw failed(o.cmdName, `cannot determine filename for source ${orig}`);
      const sum = await d.source.hash(d.path);
      const e = await d.source.lstat(d.path);
      if (e) o.collect?.push(fileRecord(e, sum, orig));
      infos.push({ kind: 'path', source: d.source, path: d.path, hash: `file:${sum}`, noDecompress: true, url: orig });
      continue;
    }
    infos.push(...(await calcCopyInfo(o, orig, true)));
  }
  for (const c of o.contents ?? []) {
    const sum = inlineFileSum(c.path, c.data);
    o.collect?.push({ path: `<<${c.path}`, type: 'file', mode: 0o644, uid: 0, gid: 0, size: Buffer.byteLength(c.data), linkname: '', sum });
    infos.push({ kind: 'inline', name: c.path, data: c.data, hash: `file:${sum}` });
  }
  if (infos.length === 0) throw failed(o.cmdName, 'no source files were specified');
  if (infos.length > 1 && !o.dest.endsWith('/')) {
    throw errors.invalid(`When using ${o.cmdName} with more than one source file, the destination must be a directory and end with a /`);
  }
  return infos;
}

async function calcCopyInfo(o: ResolveCopyOptions, origPath: string, allowWildcards: boolean): Promise<CopyInfo[]> {
  const src = o.source;
  if (!src) throw failed(o.cmdName, 'missing build context');
  let p = origPath;
  if (p.startsWith('/')) p = p.slice(1);
  if (p.startsWith('./')) p = p.slice(2);
  const cleaned = cleanPath(p === '' ? '.' : p);
  if (cleaned === '..' || cleaned.startsWith('../')) throw failed(o.cmdName, `forbidden path outside the build context: ${p} ()`);
  if (allowWildcards && containsWildcards(p)) {
    const out: CopyInfo[] = [];
    for await (const e of src.walk('')) {
      if (e.path === '') continue;
      let m = false;
      try {
        m = pathMatch(p, e.path);
      } catch {
        m = false;
      }
      if (m) out.push(...(await calcCopyInfo(o, e.path, false)));
    }
    return out;
  }
  const resolved = await src.resolve(p);
  const st = await src.lstat(resolved);
  if (!st) {
    const stat = `stat ${cleaned}: file does not exist`;
    throw failed(o.cmdName, o.fromImage ? stat : `file not found in build context or excluded by .dockerignore: ${stat}`);
  }
  if (st.type !== 'directory') {
    const sum = await src.hash(p);
    o.collect?.push(fileRecord(st, sum, cleaned));
    return [{ kind: 'path', source: src, path: p, hash: `file:${sum}`, noDecompress: false }];
  }
  const entries: SourceEntry[] = [];
  for await (const e of src.walk(resolved)) if (e.path !== '') entries.push(e);
  const sums = await mapPool(entries, 32, (e) => src.hash(e.path));
  if (o.collect) entries.forEach((e, i) => o.collect!.push(fileRecord(e, sums[i]!)));
  sums.sort();
  return [{ kind: 'path', source: src, path: p, hash: hashStringSlice('dir', sums), noDecompress: false }];
}

/** The hash a COPY/ADD's cache key and history use: the info's own, or `multi:` of all. */
export function sourcesHash(infos: readonly CopyInfo[]): string {
  if (infos.length === 1) return infos[0]!.hash;
  return hashStringSlice('multi', infos.map((i) => i.hash));
}

/** COPY/ADD destination made absolute against WORKDIR; a trailing "/" is kept (normalizeDest). */
export function normalizeDest(workingDir: string, dest: string): string {
  if (dest.startsWith('/')) return dest;
  const joined = cleanPath(`/${workingDir}/${dest}`);
  return dest.endsWith('/') ? `${joined}/` : joined;
}
