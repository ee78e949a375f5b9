// The only importer of keel.node: the typed Sys interface over the addon, and errno errors turned
// into SysError. Everything above this file sees Sys, never the binding, so tests can pass a fake.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SysError } from '../errors/index';

/** Parent-side system calls Node lacks. Every member throws SysError on failure. */
export interface Sys {
  /** flock(2) on an open fd; op is LOCK_SH, LOCK_EX or LOCK_UN, optionally | LOCK_NB. */
  flock(fd: number, op: number): void;
  /** mkfifo(3) with an explicit mode (the umask still applies). */
  mkfifo(path: string, mode: number): void;
  /** bpf(BPF_PROG_LOAD) of 8-byte instruction records; returns the program fd (the verifier log is in the error). */
  bpfProgLoad(progType: number, insns: Buffer, license: string): number;
  /** bpf(BPF_PROG_ATTACH) of progFd to the cgroup dir fd targetFd. */
  bpfProgAttach(targetFd: number, progFd: number, attachType: number, flags: number): void;
  /** bpf(BPF_PROG_DETACH) of progFd from the cgroup dir fd targetFd. */
  bpfProgDetach(targetFd: number, progFd: number, attachType: number): void;
  /** bpf(BPF_PROG_QUERY): ids of the programs attached to targetFd (at most 64). */
  bpfProgQuery(targetFd: number, attachType: number): number[];
  /** bpf(BPF_PROG_GET_FD_BY_ID): an fd for an attached program id. */
  bpfProgGetFdById(id: number): number;
}

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

type RawError = Error & { errno?: number; syscall?: string; path?: string };

/** Finds keel.node: $KEEL_NATIVE, else native/build/Release above this file (source or bundle). */
function addonPath(): string {
  const override = process.env.KEEL_NATIVE;
  if (override) return override;
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    const candidate = path.join(dir, 'native', 'build', 'Release', 'keel.node');
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`keel.node not found above ${__dirname}: run make`);
}

let binding: Record<string, (...args: unknown[]) => unknown> | undefined;

function load(): Record<string, (...args: unknown[]) => unknown> {
  if (!binding) {
    const mod = { exports: {} as Record<string, (...args: unknown[]) => unknown> };
    process.dlopen(mod, addonPath());
    binding = mod.exports;
  }
  return binding;
}

/** Calls a binding and rethrows its errno errors as SysError. */
function call<T>(name: string, ...args: unknown[]): T {
  try {
    return load()[name]!(...args) as T;
  } catch (e) {
    const raw = e as RawError;
    if (typeof raw.errno === 'number') throw new SysError(raw.syscall ?? name, raw.errno, raw.path);
    throw e;
  }
}

/** The real system, backed by keel.node (loaded on first use, so commands that need none pay nothing). */
export const realSys: Sys = {
  flock: (fd, op) => call<void>('flock', fd, op),
  mkfifo: (p, mode) => call<void>('mkfifo', p, mode),
  bpfProgLoad: (type, insns, license) => call<number>('bpfProgLoad', type, insns, license),
  bpfProgAttach: (t, p, type, flags) => call<void>('bpfProgAttach', t, p, type, flags),
  bpfProgDetach: (t, p, type) => call<void>('bpfProgDetach', t, p, type),
  bpfProgQuery: (t, type) => call<number[]>('bpfProgQuery', t, type),
  bpfProgGetFdById: (id) => call<number>('bpfProgGetFdById', id),
};
