// DockCli: what every dock command shares, as the docker CLI's command.DockerCli: the three streams
// (with terminal facts), the global options, the config file, and one Engine API client (created on
// first use, after the daemon auto-start check).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tty from 'node:tty';
import { EngineClient, type ServerInfo, type TlsFiles } from '../api/client';
import { ensureDaemon, DEFAULT_HOST } from './autostart';
import { ConfigFile, configDir } from './config-file';

export type GlobalOptions = {
  config?: string;
  debug: boolean;
  logLevel: string;
  tls: boolean;
  tlsverify: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  hosts: string[];
};

/** An output stream with the facts commands need (terminal or not, its size). */
export class OutStream {
  constructor(readonly stream: NodeJS.WritableStream & { fd?: number; isTTY?: boolean; columns?: number; rows?: number }) {
    // A reader that went away (`dock ps | head -1`): end as a Go program does on SIGPIPE.
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(128 + 13);
      throw e;
    });
  }
  get isTerminal(): boolean {
    return !!(this.stream as tty.WriteStream).isTTY;
  }
  /** [rows, cols], or [0, 0] when not a terminal (moby/term GetWinsize). */
  size(): [number, number] {
    if (!this.isTerminal) return [0, 0];
    const s = this.stream as tty.WriteStream;
    return [s.rows ?? 0, s.columns ?? 0];
  }
  write(s: string | Uint8Array): boolean {
    return this.stream.write(s);
  }
}

export class InStream {
  constructor(readonly stream: NodeJS.ReadableStream & { fd?: number; isTTY?: boolean }) {}
  get isTerminal(): boolean {
    return !!(this.stream as tty.ReadStream).isTTY;
  }
  /** streams.In.CheckTty. */
  checkTty(attachStdin: boolean, ttyMode: boolean): void {
    if (ttyMode && attachStdin && !this.isTerminal) throw new Error('the input device is not a TTY');
  }
}

export type DockCliOptions = {
  in?: InStream;
  out?: OutStream;
  err?: OutStream;
  /** The version string the CLI reports (dock version X). */
  version: string;
  gitCommit: string;
  /** argv that starts `dock daemon` for auto-start (same executable). */
  daemonArgv?: string[];
};

export class DockCli {
  readonly in: InStream;
  readonly out: OutStream;
  readonly err: OutStream;
  opts: GlobalOptions = { debug: false, logLevel: 'info', tls: false, tlsverify: false, hosts: [] };
  private apiClient: EngineClient | undefined;
  private config: ConfigFile | undefined;
  private ready: Promise<void> | undefined;

  constructor(readonly o: DockCliOptions) {
    this.in = o.in ?? new InStream(process.stdin);
    this.out = o.out ?? new OutStream(process.stdout);
    this.err = o.err ?? new OutStream(process.stderr);
  }

  get version(): string {
    return this.o.version;
  }
  get gitCommit(): string {
    return this.o.gitCommit;
  }

  configFile(): ConfigFile {
    this.config ??= new ConfigFile(configDir(this.opts.config));
    return this.config;
  }

  /** The daemon host: -H (only one), else DOCKER_HOST, else dock's default socket. */
  host(): { host: string; explicit: boolean } {
    if (this.opts.hosts.length > 1) throw new Error('Specify only one -H');
    const h = this.opts.hosts[0] || process.env.DOCKER_HOST;
    if (h) return { host: h, explicit: true };
    return { host: DEFAULT_HOST, explicit: false };
  }

  private tlsFiles(): TlsFiles | undefined {
    const tlsEnv = !!process.env.DOCKER_TLS || !!process.env.DOCKER_TLS_VERIFY;
    const verify = this.opts.tlsverify || !!process.env.DOCKER_TLS_VERIFY;
    if (!(this.opts.tls || verify || tlsEnv)) return undefined;
    const dir = process.env.DOCKER_CERT_PATH || configDir(this.opts.config);
    const pick = (flag: string | undefined, file: string) => {
      if (flag) return flag;
      const p = path.join(dir, file);
      return fs.existsSync(p) ? p : undefined;
    };
    const ca = pick(this.opts.tlscacert, 'ca.pem');
    const cert = pick(this.opts.tlscert, 'cert.pem');
    const key = pick(this.opts.tlskey, 'key.pem');
    return { ...(ca && verify ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), verify };
  }

  /** The Engine API client; the first call may start the daemon (see autostart.ts). */
  async client(): Promise<EngineClient> {
    if (!this.apiClient) {
      const { host, explicit } = this.host();
      const tls = this.tlsFiles();
      this.apiClient = new EngineClient({
        host,
        ...(tls ? { tls } : {}),
        ...(process.env.DOCKER_API_VERSION ? { apiVersion: process.env.DOCKER_API_VERSION } : {}),
        userAgent: `dock-client/${this.version} (linux)`,
      });
      if (!explicit && this.o.daemonArgv) this.ready = ensureDaemon(this.apiClient, this.o.daemonArgv, (s) => this.err.write(s));
    }
    if (this.ready) await this.ready;
    return this.apiClient;
  }

  /** The server's /_ping facts (OSType drives --device parsing, as in the docker CLI). */
  async serverInfo(): Promise<ServerInfo> {
    return (await this.client()).serverInfo();
  }

  close(): void {
    this.apiClient?.close();
  }
}
