// The state store under --root: <root>/<id>/ holds state.json (written atomically) and exec.fifo.
// It owns paths, the on-disk record and the per-container lock; it does not decide status.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Spec } from '../../spec/types/runtime';
import { RuntimeError } from '../errors/index';
import { LOCK_EX, LOCK_UN, type Sys } from '../native/index';
import { writeFileAtomic } from '../util/atomic-write';
import { isValidId } from '../util/id';

/** The private on-disk record of one container (not the OCI state; see container.ts for that). */
export type StateRecord = {
  id: string;
  ociVersion: string;
  bundle: string;
  rootfs: string;
  /** Host pid of the container init; 0 once it is known to be gone. */
  pid: number;
  /** Start time of the init in clock ticks (field 22 of /proc/<pid>/stat), against pid reuse. */
  pidStart: number;
  /** RFC 3339 creation time with nanoseconds, as runc prints it. */
  created: string;
  annotations?: Record<string, string>;
  /** The validated config.json, kept for hooks, exec defaults and cgroups. */
  config: Spec;
  /** Controller → cgroup directory ("" for the v2 unified one). */
  cgroupPaths?: Record<string, string>;
  /** Namespace type (spec spelling) → path the init's namespace can be joined through. */
  namespacePaths?: Record<string, string>;
  rootless: boolean;
  systemdCgroup: boolean;
  /** uid that created the container (runc's "owner" in list). */
  ownerUid: number;
  /** Set when the container has no mount namespace of its own: ids of the mounts below the rootfs
   * that existed before create (kept); every other mount there is the container's, detached at delete. */
  sharedMounts?: number[];
};

export const stateFileName = 'state.json';
export const execFifoName = 'exec.fifo';
/** What a create in progress holds, written before it makes anything (see PendingCreate). */
export const pendingFileName = 'creating.json';

/**
 * The record of a create in progress, written before its cgroups exist and superseded by
 * state.json: if the create dies (SIGKILL) half-way, `delete` still finds what to remove.
 */
export type PendingCreate = {
  /** Controller → cgroup directory the create makes (or made) for the container. */
  cgroupPaths: Record<string, string>;
  rootless: boolean;
};

export class StateStore {
  constructor(
    readonly root: string,
    private readonly sys: Sys,
  ) {}

  /** The directory of one container; throws InvalidArgument for ids runc would refuse. */
  dir(id: string): string {
    if (!isValidId(id)) throw new RuntimeError('InvalidArgument', 'invalid container ID format');
    return path.join(this.root, id);
  }

  execFifo(id: string): string {
    return path.join(this.dir(id), execFifoName);
  }

  exists(id: string): boolean {
    return fs.existsSync(path.join(this.dir(id), stateFileName));
  }

  /**
   * Creates <root>/<id> (mode 0711, as runc) and returns it; AlreadyExists with runc's wording if
   * the directory is there already, whatever state it is in.
   */
  create(id: string): string {
    const dir = this.dir(id);
    fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
    try {
      fs.mkdirSync(dir, { mode: 0o711 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new RuntimeError('AlreadyExists', 'container with given ID already exists');
      throw e;
    }
    return dir;
  }

  /** Reads a record; NotFound "container does not exist" when there is none. */
  read(id: string): StateRecord {
    const file = path.join(this.dir(id), stateFileName);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new RuntimeError('NotFound', 'container does not exist');
      throw e;
    }
    try {
      return JSON.parse(text) as StateRecord;
    } catch (e) {
      throw new RuntimeError('Internal', `read state of ${id}: ${(e as Error).message}`);
    }
  }

  write(rec: StateRecord): void {
    writeFileAtomic(path.join(this.dir(rec.id), stateFileName), JSON.stringify(rec), 0o600);
  }

  /** Records a create in progress (plain write: it is only read when no state.json exists). */
  writePending(id: string, rec: PendingCreate): void {
    fs.writeFileSync(path.join(this.dir(id), pendingFileName), JSON.stringify(rec), { mode: 0o600 });
  }

  /** The record of a create that never wrote state.json; undefined when there is none (or it is torn). */
  readPending(id: string): PendingCreate | undefined {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.dir(id), pendingFileName), 'utf8')) as PendingCreate;
    } catch {
      return undefined;
    }
  }

  /** Drops the record of a create in progress once state.json supersedes it. */
  clearPending(id: string): void {
    fs.rmSync(path.join(this.dir(id), pendingFileName), { force: true });
  }

  /** Removes everything of a container under --root. Idempotent. */
  remove(id: string): void {
    fs.rmSync(this.dir(id), { recursive: true, force: true });
  }

  /** Ids of every container directory holding a state file, sorted. */
  list(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return names.filter((n) => isValidId(n) && fs.existsSync(path.join(this.root, n, stateFileName))).sort();
  }

  /**
   * Takes the per-container lock (flock on the container directory itself, so it vanishes with it
   * and dies with the process) and returns its release function.
   */
  lock(id: string): () => void {
    let fd: number;
    try {
      fd = fs.openSync(this.dir(id), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new RuntimeError('NotFound', 'container does not exist');
      throw e;
    }
    try {
      this.sys.flock(fd, LOCK_EX);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    return () => {
      try {
        this.sys.flock(fd, LOCK_UN);
      } finally {
        fs.closeSync(fd);
      }
    };
  }
}
