// One init or exec process as the task service tracks it: explicit state objects with checked
// transitions (containerd's process/init_state.go), its stdio and its exit. Never calls the runtime.
import { RuntimeError, errors } from '../errors/index';
import type { Exit } from './reaper';
import type { ProcessIO, StdioPaths } from './stdio';

/** containerd.v1.types.Status values used in StateResponse. */
export const TaskStatus = { UNKNOWN: 0, CREATED: 1, RUNNING: 2, STOPPED: 3, PAUSED: 4, PAUSING: 5 } as const;

type Op = 'start' | 'pause' | 'resume' | 'exit' | 'delete' | 'kill' | 'exec';

/** One state: which operations it allows and where each leads. */
interface ProcessState {
  readonly name: 'created' | 'running' | 'paused' | 'stopped' | 'deleted';
  readonly status: number;
  /** The next state after op, or an error in containerd's wording. */
  transition(op: Op): ProcessState;
}

function refuse(op: Op, state: string): never {
  if (op === 'kill') throw new RuntimeError('NotFound', 'process already finished');
  if (op === 'exec') throw errors.precondition(`cannot exec in a ${state} state`);
  throw errors.precondition(`cannot ${op} a ${state} process`);
}

const Deleted: ProcessState = { name: 'deleted', status: TaskStatus.UNKNOWN, transition: (op) => refuse(op, 'deleted') };
const Stopped: ProcessState = {
  name: 'stopped',
  status: TaskStatus.STOPPED,
  transition: (op) => (op === 'delete' ? Deleted : refuse(op, 'stopped')),
};
const Paused: ProcessState = {
  name: 'paused',
  status: TaskStatus.PAUSED,
  transition: (op) => {
    if (op === 'resume') return Running;
    if (op === 'exit') return Stopped;
    if (op === 'kill') return Paused;
    return refuse(op, 'paused');
  },
};
const Running: ProcessState = {
  name: 'running',
  status: TaskStatus.RUNNING,
  transition: (op) => {
    if (op === 'pause') return Paused;
    if (op === 'exit') return Stopped;
    if (op === 'kill' || op === 'exec') return Running;
    return refuse(op, 'running');
  },
};
const Created: ProcessState = {
  name: 'created',
  status: TaskStatus.CREATED,
  transition: (op) => {
    if (op === 'start') return Running;
    if (op === 'exit') return Stopped;
    if (op === 'delete') return Deleted;
    if (op === 'kill') return Created;
    return refuse(op, 'created');
  },
};

/** An init (execId '') or exec process of one container. */
export class ShimProcess {
  pid = 0;
  exit: Exit | undefined;
  private state: ProcessState = Created;
  private resolveExit!: (e: Exit) => void;
  /** Settles when the process has exited and its state is stopped. */
  readonly exited: Promise<Exit>;
  /** Settles once TaskStart/TaskExecStarted is queued; TaskExit must never be queued before it. */
  startPublished: Promise<void> = Promise.resolve();
  io: ProcessIO | undefined;

  constructor(
    readonly containerId: string,
    readonly execId: string,
    readonly stdio: StdioPaths,
    /** The exec's OCI Process JSON (empty for init). */
    readonly processJson = '',
  ) {
    this.exited = new Promise((r) => (this.resolveExit = r));
  }

  get status(): number {
    return this.state.status;
  }

  get stateName(): string {
    return this.state.name;
  }

  /** Checks that op is allowed now, without changing state (for operations that may still fail). */
  check(op: Op): void {
    this.state.transition(op);
  }

  /** Applies op: the state changes only if the transition is allowed. */
  apply(op: Op): void {
    this.state = this.state.transition(op);
  }

  /** Records the exit once; later calls are ignored. */
  setExited(e: Exit): void {
    if (this.exit) return;
    this.exit = e;
    if (this.state !== Deleted) this.state = this.state.transition('exit');
    this.resolveExit(e);
  }
}
