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
