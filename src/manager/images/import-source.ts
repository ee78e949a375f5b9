// Where `docker import` reads its archive: the request body (fromSrc=-) or an http(s) URL fetched by
// the daemon with undici (dockerd's "Downloading from …" progress). Either way the bytes are
// decompressed and checked as a tar on the way (snapshots/layer-check.ts), so a hostile archive is
// refused before any image exists.
import { RuntimeError } from '../../errors/index';
import { decompress } from '../snapshots/apply-layer';
import { checkedTar } from '../snapshots/layer-check';
import { undici } from './registry/undici';

export type ImportProgress = (status: string, current?: number, total?: number) => void;

const MAX_REDIRECTS = 10;

/** Whether fromSrc names a URL to fetch (the docker CLI sends only http(s) URLs; files go as the body). */
export function isUrlSource(fromSrc: string): boolean {
  return /^https?:\/\//i.test(fromSrc);
}

async function* fetchUrl(url: string, progress: ImportProgress): AsyncGenerator<Buffer> {
  let target = url;
  for (let hop = 0; ; hop++) {
    let res;
    try {
      res = await undici().request(target, { method: 'GET', headersTimeout: 60_000, bodyTimeout: 300_000 });
    } catch (e) {
      throw new RuntimeError('Unavailable', `Get "${target}": ${(e as Error).message}`);
    }
    if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location && hop < MAX_REDIRECTS) {
      await res.body.dump();
      target = new URL(String(res.headers.location), target).toString();
      continue;
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new RuntimeError('InvalidArgument', `Get "${target}": unexpected status ${res.statusCode}`);
    }
    const total = Number(res.headers['content-length'] ?? 0) || undefined;
    progress(`Downloading from ${url}`);
    let n = 0;
    let shown = 0;
    for await (const c of res.body) {
      n += (c as Buffer).length;
      if (n - shown >= 1 << 20) {
        shown = n;
        progress('Importing', n, total);
      }
      yield c as Buffer;
    }
    progress('Importing', n, total ?? n);
    return;
  }
}

/** The checked, uncompressed tar stream of fromSrc ("-": body). */
export function importSource(fromSrc: string, body: AsyncIterable<Buffer>, progress: ImportProgress = () => undefined): AsyncIterable<Buffer> {
  if (fromSrc === '-') return checkedTar(decompress(body));
  if (!isUrlSource(fromSrc)) throw new RuntimeError('InvalidArgument', `import source ${JSON.stringify(fromSrc)}: not "-" or an http(s) URL`);
  return checkedTar(decompress(fetchUrl(fromSrc, progress)));
}
