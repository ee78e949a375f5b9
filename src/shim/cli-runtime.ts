// CliRuntime: runs a runc-compatible binary (runc, bin/keel) with the exact argv of containerd's
// runc shim (go-runc): `--root R --log <bundle>/log.json --log-format json <verb> …`. Every child
// is started through the shim's Reaper, never child_process (see reaper.ts).
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { RuntimeError, type ErrorKind } from '../errors/index';
import type { Logger } from '../log/index';
import type { ShimSys } from '../native/index';
import type { Reaper } from './reaper';
import type { CreateRequest, ExecRequest, Runtime } from './runtime';

type Out = { status: number; output: string };

export class CliRuntime implements Runtime {
  readonly name: string;

  constructor(
    private readonly binary: string,
    private readonly root: string,
    private readonly reaper: Reaper,
    private readonly sys: Pick<ShimSys, 'pipe'>,
    private readonly log: Logger,
    private readonly opts: { systemdCgroup?: boolean } = {},
  ) {
    this.name = path.basename(binary);
  }

  private globals(logFile: string): string[] {
    const g = ['--root', this.root, '--log', logFile, '--log-format', 'json'];
    if (this.opts.systemdCgroup) g.push('--systemd-cgroup');
    return g;
  }

  /** Runs the binary with the process's own stdio fds (create, exec): errors come from log.json. */
  private async runWithIO(verb: string, bundle: string, args: string[], fds: [number, number, number]): Promise<void> {
    const logFile = path.join(bundle, 'log.json');
    const argv = [this.binary, ...this.globals(logFile), ...args];
    const t0 = Date.now();
    const child = this.reaper.spawn({ argv, cwd: bundle, stdio: fds });
    const exit = await child.exited;
    this.log.debug({ argv: argv.slice(1), ms: Date.now() - t0, status: exit.status }, 'runtime invocation');
    if (exit.status !== 0) {
      const msg = lastRuntimeError(logFile) ?? `${this.name} ${verb} exited with status ${exit.status}`;
      throw new RuntimeError(kindOfMessage(msg), `OCI runtime ${verb} failed: ${msg}`);
    }
  }

  /** Runs a command without I/O and returns its combined stdout+stderr, as go-runc does. */
  private async run(args: string[], logDir?: string): Promise<Out> {
    const logFile = path.join(logDir ?? this.root, 'log.json');
    const argv = [this.binary, ...this.globals(logFile), ...args];
    const [r, w] = this.sys.pipe();
    const t0 = Date.now();
    let child;
    try {
      child = this.reaper.spawn({ argv, stdio: [-1, w, w] });
    } finally {
      fs.closeSync(w);
    }
    const chunks: Buffer[] = [];
    const sock = new net.Socket({ fd: r, readable: true, writable: false });
    const eof = new Promise<void>((resolve) => {
      sock.on('data', (c: Buffer) => chunks.push(c));
      sock.on('end', resolve);
      sock.on('error', () => resolve());
      sock.on('close', () => resolve());
    });
    const [exit] = await Promise.all([child.exited, eof]);
    sock.destroy();
    const output = Buffer.concat(chunks).toString().trim();
    this.log.debug({ argv: argv.slice(1), ms: Date.now() - t0, status: exit.status }, 'runtime invocation');
    return { status: exit.status, output };
  }

  private async must(verb: string, args: string[]): Promise<string> {
    const out = await this.run(args);
    if (out.status !== 0) {
      const text = out.output.split('\n').filter((l) => !l.startsWith('{')).join(' ').trim() || `exit status ${out.status}`;
      throw new RuntimeError(kindOfMessage(text), `${verb}: ${text}`);
    }
    return out.output;
  }

  async create(req: CreateRequest): Promise<number> {
    const args = ['create', '--bundle', req.bundle, '--pid-file', req.pidFile];
    if (req.io.consoleSocket) args.push('--console-socket', req.io.consoleSocket);
    if (req.noPivot) args.push('--no-pivot');
    if (req.noNewKeyring) args.push('--no-new-keyring');
    args.push(req.id);
    await this.runWithIO('create', req.bundle, args, req.io.fds);
    return readPid(req.pidFile);
  }

  async start(id: string): Promise<void> {
    await this.must('OCI runtime start failed', ['start', id]);
  }

  async exec(req: ExecRequest): Promise<number> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-shim-process-'));
    const processFile = path.join(dir, 'process.json');
    fs.writeFileSync(processFile, req.processJson);
    try {
      const bundle = path.dirname(req.pidFile);
      const args = ['exec', '--process', processFile];
      if (req.io.consoleSocket) args.push('--console-socket', req.io.consoleSocket);
      args.push('--detach', '--pid-file', req.pidFile, req.id);
      await this.runWithIO('exec', bundle, args, req.io.fds);
      return readPid(req.pidFile);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  async kill(id: string, signal: number, all: boolean): Promise<void> {
    await this.must('OCI runtime kill failed', ['kill', ...(all ? ['--all'] : []), id, String(signal)]);
  }

  async delete(id: string, force: boolean): Promise<void> {
    const out = await this.run(['delete', ...(force ? ['--force'] : []), id]);
    if (out.status !== 0 && !out.output.includes('does not exist')) throw new RuntimeError(kindOfMessage(out.output), `OCI runtime delete failed: ${out.output}`);
  }

  async pause(id: string): Promise<void> {
    await this.must('OCI runtime pause failed', ['pause', id]);
  }

  async resume(id: string): Promise<void> {
    await this.must('OCI runtime resume failed', ['resume', id]);
  }

  async ps(id: string): Promise<number[]> {
    const out = await this.must('OCI runtime ps failed', ['ps', '--format', 'json', id]);
    const last = out.split('\n').filter((l) => l.startsWith('[') || l === 'null').pop() ?? 'null';
    return (JSON.parse(last) as number[] | null) ?? [];
  }

  async update(id: string, resourcesJson: string): Promise<void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-shim-update-'));
    try {
      const f = path.join(dir, 'resources.json');
      fs.writeFileSync(f, resourcesJson);
      await this.must('OCI runtime update failed', ['update', '--resources', f, id]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** go-runc reads the pid file with Atoi; so do we. */
export function readPid(file: string): number {
  const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0) throw new RuntimeError('Internal', `invalid pid in ${file}`);
  return pid;
}

/** The last `level: error` message of a runc JSON log, as containerd's getLastRuntimeError picks it. */
export function lastRuntimeError(logFile: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(logFile, 'utf8');
  } catch {
    return undefined;
  }
  let msg: string | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const rec = JSON.parse(line) as { level?: string; msg?: string };
      if (rec.level === 'error' && rec.msg) msg = rec.msg.trim();
    } catch {
      /* a torn line */
    }
  }
  return msg;
}

/** containerd's checkKillError and errdefs matching, by runc's wording. */
function kindOfMessage(msg: string): ErrorKind {
  if (/does not exist|not found|no such/i.test(msg)) return 'NotFound';
  if (/not running|process already finished/i.test(msg)) return 'NotFound';
  if (/already exists/i.test(msg)) return 'AlreadyExists';
  if (/cannot|not stopped|is paused|not paused/i.test(msg)) return 'FailedPrecondition';
  return 'Internal';
}
