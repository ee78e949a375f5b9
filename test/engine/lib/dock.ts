// dock's engine for scenarios: `dock daemon` (bin/dock, built by make) with a private data root,
// exec root, socket and cgroup parent, optionally inside a test netns; the same Engine shape as
// the reference dockerd. stop() ends the daemon, then its shim and any container left (a failed
// test), and removes everything it made.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stopPid, waitForPing, type Engine } from './engine';
import type { Netns } from './netns';

export const REPO = path.resolve(__dirname, '..', '..', '..');
export const DOCK_BIN = path.join(REPO, 'bin', 'dock');

export function dockSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const b of ['dock', 'containerd-shim-keel-v2']) if (!fs.existsSync(path.join(REPO, 'bin', b))) return `bin/${b} not built (run make)`;
  return undefined;
}

function unmountUnder(dir: string): void {
  const lines = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const targets = lines.map((l) => l.split(' ')[4] ?? '').filter((m) => m === dir || m.startsWith(dir + '/'));
  for (const m of targets.sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
}

function removeCgroupParent(name: string): void {
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    const d = path.join('/sys/fs/cgroup', h, name);
    if (fs.existsSync(d)) spawnSync('find', [d, '-depth', '-type', 'd', '-exec', 'rmdir', '{}', ';'], { stdio: 'ignore' });
  }
}

/** Pids of processes whose cmdline mentions s (the shim serving this engine's exec root). */
function pidsMentioning(s: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(s)) out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}

export type DockHandle = Engine & {
  /** Kills the daemon with SIGKILL (containers stay with their shim). */
  crash(): Promise<void>;
  /** Starts the daemon again on the same roots. */
  restart(extra?: string[]): Promise<void>;
  logFile: string;
  cgroupParent: string;
};

export async function startDock(opts: { netns?: Netns; args?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<DockHandle> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dock-eng-'));
  fs.chmodSync(work, 0o755);
  const tag = `dockt${process.pid}x${path.basename(work).slice(-6)}`;
  const socket = path.join(work, 'dock.sock');
  const dataRoot = path.join(work, 'data');
  const execRoot = path.join(work, 'exec');
  const logFile = path.join(work, 'daemon.log');
  const configDir = path.join(work, 'cli');
  fs.mkdirSync(configDir);
  const argv = (extra: string[]) => {
    // Outside a test netns there must be no bridge, veth or rule: no bridge networking at all.
    const net = opts.netns ? [] : ['--bridge', 'none', '--iptables=false'];
    const a = [process.execPath, DOCK_BIN, 'daemon', '--data-root', dataRoot, '--exec-root', execRoot, '-H', `unix://${socket}`, '--cgroup-parent', `/${tag}`, ...net, ...(opts.args ?? []), ...extra];
    return opts.netns ? opts.netns.wrap(a) : a;
  };
  let pid = 0;
  let exited = false;
  const launch = async (extra: string[] = []) => {
    const log = fs.openSync(logFile, 'a');
    const a = argv(extra);
    const child = spawn(a[0]!, a.slice(1), { stdio: ['ignore', log, log], detached: true, env: { ...process.env, ...(opts.env ?? {}) } });
    fs.closeSync(log);
    exited = false;
    child.on('exit', () => (exited = true));
    child.unref();
    pid = child.pid!;
    try {
      await waitForPing(socket, () => !exited, 30_000);
    } catch (e) {
      const tail = fs.readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
      throw new Error(`${(e as Error).message}\n${tail}`);
    }
  };
  const h: DockHandle = {
    kind: 'dock',
    host: `unix://${socket}`,
    socket,
    configDir,
    dataRoot,
    execRoot,
    netns: opts.netns,
    get pid() {
      return pid;
    },
    logFile,
    cgroupParent: `/${tag}`,
    async crash() {
      await stopPid(pid, 'SIGKILL');
    },
    async restart(extra = []) {
      await launch(extra);
    },
    async stop() {
      await stopPid(pid, 'SIGTERM', 20_000);
      // Containers a failed test left running: their shim serves only this exec root.
      for (const p of pidsMentioning(execRoot)) await stopPid(p, 'SIGKILL');
      const inits = spawnSync('find', ['/sys/fs/cgroup/pids' + `/${tag}`, '-name', 'cgroup.procs'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
      for (const f of inits) for (const p of fs.readFileSync(f, 'utf8').split('\n').filter(Boolean)) await stopPid(Number(p), 'SIGKILL');
      unmountUnder(work);
      removeCgroupParent(tag);
      fs.rmSync(work, { recursive: true, force: true });
    },
  };
  try {
    await launch();
  } catch (e) {
    await h.stop();
    throw e;
  }
  return h;
}
