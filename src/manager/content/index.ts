// The content store contract: content-addressed blobs (sha256) with verified, resumable ingestion,
// modelled on containerd's core/content (Provider, Ingester, Manager). Implementations live in
// local/; the contract suite in testsuite.ts runs against each. Knows nothing of images or registries.
import type { Readable } from 'node:stream';

/** An OCI content descriptor (image-spec descriptor.md); field names keep the spec's spelling. */
export type Descriptor = {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
};

/** image-spec platform object. */
export type Platform = {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
};

/** What the store knows about a committed blob. */
export type BlobInfo = {
  digest: string;
  size: number;
  /** Commit time of the blob (the file's mtime). */
  createdAt: Date;
};

/** Expected identity of content being written; checked at commit. */
export type Expected = {
  digest?: string;
  size?: number;
};

/** An open ingestion. Bytes are hashed as they are written; nothing is visible until commit. */
export interface ContentWriter {
  /** Bytes already held for this ref (non-zero when a previous partial write is resumed). */
  readonly offset: number;
  /** Appends a chunk at the current offset. */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Verifies size and digest and makes the blob visible under its digest. On mismatch the partial
   * data is deleted and an InvalidArgument error is thrown: nothing of a bad blob is kept.
   * Committing content that already exists succeeds and discards the duplicate.
   */
  commit(expected?: Expected): Promise<BlobInfo>;
  /** Drops the partial data for good. */
  abort(): Promise<void>;
  /** Closes the writer but keeps the partial data so a later writer with the same ref resumes it. */
  close(): Promise<void>;
  /** Truncates the partial data to zero bytes (when the source cannot resume at offset). */
  reset(): Promise<void>;
}

/** A content-addressed blob store. Every method rejects malformed digests with InvalidArgument. */
export interface ContentStore {
  /** Size and commit time of a blob; NotFound when absent. */
  info(digest: string): Promise<BlobInfo>;
  /** True when the blob is committed. */
  has(digest: string): Promise<boolean>;
  /** A stream of the blob from byte `start` (default 0); the stream errors with NotFound when absent. */
  read(digest: string, start?: number): Readable;
  /** The whole blob in memory; meant for manifests and configs, not layers. */
  readAll(digest: string): Promise<Buffer>;
  /**
   * Opens (or resumes) an ingestion identified by ref. Only one writer per ref at a time, across
   * processes: a second concurrent writer gets Unavailable.
   */
  writer(ref: string): Promise<ContentWriter>;
  /** Writes a whole buffer and commits it; returns its digest and size. */
  put(data: Uint8Array, expected?: Expected): Promise<BlobInfo>;
  /** Removes a blob; NotFound when absent. */
  delete(digest: string): Promise<void>;
  /** Every committed blob. */
  list(): AsyncIterable<BlobInfo>;
  /** Refs of ingestions that hold partial data (resumable), with their current sizes. */
  listIngests(): Promise<{ ref: string; offset: number }[]>;
}
