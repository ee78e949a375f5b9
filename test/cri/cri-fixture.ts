// A private containerd 1.6 with its CRI plugin for test/cri: runtime handlers `keel`
// (io.containerd.keel.v2, bin/ first on PATH) and `runc`, all inside a network namespace the
// fixture creates (entered with nsenter: `ip netns exec` would remount /sys and hide the cgroups);
// the CNI bridge, the pods' veths and the streaming server live there. A busybox image built
// offline is also the sandbox image; a relay joins a unix socket to the streaming server; the
// teardown removes pods, stops every process it started by pid and leaves nothing behind.
// Everything is named after the test process's pid.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildImageArchive, Containerd, pidsMatching, populateBusybox, unmountUnder } from '../shim/containerd-fixture';
import { CriClient } from './cri-client';

export const IMAGE = 'localhost/keel-cri/busybox:1';
export const HANDLERS = ['keel', 'runc'] as const;
export type Handler = (typeof HANDLERS)[number];
const STREAM_PORT = 10010;
const CGROUP_PARENT = `keelcri${process.pid}`;

/** The image's /bin/keel-init.sh: a #!/bin/sh init that leaves a marked child behind (item: hostPID). */
export const INIT_SCRIPT = '#!/bin/sh\necho init started\nsleep 7654321 &\nwait\n';

/** Runs argv and throws with its output unless it exits 0. */
export function run(argv: string[]): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr || r.stdout}`);
}

export class CriEnv {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-cri-'));
  readonly netns = `keelcri-${process.pid}`;
  readonly streamSocket = path.join(this.dir, 'stream.sock');
  readonly logRoot = path.join(this.dir, 'logs');
  readonly shimRoot = path.join(this.dir, 'keel-state');
  containerd!: Containerd;
  client!: CriClient;
  private relay: ChildProcess | undefined;
  private readonly pods = new Set<string>();
  private seq = 0;

  async start(): Promise<void> {
    run(['ip', 'netns', 'add', this.netns]);
    run(['ip', 'netns', 'exec', this.netns, 'ip', 'link', 'set', 'lo', 'up']);
    const netd = path.join(this.dir, 'net.d');
    fs.mkdirSync(netd);
    fs.mkdirSync(this.logRoot);
    fs.writeFileSync(
      path.join(netd, '10-keelcri.conflist'),
      JSON.stringify({
        cniVersion: '1.0.0',
        name: this.netns,
        plugins: [
          {
            type: 'bridge',
            bridge: 'kcri0',
            isGateway: true,
            ipMasq: false,
            ipam: { type: 'host-local', ranges: [[{ subnet: '10.213.79.0/24' }]], dataDir: path.join(this.dir, 'ipam') },
          },
        ],
      }),
    );
    const imgDir = path.join(this.dir, 'image');
    const archive = buildImageArchive(imgDir, IMAGE, (root) => {
      const list = spawnSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
      populateBusybox(root, list);
      fs.writeFileSync(path.join(root, 'bin', 'keel-init.sh'), INIT_SCRIPT, { mode: 0o755 });
      fs.mkdirSync(path.join(root, 'www'));
      fs.writeFileSync(path.join(root, 'www', 'index.html'), 'keel port-forward page\n');
    }, { Env: ['PATH=/bin'], Cmd: ['sleep', '2147483647'] });
    const cri = [
      '[plugins."io.containerd.grpc.v1.cri"]',
      `  sandbox_image = "${IMAGE}"`,
      '  restrict_oom_score_adj = true',
      '  stream_server_address = "127.0.0.1"',
      `  stream_server_port = "${STREAM_PORT}"`,
      '  [plugins."io.containerd.grpc.v1.cri".cni]',
      '    bin_dir = "/usr/lib/cni"',
      `    conf_dir = "${netd}"`,
      '  [plugins."io.containerd.grpc.v1.cri".containerd]',
      '    default_runtime_name = "runc"',
      '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
      '      runtime_type = "io.containerd.runc.v2"',
      '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.keel]',
      '      runtime_type = "io.containerd.keel.v2"',
    ].join('\n');
    fs.mkdirSync(path.join(this.dir, 's'));
    this.containerd = new Containerd(
      this.dir,
      { KEEL_SHIM_ROOT: this.shimRoot, KEEL_SHIM_SOCKET_DIR: path.join(this.dir, 's'), KEEL_SHIM_IDLE_MS: '0' },
      (process.env.KEEL_CRI_LOG ?? 'info') as 'info',
      { cri, argvPrefix: ['nsenter', `--net=/run/netns/${this.netns}`] },
    );
    await this.containerd.start();
    await this.containerd.importImage(archive, 'k8s.io');
    fs.rmSync(imgDir, { recursive: true, force: true });
    const relay = 'const n=require("net");const[s,p]=process.argv.slice(1);n.createServer(c=>{const u=n.connect(+p,"127.0.0.1");c.pipe(u);u.pipe(c);c.on("error",()=>u.destroy());u.on("error",()=>c.destroy())}).listen(s)';
    this.relay = spawn('nsenter', [`--net=/run/netns/${this.netns}`, process.execPath, '-e', relay, this.streamSocket, String(STREAM_PORT)], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !fs.existsSync(this.streamSocket); i++) await new Promise((r) => setTimeout(r, 25));
    this.client = new CriClient(this.containerd.sock);
    await this.client.call('Version', { version: 'v1' });
  }

  /** A pod sandbox config (unique name and uid) with the given namespace modes and privilege. */
  podConfig(name: string, o: { pid?: 'NODE' | 'POD' | 'CONTAINER'; privileged?: boolean } = {}): Record<string, unknown> {
    const n = `${name}-${process.pid}-${++this.seq}`;
    const logDir = path.join(this.logRoot, n);
    fs.mkdirSync(logDir);
    return {
      metadata: { name: n, uid: `uid-${n}`, namespace: 'keeltest', attempt: 0 },
      hostname: name.slice(0, 20),
      logDirectory: logDir,
      linux: {
        cgroupParent: `/${CGROUP_PARENT}`,
        securityContext: { namespaceOptions: { network: 'POD', pid: o.pid ?? 'CONTAINER', ipc: 'POD' }, privileged: o.privileged ?? false },
      },
    };
  }

  async runPod(handler: Handler, config: Record<string, unknown>): Promise<string> {
    const { podSandboxId } = await this.client.call<{ podSandboxId: string }>('RunPodSandbox', { config, runtimeHandler: handler });
    this.pods.add(podSandboxId);
    return podSandboxId;
  }

  async removePod(id: string): Promise<void> {
    await this.client.call('StopPodSandbox', { podSandboxId: id });
    await this.client.call('RemovePodSandbox', { podSandboxId: id });
    this.pods.delete(id);
  }

  /** Creates and starts a container; returns its id. */
  async runContainer(pod: string, podConfig: Record<string, unknown>, config: Record<string, unknown>): Promise<string> {
    const name = `${(config.metadata as { name?: string } | undefined)?.name ?? 'c'}`;
    const { containerId } = await this.client.call<{ containerId: string }>('CreateContainer', {
      podSandboxId: pod,
      config: { image: { image: IMAGE }, logPath: `${name}.log`, ...config, metadata: { name, attempt: 0 } },
      sandboxConfig: podConfig,
    });
    await this.client.call('StartContainer', { containerId });
    return containerId;
  }

  async status(id: string): Promise<{ state: string; exitCode: number; pid: number; logPath: string }> {
    const r = await this.client.call<{ status: { state: string; exitCode: number; logPath: string }; info: Record<string, string> }>('ContainerStatus', { containerId: id, verbose: true });
    const pid = (JSON.parse(r.info.info ?? '{}') as { pid?: number }).pid ?? 0;
    return { state: r.status.state, exitCode: r.status.exitCode, pid, logPath: r.status.logPath };
  }

  /** Polls until the container has exited. */
  async waitExited(id: string, timeoutMs = 20_000): Promise<{ exitCode: number; logPath: string }> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.status(id);
      if (s.state === 'CONTAINER_EXITED') return s;
      if (Date.now() > end) throw new Error(`container ${id} still ${s.state}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async execSync(id: string, cmd: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
    const r = await this.client.call<{ stdout: Buffer; stderr: Buffer; exitCode: number }>('ExecSync', { containerId: id, cmd, timeout: 20 });
    return { stdout: Buffer.from(r.stdout).toString(), stderr: Buffer.from(r.stderr).toString(), exitCode: r.exitCode };
  }

  /** The cgroup v1 directories (any hierarchy) that still exist below our cgroup parent. */
  leftoverCgroups(): string[] {
    const out: string[] = [];
    for (const h of fs.readdirSync('/sys/fs/cgroup')) {
      const d = path.join('/sys/fs/cgroup', h, CGROUP_PARENT);
      try {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) out.push(path.join(d, e.name));
      } catch {
        /* no such hierarchy or parent */
      }
    }
    return out;
  }

  /** Container state dirs the keel shim still holds. */
  leftoverKeelState(): string[] {
    const d = path.join(this.shimRoot, 'k8s.io');
    try {
      return fs.readdirSync(d);
    } catch {
      return [];
    }
  }

  /** The containerd log lines that match re. */
  logLines(re: RegExp): string[] {
    return fs.readFileSync(this.containerd.logFile, 'utf8').split('\n').filter((l) => re.test(l));
  }

  async stop(): Promise<void> {
    for (const id of [...this.pods]) await this.removePod(id).catch(() => undefined);
    this.client?.close();
    if (this.relay?.pid) this.relay.kill('SIGKILL');
    await this.containerd?.stop();
    // Shims of this containerd (keel's sockets and runc's -address are under our dir) and anything they left.
    for (const pid of pidsMatching(this.dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    unmountUnder(this.dir);
    for (const h of fs.existsSync('/sys/fs/cgroup') ? fs.readdirSync('/sys/fs/cgroup') : []) {
      const d = path.join('/sys/fs/cgroup', h, CGROUP_PARENT);
      if (fs.existsSync(d)) spawnSync('find', [d, '-depth', '-type', 'd', '-exec', 'rmdir', '{}', ';']);
    }
    spawnSync('ip', ['netns', 'del', this.netns]);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
