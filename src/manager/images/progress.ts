// Progress events of pull and push, worded as docker's JSON message stream words them
// (pkg/jsonmessage, distribution/xfer). Producers emit; only cmd/ decides how to show them.

export type ProgressStatus =
  | 'Pulling fs layer'
  | 'Waiting'
  | 'Downloading'
  | 'Verifying Checksum'
  | 'Download complete'
  | 'Already exists'
  | 'Pull complete'
  | 'Preparing'
  | 'Pushing'
  | 'Pushed'
  | 'Layer already exists'
  | 'Mounted';

export type ProgressEvent = {
  /** The short id docker prints: the first 12 hex chars of the blob digest. */
  id: string;
  status: ProgressStatus;
  current?: number;
  total?: number;
  /** Free text after the status ("from library/busybox" for a mount). */
  detail?: string;
};

export type ProgressSink = (e: ProgressEvent) => void;

export const noProgress: ProgressSink = () => undefined;

export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** A progress event as one of Docker's JSON progress messages (status, id, progressDetail, bar). */
export function progressLine(e: ProgressEvent): Record<string, unknown> {
  const detail = e.current !== undefined && e.total !== undefined ? { current: e.current, total: e.total } : {};
  const out: Record<string, unknown> = { status: e.detail ? `${e.status} ${e.detail}` : e.status, progressDetail: detail, id: e.id };
  if (e.current !== undefined && e.total) {
    const w = 50;
    const n = Math.min(w, Math.floor((e.current / e.total) * w));
    out.progress = `[${'='.repeat(Math.max(0, n - 1))}${n > 0 ? '>' : ''}${' '.repeat(w - n)}] ${human(e.current)}/${human(e.total)}`;
  }
  return out;
}

function human(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0).replace(/\.0+$/, '')}${units[i]}`;
}
