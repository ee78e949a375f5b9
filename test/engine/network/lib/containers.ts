// Real containers in controller-made sandboxes: keel (bin/keel) runs a busybox rootfs whose spec
// joins the sandbox's netns by path and bind-mounts the generated hosts, resolv.conf and hostname,
// the way the engine will. Each helper cleans up what it made.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { baseConfig, keelBin } from '../../../../conformance/lib/runtime';
import { copyRootfs, makeBusyboxRootfs } from '../../../../conformance/lib/rootfs';

export type Files = { hosts: string; resolv: string; hostname: string };

export class Containers {
  readonly dir: string;
  readonly root: string;
  private readonly template: string;
  private readonly running = new Map<string, ChildProcess>();
  private n = 0;

  constructor() {
    this.dir = fs.mkdtempSync('/tmp/knet-ctr-');
    fs.chmodSync(this.dir, 0o755);
    this.root = path.join(this.dir, 'state');
    this.template = path.join(this.dir, 'template');
    fs.mkdirSync(this.template);
    makeBusyboxRootfs(this.template);
  }

  /** Writes a bundle whose network namespace is netnsPath and whose /etc files are the given ones. */
  bundle(netnsPath: string, args: string[], files: Files): { id: string; dir: string } {
    const id = `knet-${process.pid}-${++this.n}`;
    const dir = path.join(this.dir, id);
    fs.mkdirSync(path.join(dir, 'rootfs'), { recursive: true });
    copyRootfs(this.template, path.join(dir, 'rootfs'));
    for (const [name, content] of Object.entries({ hosts: files.hosts, 'resolv.conf': files.resolv, hostname: files.hostname })) fs.writeFileSync(path.join(dir, name), content);
    const spec = baseConfig();
    spec.process!.args = args;
    spec.hostname = files.hostname.trim();
    spec.linux!.namespaces = spec.linux!.namespaces!.map((ns) => (ns.type === 'network' ? { type: 'network', path: netnsPath } : ns));
    for (const [name, dest] of [
      ['hosts', '/etc/hosts'],
      ['resolv.conf', '/etc/resolv.conf'],
      ['hostname', '/etc/hostname'],
    ])
      spec.mounts!.push({ destination: dest, type: 'bind', source: path.join(dir, name), options: ['rbind', 'rprivate'] });
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
    return { id, dir };
  }

  /** Runs to completion; returns stdout (throws with stderr on a non-zero exit). */
  run(netnsPath: string, args: string[], files: Files): string {
    const b = this.bundle(netnsPath, args, files);
    const r = spawnSync(keelBin, ['--root', this.root, 'run', '--bundle', b.dir, b.id], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`keel run ${args.join(' ')}: exit ${r.status}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** Starts a long-running container; resolves when its stdout says ready (or at once with no marker). */
  async start(netnsPath: string, args: string[], files: Files): Promise<string> {
    const b = this.bundle(netnsPath, args, files);
    const child = spawn(keelBin, ['--root', this.root, 'run', '--bundle', b.dir, b.id], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.running.set(b.id, child);
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        const s = spawnSync(keelBin, ['--root', this.root, 'state', b.id], { encoding: 'utf8' });
        if (s.status === 0 && /"status":\s*"running"/.test(s.stdout)) {
          clearInterval(t);
          resolve();
        }
      }, 50);
      child.on('exit', (code) => {
        clearInterval(t);
        reject(new Error(`container ${b.id} exited ${code}`));
      });
    });
    return b.id;
  }

  async stop(id: string): Promise<void> {
    const child = this.running.get(id);
    this.running.delete(id);
    spawnSync(keelBin, ['--root', this.root, 'kill', id, 'KILL']);
    if (child && child.exitCode === null) await new Promise((r) => child.once('exit', r));
    spawnSync(keelBin, ['--root', this.root, 'delete', '--force', id]);
  }

  async destroy(): Promise<void> {
    for (const id of [...this.running.keys()]) await this.stop(id);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
