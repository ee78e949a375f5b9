// OCI hooks (runtime-spec config.md "POSIX-platform Hooks"): the state JSON on stdin, the hook's own
// args and env only, an optional timeout in seconds. It runs hooks; it does not decide when.
import { spawnSync } from 'node:child_process';
import type { Hook, Hooks } from '../../spec/types/runtime';
import { RuntimeError } from '../errors/index';
import type { Logger } from '../log/index';

export type HookPhase = keyof Hooks;

/**
 * Where a hook runs: the runtime's namespaces (prestart, createRuntime, poststart, poststop), or
 * those of the container's init, entered with util-linux nsenter (createContainer before
 * pivot_root, in the rootfs as runc's init runs it (wdns, resolved in the container's mount
 * namespace); startContainer after it, with the container's root and cwd).
 */
export type HookPlace = { pid: number; containerRoot: boolean; wdns?: string } | undefined;

/** Runs one hook synchronously; throws with runc's "error running <phase> hook #N" wording. */
export function runHook(phase: HookPhase, index: number, hook: Hook, stateJson: string, place?: HookPlace): void {
  const args = hook.args && hook.args.length > 0 ? hook.args : [hook.path];
  // nsenter execs the hook by its path, so argv[0] becomes the path in that case.
  const [file, argv] = place
    ? ['nsenter', ['--all', '-t', String(place.pid), ...(place.containerRoot ? ['-r', '-w'] : []), ...(place.wdns ? [`--wdns=${place.wdns}`] : []), '--', hook.path, ...args.slice(1)]]
    : [hook.path, args.slice(1)];
  const res = spawnSync(file, argv, {
    argv0: place ? 'nsenter' : args[0]!,
    input: stateJson,
    env: Object.fromEntries((hook.env ?? []).map((kv) => {
      const i = kv.indexOf('=');
      return i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)];
    })),
    timeout: hook.timeout ? hook.timeout * 1000 : undefined,
    killSignal: 'SIGKILL',
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 1 << 20,
  });
  const where = `error running ${phase} hook #${index}`;
  // A hook that exits without reading its stdin makes our write fail with EPIPE; that is not a
  // failure of the hook (Go's exec, and so runc, ignore it too): its exit status decides.
  if (res.error && (res.error as NodeJS.ErrnoException).code === 'EPIPE' && res.status !== null) res.error = undefined;
  if (res.error) {
    const code = (res.error as NodeJS.ErrnoException).code;
    if (code === 'ETIMEDOUT') throw new RuntimeError('DeadlineExceeded', `${where}: timeout after ${hook.timeout}s`);
    throw new RuntimeError('InvalidArgument', `${where}: exec ${hook.path}: ${code ?? res.error.message}`);
  }
  if (res.status !== 0) {
    const how = res.signal ? `signal: ${res.signal}` : `exit status ${res.status}`;
    const out = res.stdout.toString().trim();
    const err = res.stderr.toString().trim();
    throw new RuntimeError('Internal', `${where}: ${how}, stdout: ${out}, stderr: ${err}`);
  }
}

/**
 * Runs every hook of a phase in order. With bestEffort (poststop), failures are logged as warnings
 * and the rest still run, as the spec asks; otherwise the first failure throws.
 */
export function runHooks(phase: HookPhase, hooks: Hooks | undefined, stateJson: string, log: Logger, bestEffort = false, place?: HookPlace): void {
  const list = hooks?.[phase] ?? [];
  list.forEach((hook, i) => {
    log.debug({ phase, hook: hook.path }, 'running hook');
    try {
      runHook(phase, i, hook, stateJson, place);
    } catch (e) {
      if (!bestEffort) throw e;
      log.warn((e as Error).message);
    }
  });
}
