// The Snapshotter contract, after containerd's core/snapshots: a snapshot is "active" (writable,
// made by prepare), a "view" (read-only) or "committed" (immutable, usable as a parent). Layers are
// unpacked into an active snapshot and committed under their chain ID. Implementations: overlay/.
// This file defines types only.

export type SnapshotKind = 'active' | 'view' | 'committed';

/** A mount to perform, in mount(8) terms, to obtain a snapshot's filesystem. */
export type Mount = {
  type: string;
  source: string;
  options: string[];
};

export type SnapshotInfo = {
  /** Key of an active snapshot or view, or name of a committed one. */
  name: string;
  /** Committed parent's name; absent for a base snapshot. */
  parent?: string;
  kind: SnapshotKind;
  createdAt: string;
  labels?: Record<string, string>;
};

export interface Snapshotter {
  /** Info for a key or name; NotFound when absent. */
  stat(key: string): Promise<SnapshotInfo>;
  /** Every snapshot. */
  list(): Promise<SnapshotInfo[]>;
  /**
   * Creates an active (writable) snapshot on top of committed `parent` and returns the mounts that
   * produce it. AlreadyExists when key is taken; NotFound when parent is missing; FailedPrecondition
   * when parent is not committed.
   */
  prepare(key: string, parent?: string, labels?: Record<string, string>): Promise<Mount[]>;
  /** Like prepare, but the result is read-only and can never be committed. */
  view(key: string, parent?: string, labels?: Record<string, string>): Promise<Mount[]>;
  /** Mounts of an existing active snapshot or view; FailedPrecondition for a committed one. */
  mounts(key: string): Promise<Mount[]>;
  /**
   * Turns active snapshot `key` into committed snapshot `name`; key ceases to exist.
   * AlreadyExists when name is taken; FailedPrecondition when key is not active.
   */
  commit(name: string, key: string): Promise<void>;
  /** Deletes a snapshot and its data; FailedPrecondition while other snapshots have it as parent. */
  remove(key: string): Promise<void>;
  /**
   * The directory holding an active snapshot's own changes, where a layer can be applied without
   * mounting (overlayfs whiteout format). FailedPrecondition for views and committed snapshots.
   */
  upperDir(key: string): Promise<string>;
}
