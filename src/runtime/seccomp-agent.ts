// Hands a seccomp notify listener fd and the container state to the agent listening on
// linux.seccomp.listenerPath, in runtime-spec's format (config-linux.md "seccomp", runc's
// sendContainerProcessState). Owns the message shape only; does not close or keep the fd.
import type { State } from '../../spec/types/runtime';
import { wrap } from '../errors/index';
import { realSys, type Sys } from '../native/index';

/** The name of the listener fd in `fds` (runtime-spec specs-go: SeccompFdName). */
export const SECCOMP_FD_NAME = 'seccompFd';

/** runtime-spec ContainerProcessState: what the agent receives with the fds, in `fds` order. */
export type ContainerProcessState = {
  /** Runtime-spec version of this document. */
  ociVersion: string;
  /** Names of the fds sent with the message by SCM_RIGHTS, in order. */
  fds: string[];
  /** The process the fds belong to (for init: the container's pid). */
  pid: number;
  /** linux.seccomp.listenerMetadata, opaque to the runtime. */
  metadata?: string;
  /** The container's state; runc sends "creating" with the init pid at create time. */
  state: State;
};

/** Builds the document runc sends: one fd named seccompFd, the state and the listener metadata. */
export function containerProcessState(state: State, pid: number, metadata?: string): ContainerProcessState {
  const doc: ContainerProcessState = { ociVersion: state.ociVersion, fds: [SECCOMP_FD_NAME], pid, state };
  // specs-go marks metadata omitempty; keep the same bytes.
  if (metadata) doc.metadata = metadata;
  return doc;
}

/**
 * Connects to the agent's AF_UNIX stream socket at listenerPath and sends the JSON document in one
 * sendmsg(2) with the listener fd attached (SCM_RIGHTS), as runc does; the socket is closed afterwards.
 */
export function sendSeccompListener(
  listenerPath: string,
  doc: ContainerProcessState,
  listenerFd: number,
  sys: Pick<Sys, 'unixSendFd'> = realSys,
): void {
  try {
    sys.unixSendFd(listenerPath, JSON.stringify(doc), listenerFd);
  } catch (e) {
    throw wrap(e, `send seccomp listener fd to ${listenerPath}`);
  }
}
