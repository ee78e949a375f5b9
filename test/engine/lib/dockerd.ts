// The reference engine: Debian's dockerd 20.10 with its own containerd, private data root, exec root,
// socket, containerd namespace and cgroup parent, so scenarios run the same assertions against it
// and against dock. Outside a test namespace it runs with --iptables=false --bridge=none.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stopPid, waitForPing, type Engine } from './engine';
import type { Netns } from './netns';

export function dockerdSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  for (const b of ['/usr/sbin/dockerd', '/usr/bin/containerd']) if (!fs.existsSync(b)) return `${b} missing (apt-get install docker.io)`;
  return undefined;
}

const HIERARCHIES = '/sys/fs/cgroup';

function removeCgroupParent(name: string): void {
  let dirs: string[] = [];
  try {
    dirs = fs.readdirSync(HIERARCHIES).map((h) => path.join(HIERARCHIES, h, name));
  } catch {
    return;
  }
  dirs.push(path.join(HIERARCHIES, name));
  for (const d of dirs) {
    if (!fs.existsSync(d)) continue;
    // Children first (containers' cgroups), then the parent.
    spawnSync('find', [d, '-depth', '-type', 'd', '-exec', 'rmdir', '{}', ';'], { stdio: 'ignore' });
  }
}

function unmountUnder(dir: string): void {
  const lines = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const targets = lines.map((l) => l.split(' ')[4] ?? '').filter((m) => m === dir || m.startsWith(dir + '/'));
  for (const m of targets.sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
}

export async function startDockerd(opts: { netns?: Netns; bridge?: boolean } = {}): Promise<Engine> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dockerd-ref-'));
  const tag = `dref${process.pid}x${path.basename(work).slice(-6)}`;
  const ctdSock = path.join(work, 'ctd.sock');
  fs.writeFileSync(
    path.join(work, 'containerd.toml'),
    [
      'version = 2',
      `root = "${work}/ctd-root"`,
      `state = "${work}/ctd-state"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${ctdSock}"`,
      '[ttrpc]',
      `  address = "${ctdSock}.ttrpc"`,
      '',
    ].join('\n'),
  );
  const wrap = (argv: string[]) => (opts.netns ? opts.netns.wrap(argv) : argv);
  const log = fs.openSync(path.join(work, 'daemon.log'), 'a');
  const c = wrap(['/usr/bin/containerd', '--config', path.join(work, 'containerd.toml')]);
  const ctd = spawn(c[0]!, c.slice(1), { stdio: ['ignore', log, log], detached: true });
  const socket = path.join(work, 'docker.sock');
  const net = opts.netns && opts.bridge !== false ? [] : ['--iptables=false', '--bridge=none'];
  const d = wrap([
    '/usr/sbin/dockerd',
    '--data-root', path.join(work, 'data'),
    '--exec-root', path.join(work, 'exec'),
    '--pidfile', path.join(work, 'dockerd.pid'),
    '-H', `unix://${socket}`,
    '--containerd', ctdSock,
    '--containerd-namespace', tag,
    '--containerd-plugins-namespace', `${tag}p`,
    '--cgroup-parent', `/${tag}`,
    ...net,
  ]);
  // containerd must listen first; dockerd waits for it anyway, but not for ever.
  for (let i = 0; i < 200 && !fs.existsSync(ctdSock); i++) await new Promise((r) => setTimeout(r, 25));
  const dd = spawn(d[0]!, d.slice(1), { stdio: ['ignore', log, log], detached: true });
  fs.closeSync(log);
  let exited = false;
  dd.on('exit', () => (exited = true));
  const configDir = path.join(work, 'cli');
  fs.mkdirSync(configDir);
  const stop = async () => {
    await stopPid(dd.pid!, 'SIGTERM', 30_000);
    await stopPid(ctd.pid!, 'SIGTERM', 10_000);
    // Shims of containers still running (a failed test) belong to this containerd namespace only.
    const shims = spawnSync('pgrep', ['-f', `containerd-shim-runc-v2 -namespace ${tag} `], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    for (const p of shims) await stopPid(Number(p), 'SIGKILL');
    unmountUnder(work);
    removeCgroupParent(tag);
    fs.rmSync(work, { recursive: true, force: true });
  };
  try {
    await waitForPing(socket, () => !exited, 60_000);
  } catch (e) {
    const tail = fs.readFileSync(path.join(work, 'daemon.log'), 'utf8').split('\n').slice(-15).join('\n');
    await stop();
    throw new Error(`${(e as Error).message}\n${tail}`);
  }
  return { kind: 'dockerd', host: `unix://${socket}`, socket, configDir, dataRoot: path.join(work, 'data'), execRoot: path.join(work, 'exec'), netns: opts.netns, pid: dd.pid!, stop };
}
