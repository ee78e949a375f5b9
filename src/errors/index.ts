// Error model of the whole project: RuntimeError with a closed ErrorKind, SysError for errno failures,
// ChildError for failures reported by the cloned child, and wrap() for layer boundaries.
// Library code throws these; only cmd/ turns them into exit codes and log lines.
import { constants as osConstants } from 'node:os';

/** Error classes modelled on containerd's errdefs; the shim maps them onto ttrpc status codes. */
export type ErrorKind =
  | 'NotFound'
  | 'AlreadyExists'
  | 'InvalidArgument'
  | 'FailedPrecondition'
  | 'PermissionDenied'
  | 'Unavailable'
  | 'NotImplemented'
  | 'Canceled'
  | 'DeadlineExceeded'
  | 'Internal';

export class RuntimeError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeError';
    this.kind = kind;
  }
}

const errnoKinds: Record<string, ErrorKind> = {
  ENOENT: 'NotFound',
  ESRCH: 'NotFound',
  EEXIST: 'AlreadyExists',
  EINVAL: 'InvalidArgument',
  ENOTDIR: 'InvalidArgument',
  EISDIR: 'InvalidArgument',
  ELOOP: 'InvalidArgument',
  EPERM: 'PermissionDenied',
  EACCES: 'PermissionDenied',
  EROFS: 'PermissionDenied',
  EBUSY: 'Unavailable',
  EAGAIN: 'Unavailable',
  ENOSYS: 'NotImplemented',
  EOPNOTSUPP: 'NotImplemented',
  ETIMEDOUT: 'DeadlineExceeded',
  EINTR: 'Canceled',
};

const errnoNames: Map<number, string> = new Map(
  Object.entries(osConstants.errno).map(([name, num]) => [num as number, name]),
);

/** Maps a positive errno number to its symbolic name ("ENOENT"), or "errno N" if unknown. */
export function errnoName(errno: number): string {
  return errnoNames.get(Math.abs(errno)) ?? `errno ${Math.abs(errno)}`;
}

/** Maps an errno name to the error class callers act on. */
export function kindOfErrno(code: string): ErrorKind {
  return errnoKinds[code] ?? 'Internal';
}

/**
 * A failed system call, shaped like Node's own fs errors (code, errno, syscall, path) so that
 * errors from node:fs and from the addon are handled the same way.
 */
export class SysError extends RuntimeError {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly path?: string;
  constructor(syscall: string, errno: number, path?: string) {
    const code = errnoName(errno);
    super(kindOfErrno(code), path ? `${syscall} ${path}: ${code}` : `${syscall}: ${code}`);
    this.name = 'SysError';
    this.code = code;
    this.errno = -Math.abs(errno);
    this.syscall = syscall;
    if (path !== undefined) this.path = path;
  }
}

/** A failure reported by the cloned child over the sync socket: which step, which item, which errno. */
export class ChildError extends RuntimeError {
  readonly step: number;
  readonly item: number;
  readonly errno: number;
  constructor(message: string, step: number, item: number, errno: number) {
    super(kindOfErrno(errnoName(errno)), message);
    this.name = 'ChildError';
    this.step = step;
    this.item = item;
    this.errno = errno;
  }
}

/** The kind of any thrown value: RuntimeError's own, a Node errno error's, or Internal. */
export function kindOf(err: unknown): ErrorKind {
  if (err instanceof RuntimeError) return err.kind;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return kindOfErrno(code);
  return 'Internal';
}

/** The message of any thrown value, without a stack. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Adds context at a layer boundary: the message becomes "context: inner", the kind is inherited
 * and cause is kept. Use it only where a layer hands an error upwards, never at every catch.
 */
export function wrap(err: unknown, context: string): RuntimeError {
  const wrapped = new RuntimeError(kindOf(err), `${context}: ${messageOf(err)}`, { cause: err });
  return wrapped;
}

/** Shorthand constructors for the common kinds. */
export const errors = {
  notFound: (msg: string) => new RuntimeError('NotFound', msg),
  exists: (msg: string) => new RuntimeError('AlreadyExists', msg),
  invalid: (msg: string) => new RuntimeError('InvalidArgument', msg),
  precondition: (msg: string) => new RuntimeError('FailedPrecondition', msg),
  notImplemented: (msg: string) => new RuntimeError('NotImplemented', msg),
  internal: (msg: string) => new RuntimeError('Internal', msg),
};
