// `run` and `create`: flags → create body (opts/container.ts), create with auto-pull on 404, then for
// run: attach (hijack) before start, wait headers before start, start, resize, exit status from wait
// (docker/cli container/run.go and create.go, including exit codes 125/126/127).
import * as fs from 'node:fs';
import type * as http from 'node:http';
import { ApiError, readAll, type EngineClient } from '../../api/client';
import type { DockCli } from '../cli';
import { minArgs, StatusError, type Command, type CommandSpec } from '../command';
import { encodeAuth } from '../config-file';
import { errorText, withHelp } from '../execute';
import type { FlagSet } from '../flags';
import { forwardSignals, monitorTtySize, streamHijacked } from '../hijack';
import { displayJsonStream, sinkOf } from '../jsonmessage';
import { addCreateFlags, buildCreateBody, type CreateBody } from '../opts/container';
import { familiarString, parseNormalized, parseReference, formatReference } from '../../images/reference';
import { esc } from './common';
import { authFor } from './registry';

function validatePull(v: string): void {
  if (!['always', 'missing', 'never', ''].includes(v)) throw new Error(`invalid pull option: '${v}': must be one of "always", "missing" or "never"`);
}

/** Proxy variables from config.json "proxies" (ParseProxyConfig), then the user's -e values. */
function envWithProxies(cli: DockCli, env: string[], host: string): string[] {
  const m = new Map<string, string | null>();
  for (const e of env) {
    const i = e.indexOf('=');
    m.set(i >= 0 ? e.slice(0, i) : e, i >= 0 ? e.slice(i + 1) : null);
  }
  const proxies = cli.configFile().value<Record<string, Record<string, string>>>('proxies');
  const p = proxies?.[host] ?? proxies?.default;
  if (p) {
    const pairs: [string, string | undefined][] = [
      ['HTTP_PROXY', p.httpProxy],
      ['HTTPS_PROXY', p.httpsProxy],
      ['NO_PROXY', p.noProxy],
      ['FTP_PROXY', p.ftpProxy],
      ['ALL_PROXY', p.allProxy],
    ];
    for (const [k, v] of pairs) {
      if (!v) continue;
      if (!m.has(k)) m.set(k, v);
      if (!m.has(k.toLowerCase())) m.set(k.toLowerCase(), v);
    }
  }
  return [...m].map(([k, v]) => (v === null ? k : `${k}=${v}`));
}

/** Parses flags into the create body, mapping errors to docker's exit-125 usage error. */
async function parseCreate(cli: DockCli, cmd: Command<DockCli>, f: FlagSet, args: string[], verb: string): Promise<CreateBody> {
  try {
    validatePull(f.get<string>('pull'));
  } catch (e) {
    throw new StatusError(withHelp(cmd, e).replace(`'${cmd.path} --help'`, `'${cmd.root.name} ${verb} --help'`), 125);
  }
  const client = await cli.client();
  const info = await client.serverInfo();
  const version = await client.apiVersion();
  const envFlag = f.lookup('env')!.value as unknown as { values: string[] };
  envFlag.values.splice(0, envFlag.values.length, ...envWithProxies(cli, envFlag.values, cli.host().host));
  try {
    return buildCreateBody(f, args[0]!, args.slice(1), info.osType, version);
  } catch (e) {
    throw new StatusError(`${cmd.root.name}: ${errorText(e)}\n\nRun '${cmd.root.name} ${verb} --help' for more information`, 125);
  }
}

async function pullImage(cli: DockCli, client: EngineClient, image: string, platform: string, quiet: boolean): Promise<void> {
  const ref = parseNormalized(image);
  const res = await client.request('POST', '/images/create', {
    query: { fromImage: formatReference({ domain: ref.domain, path: ref.path }), tag: ref.digest ?? ref.tag ?? 'latest', ...(platform ? { platform } : {}) },
    headers: { 'X-Registry-Auth': encodeAuth(authFor(cli, ref.domain)) },
  });
  const sink = quiet ? { write: () => true, isTerminal: false } : sinkOf(cli.err);
  await displayJsonStream(res, sink);
}

/** createContainer: cidfile, pull policy, create (retrying after a pull on 404), warnings. */
export async function createContainer(cli: DockCli, f: FlagSet, body: CreateBody): Promise<string> {
  const client = await cli.client();
  const cidPath = body.HostConfig.ContainerIDFile as string;
  if (cidPath) {
    if (fs.existsSync(cidPath)) throw new Error(`container ID file found, make sure the other container isn't running or delete ${cidPath}`);
    try {
      fs.writeFileSync(cidPath, '');
    } catch (e) {
      throw new Error(`failed to create the container ID file: ${(e as Error).message}`);
    }
  }
  let written = false;
  try {
    const image = body.Config.Image as string;
    let named: string | undefined;
    try {
      const r = parseNormalized(image);
      named = familiarString(parseReference(image));
      void r;
    } catch (e) {
      if (!/^[a-f0-9]{64}$/.test(image) && !/^sha256:[a-f0-9]{64}$/.test(image)) throw e;
    }
    const pull = f.get<string>('pull');
    const quiet = f.get<boolean>('quiet');
    const platform = f.get<string>('platform');
    if (pull === 'always') await pullImage(cli, client, image, platform, quiet);
    const [rows, cols] = cli.out.size();
    body.HostConfig.ConsoleSize = [rows, cols];
    const name = f.get<string>('name');
    const query = { ...(platform ? { platform } : {}), ...(name ? { name } : {}) };
    const create = () => client.json<{ Id: string; Warnings?: string[] | null }>('POST', '/containers/create', { query, body: { ...body.Config, HostConfig: body.HostConfig, NetworkingConfig: body.NetworkingConfig } });
    let resp: { Id: string; Warnings?: string[] | null };
    try {
      resp = await create();
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404 && named !== undefined && pull === 'missing')) throw e;
      if (!quiet) cli.err.write(`Unable to find image '${named}' locally\n`);
      await pullImage(cli, client, image, platform, quiet);
      resp = await create();
    }
    const warnings = [...(resp.Warnings ?? [])];
    for (const dns of (body.HostConfig.Dns as string[]) ?? []) {
      if (/^127\./.test(dns) || dns === '::1') {
        warnings.push(`Localhost DNS (${dns}) may fail in containers.`);
        break;
      }
    }
    for (const w of warnings) cli.err.write(`WARNING: ${w}\n`);
    if (cidPath) {
      fs.writeFileSync(cidPath, resp.Id);
      written = true;
    }
    return resp.Id;
  } finally {
    if (cidPath && !written) fs.rmSync(cidPath, { force: true });
  }
}

/** toStatusError: 127 for a missing executable, 126 for one that cannot run, else 125. */
export function runStatusError(cmd: Command<DockCli>, e: unknown): StatusError {
  const msg = errorText(e);
  const text = `${cmd.root.name}: ${msg}\n\nRun '${cmd.root.name} run --help' for more information`;
  if (/executable file not found|no such file or directory|system cannot find the file specified/.test(msg)) return new StatusError(text, 127, { cause: e });
  if (/permission denied|is a directory/.test(msg)) return new StatusError(text, 126, { cause: e });
  return new StatusError(text, 125, { cause: e });
}

/**
 * POST /containers/{id}/wait; resolves once the reply headers arrived (docker waits for them before
 * start) with a promise of the status code, settled when the body ends.
 */
export async function waitExit(client: EngineClient, id: string, condition: string): Promise<{ status: Promise<number> }> {
  const res: http.IncomingMessage = await client.request('POST', `/containers/${esc(id)}/wait`, { query: condition ? { condition } : {} });
  const status = readAll(res).then(
    (b) => {
      const j = JSON.parse(b.toString() || '{}') as { StatusCode?: number; Error?: { Message?: string } | null };
      if (j.Error?.Message) {
        process.stderr.write(`Error waiting for container: ${j.Error.Message}\n`);
        return 125;
      }
      return j.StatusCode ?? 0;
    },
    () => 125,
  );
  return { status };
}

export function attachQuery(o: { stdin: boolean; stdout: boolean; stderr: boolean; detachKeys?: string }): Record<string, string | undefined> {
  return { ...(o.detachKeys ? { detachKeys: o.detachKeys } : {}), ...(o.stderr ? { stderr: '1' } : {}), ...(o.stdin ? { stdin: '1' } : {}), ...(o.stdout ? { stdout: '1' } : {}), stream: '1' };
}

async function runRun(cli: DockCli, cmd: Command<DockCli>, f: FlagSet, args: string[]): Promise<number> {
  const body = await parseCreate(cli, cmd, f, args, 'run');
  const config = body.Config;
  const detach = f.get<boolean>('detach');
  const client = await cli.client();
  if (!detach) {
    cli.in.checkTty(config.AttachStdin as boolean, config.Tty as boolean);
  } else {
    if (f.get<string[]>('attach').length) throw new Error('conflicting options: cannot specify both --attach and --detach');
    Object.assign(config, { AttachStdin: false, AttachStdout: false, AttachStderr: false, StdinOnce: false });
  }
  let id: string;
  try {
    id = await createContainer(cli, f, body);
  } catch (e) {
    throw runStatusError(cmd, e);
  }
  const stopSignals = f.get<boolean>('sig-proxy') ? forwardSignals(cli, client, id) : () => {};
  try {
    const attach = !!(config.AttachStdin || config.AttachStdout || config.AttachStderr);
    if (!attach) cli.out.write(`${id}\n`);
    const detachKeys = f.get<string>('detach-keys') || cli.configFile().detachKeys;
    let session: Promise<'done' | 'detached'> | undefined;
    let socket: import('node:net').Socket | undefined;
    if (attach) {
      const q = { stdin: !!config.AttachStdin, stdout: !!config.AttachStdout, stderr: !!config.AttachStderr, detachKeys };
      socket = await client.hijack('POST', `/containers/${esc(id)}/attach`, { query: attachQuery(q) });
      session = streamHijacked(cli, { socket, tty: !!config.Tty, stdin: q.stdin, stdout: q.stdout, stderr: q.stderr, detachKeys });
    }
    const autoRemove = !!body.HostConfig.AutoRemove;
    const { status } = await waitExit(client, id, autoRemove ? 'removed' : 'next-exit');
    try {
      (await client.request('POST', `/containers/${esc(id)}/start`)).resume();
    } catch (e) {
      socket?.destroy();
      if (autoRemove) await status;
      throw runStatusError(cmd, e);
    }
    if (!attach) return 0;
    let stopResize = () => {};
    if (config.Tty && cli.out.isTerminal) stopResize = monitorTtySize(cli, client, id, false);
    try {
      const how = await Promise.race([session!, status.then(() => 'exited' as const)]);
      if (how === 'detached') return 0;
      if (how === 'exited' && !config.AttachStdout && !config.AttachStderr) socket?.destroy();
      if (how === 'exited') await session!.catch(() => 'done');
      return await status;
    } finally {
      stopResize();
    }
  } finally {
    stopSignals();
  }
}

export function runCommand(): CommandSpec<DockCli> {
  return {
    use: 'run [OPTIONS] IMAGE [COMMAND] [ARG...]',
    short: 'Create and run a new container from an image',
    aliasPaths: ['container run', 'run'],
    categoryTop: 1,
    args: minArgs(1),
    interspersed: false,
    flags: (f) => {
      f.bool('detach', 'd', false, 'Run container in background and print container ID');
      f.bool('sig-proxy', '', true, 'Proxy received signals to the process');
      f.string('detach-keys', '', '', 'Override the key sequence for detaching a container');
      addCreateFlags(f, 'run');
      f.interspersed = false;
    },
    run: async ({ cli, cmd, flags, args }) => runRun(cli, cmd, flags, args),
  };
}

export function createCommand(): CommandSpec<DockCli> {
  return {
    use: 'create [OPTIONS] IMAGE [COMMAND] [ARG...]',
    short: 'Create a new container',
    aliasPaths: ['container create', 'create'],
    args: minArgs(1),
    flags: (f) => {
      addCreateFlags(f, 'create');
      f.interspersed = false;
    },
    run: async ({ cli, cmd, flags, args }) => {
      const body = await parseCreate(cli, cmd, flags, args, 'create');
      const id = await createContainer(cli, flags, body);
      cli.out.write(`${id}\n`);
    },
  };
}
