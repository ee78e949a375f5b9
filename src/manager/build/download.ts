// ADD <url>: fetches a file into a private directory the way dockerd's downloadSource does: the name
// comes from the URL path, else from Content-Disposition, else none ("__unnamed__"); mode 0600; mtime
// from Last-Modified (else the epoch). HTTP errors use dockerd's wording. Remote archives are never
// extracted (the CopyInfo says so); this file only fetches.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { errors } from '../../errors/index';
import { DirSource } from './context';
import { UNNAMED, type Download, type Downloader } from './copy-sources';

function filenameFor(urlPath: string, disposition: string | null): string {
  if (urlPath !== '' && !urlPath.endsWith('/')) {
    const base = path.posix.basename(decodeURIComponent(urlPath));
    if (base !== '' && base !== '.' && base !== '/') return base;
  }
  if (disposition) {
    const m = /filename\*?=(?:"([^"]*)"|([^;\s]*))/i.exec(disposition);
    const name = m?.[1] ?? m?.[2];
    if (name && !name.endsWith('/')) {
      const base = path.posix.basename(name);
      if (base !== '' && base !== '.') return base;
    }
  }
  return '';
}

/** A Downloader that writes each URL into a new directory under dir. */
export function httpDownloader(dir: string, signal?: AbortSignal): Downloader {
  let n = 0;
  return async (url: string): Promise<Download> => {
    let res: Response;
    try {
      res = await fetch(url, { redirect: 'follow', ...(signal ? { signal } : {}) });
    } catch (e) {
      const cause = (e as { cause?: { message?: string } }).cause?.message;
      throw errors.invalid(`Get ${JSON.stringify(url)}: ${cause ?? (e as Error).message}`);
    }
    if (res.status >= 400) {
      const body = (await res.text().catch(() => '')).trim();
      throw errors.invalid(`failed to GET ${url} with status ${res.status} ${res.statusText}: ${body}`);
    }
    const filename = filenameFor(new URL(url).pathname, res.headers.get('content-disposition'));
    const sub = path.join(dir, `dl-${++n}`);
    await fs.mkdir(sub, { recursive: true, mode: 0o700 });
    const file = path.join(sub, filename || UNNAMED);
    const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
    if (res.body) await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), out);
    else out.end();
    await fs.chmod(file, 0o600);
    const lm = res.headers.get('last-modified');
    const t = lm ? new Date(lm) : new Date(0);
    const when = Number.isNaN(t.getTime()) ? new Date(0) : t;
    await fs.utimes(file, when, when);
    return { source: new DirSource(sub), filename, path: path.basename(file) };
  };
}
