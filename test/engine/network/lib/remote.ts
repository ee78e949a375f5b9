// Runs a NetworkController in a child process entered into a test namespace (nsenter --net, not
// `ip netns exec`, which remounts /sys) and exposes its methods as async calls; kill() is the
// kill -9 of the failure scenarios. Also counts what a controller may leave behind.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NetworkController, NetworkControllerOptions } from '../../../../src/manager/network/index';
import type { Netns } from '../../lib/netns';

type Methods = Omit<NetworkController, 'listNetworks' | 'inspectNetwork' | 'sandboxPath' | 'endpoints' | 'ports' | 'hostsFile' | 'resolvConf' | 'addressOf' | 'hostGatewayIp' | 'pruneNetworks'>;
type Async<T> = { [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : never };

export type RemoteController = Async<Methods> &
  Async<Pick<NetworkController, 'listNetworks' | 'inspectNetwork' | 'sandboxPath' | 'endpoints' | 'ports' | 'hostsFile' | 'resolvConf' | 'addressOf' | 'hostGatewayIp'>> & {
    pid: number;
    dataRoot: string;
    execRoot: string;
    /** SIGKILL, as a crashed daemon. */
    kill(): Promise<void>;
    /** close() and exit. */
    stop(): Promise<void>;
  };

export class RemoteError extends Error {
  constructor(
    message: string,
    readonly kind?: string,
    readonly holder?: string,
  ) {
    super(message);
  }
}

const HOST = path.join(__dirname, 'host.ts');

/** Starts a controller inside ns; roots default to fresh temp dirs (reuse them to model a restart). */
export async function startController(ns: Netns, opts: Partial<NetworkControllerOptions> = {}): Promise<RemoteController> {
  const dataRoot = opts.dataRoot ?? fs.mkdtempSync(path.join(os.tmpdir(), 'knet-data-'));
  const execRoot = opts.execRoot ?? fs.mkdtempSync(path.join(os.tmpdir(), 'knet-exec-'));
  // Roots made here go with stop(); roots passed in belong to the caller (restarts reuse them).
  const owned = [opts.dataRoot ? undefined : dataRoot, opts.execRoot ? undefined : execRoot].filter((d): d is string => !!d);
  const full = { ...opts, dataRoot, execRoot };
  const child: ChildProcess = spawn('nsenter', [`--net=${ns.path}`, '--', process.execPath, '--import', 'tsx', HOST, JSON.stringify(full)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let seq = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let exited = false;
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (m: { ready?: boolean; id?: number; result?: unknown; error?: { message: string; kind?: string; holder?: string } }) => {
      if (m.ready) return resolve();
      const p = pending.get(m.id!);
      if (!p) return;
      pending.delete(m.id!);
      if (m.error) p.reject(new RemoteError(m.error.message, m.error.kind, m.error.holder));
      else p.resolve(m.result);
    });
    child.on('exit', (code) => {
      exited = true;
      for (const p of pending.values()) p.reject(new Error(`controller exited (${code})`));
      pending.clear();
      reject(new Error(`controller host exited with ${code} before ready`));
    });
  });
  await ready;
  const call = (method: string, args: unknown[]) =>
    new Promise<unknown>((resolve, reject) => {
      if (exited) return reject(new Error('controller is gone'));
      const id = ++seq;
      pending.set(id, { resolve, reject });
      child.send({ id, method, args });
    });
  const waitExit = () => new Promise<void>((r) => (exited ? r() : child.once('exit', () => r())));
  const base = {
    pid: child.pid!,
    dataRoot,
    execRoot,
    async kill() {
      child.kill('SIGKILL');
      await waitExit();
    },
    async stop() {
      if (!exited) {
        await call('__exit', []).catch(() => undefined);
        await waitExit();
      }
      for (const d of owned) {
        try {
          fs.rmSync(d, { recursive: true, force: true });
        } catch {
          /* a netns still mounted (a failed test): countLeftovers reports it, the root stays for a look */
        }
      }
    },
  };
  return new Proxy(base, {
    get(target, prop: string) {
      if (prop in target) return (target as Record<string, unknown>)[prop];
      if (prop === 'then') return undefined;
      return (...args: unknown[]) => call(prop, args);
    },
  }) as unknown as RemoteController;
}

export type Leftovers = { veths: number; bridges: number; netnsMounts: number; rules: number; leases: number; listeners: number };

/**
 * What a controller left in ns and its roots: our veths and bridges (ifalias keel:), netns bind
 * mounts under the exec root, rules in our chains or tagged jumps, endpoint records (leases), and
 * listening sockets in the namespace.
 */
export function countLeftovers(ns: Netns, roots: { dataRoot: string; execRoot: string }, keep: { bridges?: number } = {}): Leftovers {
  const ourLinks = () => (JSON.parse(ns.run(['ip', '-d', '-j', 'link', 'show'])) as { ifalias?: string; linkinfo?: { info_kind?: string } }[]).filter((l) => l.ifalias?.startsWith('keel:'));
  const veths = (ls: ReturnType<typeof ourLinks>) => ls.filter((l) => l.linkinfo?.info_kind === 'veth').length;
  // releaseSandbox returns before the host ends of its veths are deleted (Kernel.releaseVeths, tens of
  // ms): wait while their number still falls; a leak stays put for the whole half second.
  let ours = ourLinks();
  for (let stable = 0, waited = 0; veths(ours) > 0 && stable < 10 && waited < 60; waited++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    const next = ourLinks();
    stable = veths(next) < veths(ours) ? 0 : stable + 1;
    ours = next;
  }
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => (l.split(' ')[4] ?? '').startsWith(path.join(roots.execRoot, 'netns') + '/')).length;
  const save = ns.run(['iptables-save']);
  const rules = save.split('\n').filter((l) => l.startsWith('-A ') && (/ KEEL/.test(l) || /--comment "?keel/.test(l))).length;
  let leases = 0;
  const sbDir = path.join(roots.dataRoot, 'network', 'sandboxes');
  if (fs.existsSync(sbDir))
    for (const f of fs.readdirSync(sbDir)) leases += (JSON.parse(fs.readFileSync(path.join(sbDir, f), 'utf8')) as { endpoints: unknown[] }).endpoints.length;
  const listeners = ns.run(['ss', '-H', '-lntu']).split('\n').filter(Boolean).length;
  return {
    veths: veths(ours),
    bridges: ours.filter((l) => l.linkinfo?.info_kind === 'bridge').length - (keep.bridges ?? 0),
    netnsMounts: mounts,
    rules,
    leases,
    listeners,
  };
}
