// Container status and the transitions each verb may make from it, with runc's error wording
// (libcontainer/error.go and the verbs), so containerd's substring matching keeps working.
import { RuntimeError } from '../errors/index';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export type Operation = 'start' | 'kill' | 'delete' | 'pause' | 'resume' | 'exec';

/** Throws FailedPrecondition unless op is allowed in status; the messages are runc's. */
export function checkTransition(op: Operation, status: Status, id: string, opts: { force?: boolean; ignorePaused?: boolean } = {}): void {
  const fail = (msg: string): never => {
    throw new RuntimeError('FailedPrecondition', msg);
  };
  switch (op) {
    case 'start':
      if (status === 'created') return;
      if (status === 'stopped') fail('cannot start a container that has stopped');
      if (status === 'running') fail('cannot start an already running container');
      return fail(`cannot start a container in the ${status} state`);
    case 'kill':
      if (status === 'stopped') fail('container not running');
      return;
    case 'delete':
      if (status === 'stopped' || status === 'created' || opts.force) return;
      return fail(`cannot delete container ${id} that is not stopped: ${status}`);
    case 'pause':
      if (status === 'running' || status === 'created') return;
      return fail('container not running');
    case 'resume':
      if (status === 'paused') return;
      return fail('container not paused');
    case 'exec':
      if (status === 'stopped') fail('cannot exec in a stopped container');
      if (status === 'paused' && !opts.ignorePaused) fail('cannot exec in a paused container (use --ignore-paused to override)');
      if (status === 'created' || status === 'running' || status === 'paused') return;
      return fail(`cannot exec in a ${status} container`);
  }
}
