// Container lifecycle commands (docker/cli container/*.go): start [-a -i], stop, restart, kill, rm,
// pause, unpause, wait, rename, update, prune. Each prints the names it was given, as docker does.
import { ApiError, readAll } from '../../api/client';
import type { DockCli } from '../cli';
import { exactArgs, minArgs, noArgs, StatusError, type CommandSpec } from '../command';
import { errorText } from '../execute';
import { forwardSignals, monitorTtySize, streamHijacked } from '../hijack';
import { MemBytesValue, NanoCpusValue, FilterValue, type Filters } from '../opts/values';
import { parseRestartPolicy } from '../opts/validate';
import { humanSize } from '../units';
import { CANCELLED, confirm, esc, forEachPrinting, joinErrors, parallel } from './common';
import { pruneContainers, withConfigPruneFilters } from './prune';
import { attachQuery, waitExit } from './run';

type Inspect = { Id: string; Config: { Tty: boolean; OpenStdin: boolean }; HostConfig: { AutoRemove?: boolean }; State: { Running: boolean; Paused: boolean; Restarting: boolean } };

export function startCommand(): CommandSpec<DockCli> {
  return {
    use: 'start [OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Start one or more stopped containers',
    aliasPaths: ['container start', 'start'],
    args: minArgs(1),
    flags: (f) => {
      f.bool('attach', 'a', false, 'Attach STDOUT/STDERR and forward signals');
      f.bool('interactive', 'i', false, "Attach container's STDIN");
      f.string('detach-keys', '', '', 'Override the key sequence for detaching a container');
      f.string('checkpoint', '', '', 'Restore from this checkpoint').hidden = true;
      f.string('checkpoint-dir', '', '', 'Use a custom checkpoint storage directory').hidden = true;
    },
    run: async ({ cli, flags, args }) => {
      const client = await cli.client();
      if (flags.get<boolean>('attach') || flags.get<boolean>('interactive')) {
        if (args.length > 1) throw new Error('you cannot start and attach multiple containers at once');
        const c = await client.json<Inspect>('GET', `/containers/${esc(args[0]!)}/json`);
        const stopSignals = c.Config.Tty ? () => {} : forwardSignals(cli, client, c.Id);
        try {
          const detachKeys = flags.get<string>('detach-keys') || cli.configFile().detachKeys;
          const stdin = flags.get<boolean>('interactive') && c.Config.OpenStdin;
          const socket = await client.hijack('POST', `/containers/${esc(c.Id)}/attach`, { query: attachQuery({ stdin, stdout: true, stderr: true, detachKeys }) });
          const session = streamHijacked(cli, { socket, tty: c.Config.Tty, stdin, stdout: true, stderr: true, detachKeys });
          const { status } = await waitExit(client, c.Id, c.HostConfig.AutoRemove ? 'removed' : 'next-exit');
          try {
            (await client.request('POST', `/containers/${esc(c.Id)}/start`, {})).resume();
          } catch (e) {
            socket.destroy();
            await session.catch(() => undefined);
            if (c.HostConfig.AutoRemove) await status;
            throw e;
          }
          const stopResize = c.Config.Tty && cli.out.isTerminal ? monitorTtySize(cli, client, c.Id, false) : () => {};
          try {
            if ((await session) === 'detached') return 0;
          } finally {
            stopResize();
          }
          return await status;
        } finally {
          stopSignals();
        }
      }
      const failed: string[] = [];
      for (const c of args) {
        try {
          (await client.request('POST', `/containers/${esc(c)}/start`)).resume();
          cli.out.write(`${c}\n`);
        } catch (e) {
          cli.err.write(`${errorText(e)}\n`);
          failed.push(c);
        }
      }
      if (failed.length) throw new Error(`Error: failed to start containers: ${failed.join(', ')}`);
    },
  };
}

function stopLike(verb: 'stop' | 'restart'): CommandSpec<DockCli> {
  return {
    use: `${verb} [OPTIONS] CONTAINER [CONTAINER...]`,
    short: verb === 'stop' ? 'Stop one or more running containers' : 'Restart one or more containers',
    aliasPaths: [`container ${verb}`, verb],
    args: minArgs(1),
    flags: (f) => {
      f.string('signal', 's', '', 'Signal to send to the container');
      f.int('timeout', 't', 0, 'Seconds to wait before killing the container');
      const t = f.int('time', '', 0, 'Seconds to wait before killing the container (deprecated: use --timeout)');
      t.hidden = true;
      t.deprecated = 'use --timeout instead';
    },
    run: async ({ cli, flags, args }) => {
      const client = await cli.client();
      const changed = flags.changed('timeout') || flags.changed('time');
      const t = flags.changed('timeout') ? flags.get<number>('timeout') : flags.get<number>('time');
      const query = { ...(changed ? { t: String(t) } : {}), ...(flags.get<string>('signal') ? { signal: flags.get<string>('signal') } : {}) };
      await forEachPrinting(cli, args, async (c) => (await client.request('POST', `/containers/${esc(c)}/${verb}`, { query })).resume(), verb === 'restart');
    },
  };
}

export const stopCommand = (): CommandSpec<DockCli> => stopLike('stop');
export const restartCommand = (): CommandSpec<DockCli> => stopLike('restart');

export function killCommand(): CommandSpec<DockCli> {
  return {
    use: 'kill [OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Kill one or more running containers',
    aliasPaths: ['container kill', 'kill'],
    args: minArgs(1),
    flags: (f) => {
      f.string('signal', 's', '', 'Signal to send to the container');
    },
    run: async ({ cli, flags, args }) => {
      const client = await cli.client();
      const sig = flags.get<string>('signal');
      await forEachPrinting(cli, args, async (c) => (await client.request('POST', `/containers/${esc(c)}/kill`, { query: sig ? { signal: sig } : {} })).resume());
    },
  };
}

export function rmCommand(): CommandSpec<DockCli> {
  return {
    use: 'rm [OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Remove one or more containers',
    aliasPaths: ['container rm', 'container remove', 'rm'],
    aliases: ['remove'],
    args: minArgs(1),
    flags: (f) => {
      f.bool('volumes', 'v', false, 'Remove anonymous volumes associated with the container');
      f.bool('link', 'l', false, 'Remove the specified link');
      f.bool('force', 'f', false, 'Force the removal of a running container (uses SIGKILL)');
    },
    run: async ({ cli, flags, args }) => {
      const client = await cli.client();
      const force = flags.get<boolean>('force');
      const query = { ...(flags.get<boolean>('volumes') ? { v: '1' } : {}), ...(flags.get<boolean>('link') ? { link: '1' } : {}), ...(force ? { force: '1' } : {}) };
      const res = await parallel(args, async (c) => {
        const id = c.replace(/^\/+|\/+$/g, '');
        if (id === '') throw new Error('container name cannot be empty');
        (await client.request('DELETE', `/containers/${esc(id)}`, { query })).resume();
      });
      const errs: unknown[] = [];
      res.forEach((r, i) => {
        if (r.ok) cli.out.write(`${args[i]}\n`);
        else if (force && r.error instanceof ApiError && r.error.status === 404) cli.err.write(`${errorText(r.error)}\n`);
        else errs.push(r.error);
      });
      const err = joinErrors(errs);
      if (err) throw err;
    },
  };
}

function pauseLike(verb: 'pause' | 'unpause'): CommandSpec<DockCli> {
  return {
    use: `${verb} CONTAINER [CONTAINER...]`,
    short: `${verb === 'pause' ? 'Pause' : 'Unpause'} all processes within one or more containers`,
    aliasPaths: [`container ${verb}`, verb],
    args: minArgs(1),
    run: async ({ cli, args }) => {
      const client = await cli.client();
      await forEachPrinting(cli, args, async (c) => (await client.request('POST', `/containers/${esc(c)}/${verb}`)).resume());
    },
  };
}

export const pauseCommand = (): CommandSpec<DockCli> => pauseLike('pause');
export const unpauseCommand = (): CommandSpec<DockCli> => pauseLike('unpause');

export function waitCommand(): CommandSpec<DockCli> {
  return {
    use: 'wait CONTAINER [CONTAINER...]',
    short: 'Block until one or more containers stop, then print their exit codes',
    aliasPaths: ['container wait', 'wait'],
    args: minArgs(1),
    run: async ({ cli, args }) => {
      const client = await cli.client();
      const errs: unknown[] = [];
      for (const c of args) {
        try {
          const res = await client.request('POST', `/containers/${esc(c)}/wait`);
          const j = JSON.parse((await readAll(res)).toString() || '{}') as { StatusCode?: number };
          cli.out.write(`${j.StatusCode ?? 0}\n`);
        } catch (e) {
          errs.push(e);
        }
      }
      const err = joinErrors(errs);
      if (err) throw err;
    },
  };
}

export function renameCommand(): CommandSpec<DockCli> {
  return {
    use: 'rename CONTAINER NEW_NAME',
    short: 'Rename a container',
    aliasPaths: ['container rename', 'rename'],
    args: exactArgs(2),
    run: async ({ cli, args }) => {
      const oldName = args[0]!.trim();
      const newName = args[1]!.trim();
      if (oldName === '' || newName === '') throw new Error('Error: Neither old nor new names may be empty');
      const client = await cli.client();
      try {
        (await client.request('POST', `/containers/${esc(oldName)}/rename`, { query: { name: newName } })).resume();
      } catch (e) {
        cli.err.write(`${errorText(e)}\n`);
        throw new Error(`Error: failed to rename container named ${oldName}`);
      }
    },
  };
}

export function updateCommand(): CommandSpec<DockCli> {
  return {
    use: 'update [OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Update configuration of one or more containers',
    aliasPaths: ['container update', 'update'],
    args: minArgs(1),
    flags: (f) => {
      f.uint('blkio-weight', '', 0, 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)', 'uint16');
      f.int('cpu-period', '', 0, 'Limit CPU CFS (Completely Fair Scheduler) period', 'int64');
      f.int('cpu-quota', '', 0, 'Limit CPU CFS (Completely Fair Scheduler) quota', 'int64');
      f.int('cpu-rt-period', '', 0, 'Limit the CPU real-time period in microseconds', 'int64');
      f.int('cpu-rt-runtime', '', 0, 'Limit the CPU real-time runtime in microseconds', 'int64');
      f.int('cpu-shares', 'c', 0, 'CPU shares (relative weight)', 'int64');
      f.var(new NanoCpusValue(), 'cpus', '', 'Number of CPUs');
      f.string('cpuset-cpus', '', '', 'CPUs in which to allow execution (0-3, 0,1)');
      f.string('cpuset-mems', '', '', 'MEMs in which to allow execution (0-3, 0,1)');
      f.var(new MemBytesValue(), 'kernel-memory', '', 'Kernel memory limit (deprecated)').hidden = true;
      f.var(new MemBytesValue(), 'memory', 'm', 'Memory limit');
      f.var(new MemBytesValue(), 'memory-reservation', '', 'Memory soft limit');
      f.var(new MemBytesValue(true), 'memory-swap', '', 'Swap limit equal to memory plus swap: -1 to enable unlimited swap');
      f.int('pids-limit', '', 0, 'Tune container pids limit (set -1 for unlimited)', 'int64');
      f.string('restart', '', '', 'Restart policy to apply when a container exits');
    },
    run: async ({ cli, flags, args }) => {
      const n = flags.all().filter((x) => x.changed && x.name !== 'help').length;
      if (n === 0) throw new Error('you must provide one or more flags when using this command');
      const restart = flags.get<string>('restart') ? parseRestartPolicy(flags.get<string>('restart')) : { Name: '', MaximumRetryCount: 0 };
      const pids = flags.get<number>('pids-limit');
      const body: Record<string, unknown> = {
        CpuShares: flags.get<number>('cpu-shares'),
        Memory: flags.get<number>('memory'),
        NanoCpus: flags.get<number>('cpus'),
        CgroupParent: '',
        BlkioWeight: flags.get<number>('blkio-weight'),
        BlkioWeightDevice: null,
        BlkioDeviceReadBps: null,
        BlkioDeviceWriteBps: null,
        BlkioDeviceReadIOps: null,
        BlkioDeviceWriteIOps: null,
        CpuPeriod: flags.get<number>('cpu-period'),
        CpuQuota: flags.get<number>('cpu-quota'),
        CpuRealtimePeriod: flags.get<number>('cpu-rt-period'),
        CpuRealtimeRuntime: flags.get<number>('cpu-rt-runtime'),
        CpusetCpus: flags.get<string>('cpuset-cpus'),
        CpusetMems: flags.get<string>('cpuset-mems'),
        Devices: null,
        DeviceCgroupRules: null,
        DeviceRequests: null,
        MemoryReservation: flags.get<number>('memory-reservation'),
        MemorySwap: flags.get<number>('memory-swap'),
        MemorySwappiness: null,
        OomKillDisable: null,
        PidsLimit: pids !== 0 ? pids : null,
        Ulimits: null,
        CpuCount: 0,
        CpuPercent: 0,
        IOMaximumIOps: 0,
        IOMaximumBandwidth: 0,
        RestartPolicy: restart,
      };
      const client = await cli.client();
      const warns: string[] = [];
      const errs: string[] = [];
      for (const c of args) {
        try {
          const r = await client.json<{ Warnings?: string[] | null }>('POST', `/containers/${esc(c)}/update`, { body });
          cli.out.write(`${c}\n`);
          warns.push(...(r?.Warnings ?? []));
        } catch (e) {
          errs.push(errorText(e));
        }
      }
      if (warns.length) cli.out.write(`${warns.join('\n')}\n`);
      if (errs.length) throw new Error(errs.join('\n'));
    },
  };
}

export function containerPruneCommand(): CommandSpec<DockCli> {
  return {
    use: 'prune [OPTIONS]',
    short: 'Remove all stopped containers',
    args: noArgs,
    flags: (f) => {
      f.bool('force', 'f', false, 'Do not prompt for confirmation');
      f.var(new FilterValue(), 'filter', '', 'Provide filter values (e.g. "until=<timestamp>")');
    },
    run: async ({ cli, flags }) => {
      if (!flags.get<boolean>('force') && !(await confirm(cli, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?'))) throw CANCELLED;
      const client = await cli.client();
      const r = await pruneContainers(client, withConfigPruneFilters(cli, flags.get<Filters>('filter')));
      if (r.output) cli.out.write(`${r.output}\n`);
      cli.out.write(`Total reclaimed space: ${humanSize(r.space)}\n`);
    },
  };
}

export { StatusError };
