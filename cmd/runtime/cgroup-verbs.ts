// keel pause, resume, ps, update and events: the verbs that work through the container's cgroup.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { RuntimeError } from '../../src/errors/index';
import { exactArgs, minArgs } from './args';
import type { Cli } from './context';

/** Parses runc's memory flag values: bytes with an optional k/m/g/t suffix (binary), or -1. */
export function parseBytes(raw: string): number {
  if (raw === '-1') return -1;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(raw.trim());
  if (!m) throw new RuntimeError('InvalidArgument', `invalid value for memory: ${raw}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[m[2]!.toLowerCase()]!;
  return Math.round(Number(m[1]) * mult);
}

function int(flag: string, raw: string): number {
  if (!/^-?\d+$/.test(raw)) throw new RuntimeError('InvalidArgument', `invalid value for ${flag}: ${raw}`);
  return Number(raw);
}

type UpdateFlags = Record<string, string | undefined>;

/** Builds linux.resources from runc's update flags (only the given ones). */
export function resourcesFromFlags(o: UpdateFlags): Record<string, unknown> {
  const r: { memory?: Record<string, number>; cpu?: Record<string, number | string>; pids?: { limit: number }; blockIO?: { weight: number } } = {};
  const mem = (k: string, v: string | undefined) => v !== undefined && ((r.memory ??= {})[k] = parseBytes(v));
  const cpu = (k: string, v: number | string | undefined) => v !== undefined && ((r.cpu ??= {})[k] = v);
  mem('limit', o.memory);
  mem('swap', o.memorySwap);
  mem('reservation', o.memoryReservation);
  mem('kernel', o.kernelMemory);
  mem('kernelTCP', o.kernelMemoryTcp);
  cpu('shares', o.cpuShare !== undefined ? int('cpu-share', o.cpuShare) : undefined);
  cpu('quota', o.cpuQuota !== undefined ? int('cpu-quota', o.cpuQuota) : undefined);
  cpu('period', o.cpuPeriod !== undefined ? int('cpu-period', o.cpuPeriod) : undefined);
  cpu('realtimeRuntime', o.cpuRtRuntime !== undefined ? int('cpu-rt-runtime', o.cpuRtRuntime) : undefined);
  cpu('realtimePeriod', o.cpuRtPeriod !== undefined ? int('cpu-rt-period', o.cpuRtPeriod) : undefined);
  cpu('cpus', o.cpusetCpus);
  cpu('mems', o.cpusetMems);
  if (o.pidsLimit !== undefined) r.pids = { limit: int('pids-limit', o.pidsLimit) };
  if (o.blkioWeight !== undefined) r.blockIO = { weight: int('blkio-weight', o.blkioWeight) };
  return r;
}

function readResources(file: string): Record<string, unknown> {
  const text = file === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(file, 'utf8');
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new RuntimeError('InvalidArgument', `update: invalid resources JSON: ${(e as Error).message}`);
  }
}

export function register(program: Command, cli: Cli): void {
  program
    .command('pause')
    .summary('pause suspends all processes inside the container')
    .description('The pause command suspends all processes in the instance of the container (cgroup freezer).')
    .argument('[container-id...]', 'the name for the instance of the container')
    .action(async (ids: string[]) => {
      try {
        exactArgs('pause', ids, 1);
        await (await cli.runtime()).pause(ids[0]!);
      } catch (e) {
        await cli.fail(e);
      }
    });

  program
    .command('resume')
    .summary('resumes all processes that have been previously paused')
    .description('The resume command resumes all processes in the instance of the container.')
    .argument('[container-id...]', 'the name for the instance of the container')
    .action(async (ids: string[]) => {
      try {
        exactArgs('resume', ids, 1);
        await (await cli.runtime()).resume(ids[0]!);
      } catch (e) {
        await cli.fail(e);
      }
    });

  program
    .command('ps')
    .summary('ps displays the processes running inside a container')
    .description('Shows the container\'s processes: `ps` output (default args -ef) filtered to them, or a JSON array of host pids.')
    .argument('[args...]', '<container-id> [ps options]')
    .option('-f, --format <format>', 'select one of: table or json', 'table')
    .passThroughOptions()
    .action(async (args: string[], o: { format: string }) => {
      try {
        minArgs('ps', args, 1);
        const pids = await (await cli.runtime()).pids(args[0]!);
        if (o.format === 'json') {
          process.stdout.write(JSON.stringify(pids.length ? pids : null) + '\n');
          return;
        }
        if (o.format !== 'table') throw new RuntimeError('InvalidArgument', 'invalid format option');
        const psArgs = args.length > 1 ? args.slice(1) : ['-ef'];
        const out = spawnSync('ps', psArgs, { encoding: 'utf8' });
        if (out.status !== 0) throw new RuntimeError('Internal', `ps ${psArgs.join(' ')}: ${out.stderr.trim()}`);
        const lines = out.stdout.split('\n');
        const header = lines[0] ?? '';
        const col = header.trim().split(/\s+/).indexOf('PID');
        if (col < 0) throw new RuntimeError('InvalidArgument', "couldn't find PID field in ps output");
        const want = new Set(pids);
        process.stdout.write(header + '\n');
        for (const line of lines.slice(1)) {
          const f = line.trim().split(/\s+/);
          if (want.has(Number(f[col]))) process.stdout.write(line + '\n');
        }
      } catch (e) {
        await cli.fail(e);
      }
    });

  program
    .command('update')
    .summary('update container resource constraints')
    .description(
      'The update command changes the resource limits of a running container. --resources takes a JSON\n' +
        'linux.resources document (a file, or - for stdin); the other flags set single values.',
    )
    .argument('[container-id...]', 'the name for the instance of the container')
    .option('-r, --resources <file>', 'path to a file containing the resources to update or "-" to read from standard input')
    .option('--blkio-weight <n>', 'specifies per cgroup weight, range is from 10 to 1000')
    .option('--cpu-period <n>', 'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default')
    .option('--cpu-quota <n>', 'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period')
    .option('--cpu-share <n>', 'CPU shares (relative weight vs. other containers)')
    .option('--cpu-rt-period <n>', 'CPU realtime period to be used for hardcapping (in usecs)')
    .option('--cpu-rt-runtime <n>', 'CPU realtime hardcap limit (in usecs)')
    .option('--cpuset-cpus <list>', 'CPU(s) to use')
    .option('--cpuset-mems <list>', 'Memory node(s) to use')
    .option('--kernel-memory <bytes>', 'Kernel memory limit (ignored, as runc ignores it)')
    .option('--kernel-memory-tcp <bytes>', 'Kernel memory limit for tcp buffer (ignored, as runc ignores it)')
    .option('--memory <bytes>', 'Memory limit (in bytes, or with a k/m/g suffix)')
    .option('--memory-reservation <bytes>', 'Memory reservation or soft_limit (in bytes)')
    .option('--memory-swap <bytes>', 'Total memory usage (memory + swap); set -1 to enable unlimited swap')
    .option('--pids-limit <n>', 'Maximum number of pids allowed in the container')
    .action(async (ids: string[], o: UpdateFlags & { resources?: string }) => {
      try {
        exactArgs('update', ids, 1);
        const r = o.resources !== undefined ? readResources(o.resources) : resourcesFromFlags(o);
        await (await cli.runtime()).update(ids[0]!, r);
      } catch (e) {
        await cli.fail(e);
      }
    });

  program
    .command('events')
    .summary('display container events such as OOM notifications, cpu, memory, and IO usage statistics')
    .description('The events command displays information about the container. By default the information is displayed once every 5 seconds.')
    .argument('[container-id...]', 'the name for the instance of the container')
    .option('--interval <duration>', 'set the stats collection interval', '5s')
    .option('--stats', 'display the container\'s stats then exit', false)
    .action(async (ids: string[], o: { interval: string; stats: boolean }) => {
      try {
        exactArgs('events', ids, 1);
        const rt = await cli.runtime();
        const write = (ev: unknown) => process.stdout.write(JSON.stringify(ev) + '\n');
        if (o.stats) {
          write({ type: 'stats', id: ids[0], data: await rt.stats(ids[0]!) });
          return;
        }
        await rt.events(ids[0]!, parseDuration(o.interval), write);
      } catch (e) {
        await cli.fail(e);
      }
    });
}

/** Go durations as runc's --interval takes them: "5s", "500ms", "1m". */
export function parseDuration(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(raw.trim());
  if (!m) throw new RuntimeError('InvalidArgument', `invalid duration ${JSON.stringify(raw)}`);
  const n = Number(m[1]);
  const ms = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'] * n;
  if (ms <= 0) throw new RuntimeError('InvalidArgument', 'duration interval must be greater than 0');
  return ms;
}
