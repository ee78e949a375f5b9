// The Runtime interface the task service drives: one OCI runtime operation per method, with the
// flags containerd's runc shim uses. Implemented by InProcessRuntime (src/runtime in this process)
// and CliRuntime (any runc-compatible binary). Interface and option types only.

/** Where an init or exec process gets its stdio: fds for 0/1/2, or a console socket for a pty. */
export type RuntimeIO = { fds: [number, number, number]; consoleSocket?: string };

export type CreateRequest = {
  id: string;
  bundle: string;
  /** <bundle>/init.pid: written before create returns (runc's --pid-file). */
  pidFile: string;
  io: RuntimeIO;
  noPivot?: boolean;
  noNewKeyring?: boolean;
};

export type ExecRequest = {
  id: string;
  execId: string;
  /** The OCI Process as JSON, exactly as containerd sent it. */
  processJson: string;
  pidFile: string;
  io: RuntimeIO;
};

/** The OCI runtime as the shim sees it. Every method throws RuntimeError with runc's wording. */
export interface Runtime {
  /** Human name for logs ("runc", "keel", "in-process"). */
  readonly name: string;
  /** create: the init is left blocked before exec; resolves with its host pid once the pid file exists. */
  create(req: CreateRequest): Promise<number>;
  /** start: releases the init. */
  start(id: string): Promise<void>;
  /** exec --detach: resolves with the new process's host pid (it may already have exited). */
  exec(req: ExecRequest): Promise<number>;
  /** kill [--all] id signal. */
  kill(id: string, signal: number, all: boolean): Promise<void>;
  /** delete [--force]; "does not exist" is not an error. */
  delete(id: string, force: boolean): Promise<void>;
  /** pause (freeze the cgroup). */
  pause(id: string): Promise<void>;
  /** resume (thaw the cgroup). */
  resume(id: string): Promise<void>;
  /** ps: host pids of every process in the container. */
  ps(id: string): Promise<number[]>;
  /** update --resources: linux.resources JSON. */
  update(id: string, resourcesJson: string): Promise<void>;
  /**
   * The container's cgroup as create made it, when the runtime knows it without asking the host
   * (the in-process runtime's state record); the shim resolves it itself otherwise.
   */
  cgroupOf?(id: string): import('../cgroups/index').CgroupManager | undefined;
}

/** Shim options that pick and configure the runtime (containerd.runc.v1.Options subset). */
export type RuntimeOptions = {
  /** BinaryName: a runc-compatible binary run through CliRuntime; empty = InProcessRuntime. */
  binaryName?: string;
  /** State root (runc --root); default /run/containerd/keel/<namespace>. */
  root?: string;
  systemdCgroup?: boolean;
};
