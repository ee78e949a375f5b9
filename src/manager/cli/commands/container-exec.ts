// `exec` and `attach` (docker/cli container/exec.go, attach.go): exec create → start (hijacked, the
// JSON body inside the upgraded stream) → resize → one exec inspect for the exit code; attach waits
// on the container (wait with no condition) and streams until the output ends or detach.
import { readAll } from '../../api/client';
import type { DockCli } from '../cli';
import { exactArgs, minArgs, StatusError, type CommandSpec } from '../command';
import { forwardSignals, monitorTtySize, streamHijacked } from '../hijack';
import { readKvStrings, validateEnv } from '../opts/validate';
import { esc } from './common';
import { attachQuery } from './run';

export function execCommand(): CommandSpec<DockCli> {
  return {
    use: 'exec [OPTIONS] CONTAINER COMMAND [ARG...]',
    short: 'Execute a command in a running container',
    aliasPaths: ['container exec', 'exec'],
    categoryTop: 2,
    args: minArgs(2),
    flags: (f) => {
      f.interspersed = false;
      f.string('detach-keys', '', '', 'Override the key sequence for detaching a container');
      f.bool('interactive', 'i', false, 'Keep STDIN open even if not attached');
      f.bool('tty', 't', false, 'Allocate a pseudo-TTY');
      f.bool('detach', 'd', false, 'Detached mode: run command in the background');
      f.string('user', 'u', '', 'Username or UID (format: "<name|uid>[:<group|gid>]")');
      f.bool('privileged', '', false, 'Give extended privileges to the command');
      f.list('env', 'e', 'Set environment variables', validateEnv);
      f.list('env-file', '', 'Read in a file of environment variables');
      f.string('workdir', 'w', '', 'Working directory inside the container');
    },
    run: async ({ cli, flags, args }) => {
      const detach = flags.get<boolean>('detach');
      const tty = flags.get<boolean>('tty');
      const env = readKvStrings(flags.get<string[]>('env-file'), flags.get<string[]>('env'), true);
      const attachStdin = !detach && flags.get<boolean>('interactive');
      const body: Record<string, unknown> = {
        User: flags.get<string>('user'),
        Privileged: flags.get<boolean>('privileged'),
        Tty: tty,
      };
      if (tty) body.ConsoleSize = cli.out.size();
      Object.assign(body, {
        AttachStdin: attachStdin,
        AttachStderr: !detach,
        AttachStdout: !detach,
        Detach: detach,
        DetachKeys: flags.get<string>('detach-keys') || cli.configFile().detachKeys,
        Env: env.length ? env : null,
        WorkingDir: flags.get<string>('workdir'),
        Cmd: args.slice(1),
      });
      const client = await cli.client();
      (await client.request('GET', `/containers/${esc(args[0]!)}/json`)).resume();
      if (!detach) cli.in.checkTty(attachStdin, tty);
      const r = await client.json<{ Id: string }>('POST', `/containers/${esc(args[0]!)}/exec`, { body });
      if (!r?.Id) throw new Error('exec ID empty');
      const startBody: Record<string, unknown> = { Detach: detach, Tty: tty };
      if (tty) startBody.ConsoleSize = cli.out.size();
      if (detach) {
        (await client.request('POST', `/exec/${esc(r.Id)}/start`, { body: startBody })).resume();
        return;
      }
      const socket = await client.hijack('POST', `/exec/${esc(r.Id)}/start`, { body: startBody });
      const session = streamHijacked(cli, { socket, tty, stdin: attachStdin, stdout: true, stderr: true, detachKeys: body.DetachKeys as string });
      const stopResize = tty && cli.in.isTerminal ? monitorTtySize(cli, client, r.Id, true) : () => {};
      try {
        // docker's exec and attach report a detach as the EscapeError "read escape sequence" (exit 1).
        if ((await session) === 'detached') throw new Error('read escape sequence');
      } finally {
        stopResize();
      }
      try {
        const res = await client.request('GET', `/exec/${esc(r.Id)}/json`);
        const j = JSON.parse((await readAll(res)).toString()) as { ExitCode?: number };
        return j.ExitCode ?? 0;
      } catch (e) {
        if ((e as { kind?: string }).kind === 'Unavailable') throw new StatusError('', -1);
        throw e;
      }
    },
  };
}

type Inspect = { Id: string; Config: { Tty: boolean; OpenStdin: boolean }; State: { Running: boolean; Paused: boolean; Restarting: boolean } };

function checkState(c: Inspect): void {
  if (!c.State.Running) throw new Error('You cannot attach to a stopped container, start it first');
  if (c.State.Paused) throw new Error('You cannot attach to a paused container, unpause it first');
  if (c.State.Restarting) throw new Error('You cannot attach to a restarting container, wait until it is running');
}

export function attachCommand(): CommandSpec<DockCli> {
  return {
    use: 'attach [OPTIONS] CONTAINER',
    short: 'Attach local standard input, output, and error streams to a running container',
    aliasPaths: ['container attach', 'attach'],
    args: exactArgs(1),
    flags: (f) => {
      f.bool('no-stdin', '', false, 'Do not attach STDIN');
      f.bool('sig-proxy', '', true, 'Proxy all received signals to the process');
      f.string('detach-keys', '', '', 'Override the key sequence for detaching a container');
    },
    run: async ({ cli, flags, args }) => {
      const client = await cli.client();
      const name = args[0]!;
      // The wait is registered first, so that an exit during attach is not missed.
      const waitRes = client.request('POST', `/containers/${esc(name)}/wait`);
      waitRes.catch(() => undefined);
      const path = `/containers/${esc(name)}/json`;
      const c = await client.json<Inspect>('GET', path);
      checkState(c);
      const noStdin = flags.get<boolean>('no-stdin');
      cli.in.checkTty(!noStdin, c.Config.Tty);
      const detachKeys = flags.get<string>('detach-keys') || cli.configFile().detachKeys;
      const stdin = !noStdin && c.Config.OpenStdin;
      const stopSignals = flags.get<boolean>('sig-proxy') && !c.Config.Tty ? forwardSignals(cli, client, name) : () => {};
      try {
        const socket = await client.hijack('POST', `/containers/${esc(name)}/attach`, { query: attachQuery({ stdin, stdout: true, stderr: true, detachKeys }) });
        try {
          checkState(await client.json<Inspect>('GET', path));
        } catch (e) {
          socket.destroy();
          throw e;
        }
        const stopResize = c.Config.Tty && cli.out.isTerminal ? monitorTtySize(cli, client, name, false, true) : () => {};
        let how: string;
        try {
          how = await streamHijacked(cli, { socket, tty: c.Config.Tty, stdin, stdout: true, stderr: true, detachKeys });
        } finally {
          stopResize();
        }
        if (how === 'detached') throw new Error('read escape sequence');
        const j = JSON.parse((await readAll(await waitRes)).toString() || '{}') as { StatusCode?: number; Error?: { Message?: string } | null };
        if (j.Error?.Message) throw new Error(j.Error.Message);
        return j.StatusCode ?? 0;
      } finally {
        stopSignals();
      }
    },
  };
}
