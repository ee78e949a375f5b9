// A private containerd 1.6 for the shim tests and bench: its own root, state, sockets and config
// (no CRI, nothing that needs the network), a busybox image built offline from the host's static
// /bin/busybox and imported with ctr, and a teardown that stops it by pid and removes everything.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const shimBinDir = path.join(repoRoot, 'bin');
export const IMAGE = 'docker.io/library/busybox:keel';
export const NS = 'keeltest';

const applets = ['sh', 'true', 'false', 'sleep', 'cat', 'echo', 'ls', 'ps', 'env', 'id', 'head', 'tty', 'stty', 'wc', 'dd', 'yes', 'kill', 'grep', 'hostname'];

/** Installs containerd with apt when it is missing (the only network use, via Debian's client). */
export function ensureContainerd(): boolean {
  if (fs.existsSync('/usr/bin/containerd') && fs.existsSync('/usr/bin/ctr')) return true;
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'containerd'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return r.status === 0 && fs.existsSync('/usr/bin/containerd');
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Writes an OCI image archive with one uncompressed layer: /bin/busybox plus applet symlinks. */
export function buildBusyboxImage(dir: string): string {
  return buildImageArchive(dir, IMAGE, (root) => populateBusybox(root, applets), { Env: ['PATH=/bin'], Cmd: ['sh'] });
}

/** A root with /bin/busybox (the host's static one), the given applet symlinks and a passwd file. */
export function populateBusybox(root: string, names: string[]): void {
  fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
  for (const d of ['proc', 'sys', 'dev', 'tmp', 'etc']) fs.mkdirSync(path.join(root, d), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(root, 'bin', 'busybox'));
  fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
  for (const a of names) if (a !== 'busybox') fs.symlinkSync('busybox', path.join(root, 'bin', a));
  fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
}

/**
 * Writes an OCI image archive named `name` (for `ctr images import`) with one uncompressed layer,
 * the directory that populate fills, and the given image config.
 */
export function buildImageArchive(dir: string, name: string, populate: (root: string) => void, imageConfig: object): string {
  const root = path.join(dir, 'layer-root');
  fs.mkdirSync(root, { recursive: true });
  populate(root);
  const layerTar = path.join(dir, 'layer.tar');
  const t = spawnSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', root, '-cf', layerTar, '.']);
  if (t.status !== 0) throw new Error(`tar: ${t.stderr}`);
  const layer = fs.readFileSync(layerTar);
  const layerDigest = sha256(layer);
  const config = Buffer.from(
    JSON.stringify({
      architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
      os: 'linux',
      config: imageConfig,
      rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha256(config)}`, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${layerDigest}`, size: layer.length }],
    }),
  );
  const oci = path.join(dir, 'oci');
  const blobs = path.join(oci, 'blobs', 'sha256');
  fs.mkdirSync(blobs, { recursive: true });
  for (const b of [layer, config, manifest]) fs.writeFileSync(path.join(blobs, sha256(b)), b);
  fs.writeFileSync(path.join(oci, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(
    path.join(oci, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: `sha256:${sha256(manifest)}`,
          size: manifest.length,
          annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.slice(name.lastIndexOf(':') + 1) },
        },
      ],
    }),
  );
  const archive = path.join(dir, 'image-oci.tar');
  const t2 = spawnSync('tar', ['-C', oci, '-cf', archive, '.']);
  if (t2.status !== 0) throw new Error(`tar: ${t2.stderr}`);
  return archive;
}

export type CtrResult = { code: number; stdout: string; stderr: string };

export class Containerd {
  proc: ChildProcess | undefined;
  readonly sock: string;
  readonly root: string;
  readonly state: string;
  readonly config: string;
  readonly logFile: string;

  /**
   * opts.cri: a TOML fragment that configures the CRI plugin (which is otherwise disabled);
   * opts.argvPrefix: run containerd through it (e.g. `ip netns exec NS`).
   */
  constructor(
    readonly dir: string,
    readonly env: Record<string, string> = {},
    logLevel: 'debug' | 'info' = 'debug',
    private readonly opts: { cri?: string; argvPrefix?: string[] } = {},
  ) {
    this.sock = path.join(dir, 'c.sock');
    this.root = path.join(dir, 'root');
    this.state = path.join(dir, 'state');
    this.config = path.join(dir, 'config.toml');
    this.logFile = path.join(dir, 'containerd.log');
    fs.writeFileSync(
      this.config,
      [
        'version = 2',
        `root = "${this.root}"`,
        `state = "${this.state}"`,
        `disabled_plugins = [${opts.cri ? '' : '"io.containerd.grpc.v1.cri", '}"io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]`,
        '[grpc]',
        `  address = "${this.sock}"`,
        '[ttrpc]',
        `  address = "${this.sock}.ttrpc"`,
        '[debug]',
        `  level = "${logLevel}"`,
        `[plugins."io.containerd.internal.v1.opt"]`,
        `  path = "${path.join(dir, 'opt')}"`,
        opts.cri ?? '',
        '',
      ].join('\n'),
    );
  }

  /** Starts containerd and waits until its socket answers. */
  async start(): Promise<void> {
    const log = fs.openSync(this.logFile, 'a');
    const argv = [...(this.opts.argvPrefix ?? []), '/usr/bin/containerd', '--config', this.config];
    this.proc = spawn(argv[0]!, argv.slice(1), {
      stdio: ['ignore', log, log],
      env: { ...process.env, PATH: `${shimBinDir}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`, ...this.env },
    });
    fs.closeSync(log);
    for (let i = 0; i < 200; i++) {
      if (this.proc.exitCode !== null) throw new Error(`containerd exited: ${fs.readFileSync(this.logFile, 'utf8').slice(-2000)}`);
      if (await connects(this.sock)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('containerd did not come up');
  }

  /** Stops containerd (SIGTERM, then SIGKILL) by pid; running shims and containers are left alone. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  }

  /** Runs ctr against this daemon (asynchronously: ctr waits on the event loop we share with containerd's child handle). */
  ctr(args: string[], opts: { ns?: string; input?: string; timeoutMs?: number } = {}): Promise<CtrResult> {
    return new Promise((resolve) => {
      const c = spawn('/usr/bin/ctr', ['-a', this.sock, '-n', opts.ns ?? NS, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (d) => (stdout += d));
      c.stderr.on('data', (d) => (stderr += d));
      const t = setTimeout(() => c.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
      c.on('close', (code, sig) => {
        clearTimeout(t);
        resolve({ code: code ?? 128 + (sig === 'SIGKILL' ? 9 : 15), stdout, stderr });
      });
      // ctr may exit before reading its stdin (a kill of a task already gone): that EPIPE is no failure.
      c.stdin.on('error', () => undefined);
      c.stdin.end(opts.input ?? '');
    });
  }

  /** ctr that must succeed. */
  async ctrOk(args: string[], opts: { ns?: string; input?: string; timeoutMs?: number } = {}): Promise<string> {
    const r = await this.ctr(args, opts);
    if (r.code !== 0) throw new Error(`ctr ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  async importImage(archive: string, ns = NS): Promise<void> {
    await this.ctrOk(['images', 'import', '--no-unpack=false', archive], { ns });
    await this.ctrOk(['images', 'ls', '-q'], { ns });
  }

  /** Bundle directory of a task. */
  bundle(id: string, ns = NS): string {
    return path.join(this.state, 'io.containerd.runtime.v2.task', ns, id);
  }
}

function connects(p: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(p);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Unmounts everything under dir (deepest first), for teardown after a failed test. */
export function unmountUnder(dir: string): void {
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(dir + '/')))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m]);
}

/** Pids whose cmdline mentions needle (to find shims of a fixture by its socket path). */
export function pidsMatching(needle: string): number[] {
  const out: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (cmd.includes(needle)) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * The shim daemons among pidsMatching(needle). A process the daemon has forked or cloned but that
 * has not exec'd yet shows the daemon's cmdline: a runc it is starting (a child of a match), or,
 * in-process, a container init still in keel's child code (named rt:init / rt:join, possibly
 * parented elsewhere). Neither is counted.
 */
export function daemonsMatching(needle: string): number[] {
  const pids = pidsMatching(needle);
  const set = new Set(pids);
  return pids.filter((p) => {
    try {
      const status = fs.readFileSync(`/proc/${p}/status`, 'utf8');
      const name = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '';
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      return !name.startsWith('rt:') && !set.has(ppid);
    } catch {
      return false; /* gone: it was a short-lived child */
    }
  });
}

/** "pid name ppid=N" for each pid, for assertion messages. */
export function describePids(pids: number[]): string {
  return pids
    .map((p) => {
      try {
        const st = fs.readFileSync(`/proc/${p}/status`, 'utf8');
        return `${p} ${/^Name:\s+(.*)$/m.exec(st)?.[1]} ppid=${/^PPid:\s+(\d+)/m.exec(st)?.[1]}`;
      } catch {
        return `${p} (gone)`;
      }
    })
    .join(', ');
}
