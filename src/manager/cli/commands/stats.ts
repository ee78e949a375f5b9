// `stats` (docker/cli container/stats.go, stats_helpers.go, formatter_stats.go): one collector per
// container on GET /containers/{id}/stats, CPU% from the cpu/precpu delta, memory without the
// inactive file cache, the table redrawn every 500 ms (or printed once with --no-stream); with no
// names, the container list plus start/die events keep the set current.
import { decodeJsonStream, type EngineClient } from '../../api/client';
import type { DockCli } from '../cli';
import { type CommandSpec } from '../command';
import { errorText } from '../execute';
import { FORMAT_HELP, renderList, TABLE, truncateId } from '../format/formatter';
import { FilterValue, type Filters, encodeFilters } from '../opts/values';
import { GoStruct } from '../template/values';
import { bytesSize, humanSizeWithPrecision } from '../units';
import { esc, joinErrors } from './common';

type StatsResponse = {
  name?: string;
  id?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  blkio_stats?: { io_service_bytes_recursive?: { op: string; value: number }[] | null };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
  pids_stats?: { current?: number };
};

export type StatsEntry = {
  Container: string;
  Name: string;
  ID: string;
  CPUPercentage: number;
  Memory: number;
  MemoryLimit: number;
  MemoryPercentage: number;
  NetworkRx: number;
  NetworkTx: number;
  BlockRead: number;
  BlockWrite: number;
  PidsCurrent: number;
  IsInvalid: boolean;
};

export function entryOf(container: string, v: StatsResponse): StatsEntry {
  const cpuDelta = (v.cpu_stats?.cpu_usage?.total_usage ?? 0) - (v.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const sysDelta = (v.cpu_stats?.system_cpu_usage ?? 0) - (v.precpu_stats?.system_cpu_usage ?? 0);
  let online = v.cpu_stats?.online_cpus ?? 0;
  if (online === 0) online = v.cpu_stats?.cpu_usage?.percpu_usage?.length ?? 0;
  const cpu = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * online * 100 : 0;
  let rd = 0;
  let wr = 0;
  for (const e of v.blkio_stats?.io_service_bytes_recursive ?? []) {
    const c = e.op[0];
    if (c === 'r' || c === 'R') rd += e.value;
    else if (c === 'w' || c === 'W') wr += e.value;
  }
  const usage = v.memory_stats?.usage ?? 0;
  const st = v.memory_stats?.stats ?? {};
  let mem = usage;
  if (st.total_inactive_file !== undefined && st.total_inactive_file < usage) mem = usage - st.total_inactive_file;
  else if ((st.inactive_file ?? 0) < usage) mem = usage - (st.inactive_file ?? 0);
  const limit = v.memory_stats?.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(v.networks ?? {})) {
    rx += n.rx_bytes;
    tx += n.tx_bytes;
  }
  return {
    Container: container,
    Name: v.name ?? '',
    ID: v.id ?? '',
    CPUPercentage: cpu,
    Memory: mem,
    MemoryLimit: limit,
    MemoryPercentage: limit !== 0 ? (mem / limit) * 100 : 0,
    NetworkRx: rx,
    NetworkTx: tx,
    BlockRead: rd,
    BlockWrite: wr,
    PidsCurrent: v.pids_stats?.current ?? 0,
    IsInvalid: false,
  };
}

export const STATS_HEADER: Record<string, string> = {
  Container: 'CONTAINER',
  Name: 'NAME',
  ID: 'CONTAINER ID',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

const pct = (v: number) => `${v.toFixed(2)}%`;

export class StatsContext extends GoStruct {
  constructor(
    private readonly s: StatsEntry,
    private readonly trunc: boolean,
  ) {
    super();
  }
  goType(): string {
    return '*container.statsContext';
  }
  get Container(): string {
    return this.s.Container;
  }
  get Name(): string {
    return this.s.Name.length > 1 ? this.s.Name.slice(1) : '--';
  }
  get ID(): string {
    return this.trunc ? truncateId(this.s.ID) : this.s.ID;
  }
  get CPUPerc(): string {
    return this.s.IsInvalid ? '--' : pct(this.s.CPUPercentage);
  }
  get MemUsage(): string {
    return this.s.IsInvalid ? '-- / --' : `${bytesSize(this.s.Memory)} / ${bytesSize(this.s.MemoryLimit)}`;
  }
  get MemPerc(): string {
    return this.s.IsInvalid ? '--' : pct(this.s.MemoryPercentage);
  }
  get NetIO(): string {
    return this.s.IsInvalid ? '--' : `${humanSizeWithPrecision(this.s.NetworkRx, 3)} / ${humanSizeWithPrecision(this.s.NetworkTx, 3)}`;
  }
  get BlockIO(): string {
    return this.s.IsInvalid ? '--' : `${humanSizeWithPrecision(this.s.BlockRead, 3)} / ${humanSizeWithPrecision(this.s.BlockWrite, 3)}`;
  }
  get PIDs(): string {
    return this.s.IsInvalid ? '--' : String(this.s.PidsCurrent);
  }
}

type Collector = { entry: StatsEntry; error?: unknown; first: Promise<void>; stop(): void };

function blank(container: string): StatsEntry {
  return { Container: container, Name: '', ID: '', CPUPercentage: 0, Memory: 0, MemoryLimit: 0, MemoryPercentage: 0, NetworkRx: 0, NetworkTx: 0, BlockRead: 0, BlockWrite: 0, PidsCurrent: 0, IsInvalid: false };
}

function collect(client: EngineClient, container: string, stream: boolean): Collector {
  const ac = new AbortController();
  const c: Collector = { entry: blank(container), first: Promise.resolve(), stop: () => ac.abort() };
  let gotFirst: () => void = () => {};
  c.first = new Promise<void>((r) => (gotFirst = r));
  // No sample within 2 s marks the row invalid ("--"), as docker's collector does.
  const timer = setTimeout(() => {
    c.entry = { ...blank(container), IsInvalid: true };
    c.error = new Error('timeout waiting for stats');
    gotFirst();
  }, 2000);
  void (async () => {
    try {
      const res = await client.request('GET', `/containers/${esc(container)}/stats`, { query: { stream: stream ? '1' : '0' }, signal: ac.signal });
      for await (const v of decodeJsonStream<StatsResponse>(res)) {
        clearTimeout(timer);
        c.entry = entryOf(container, v);
        c.error = undefined;
        gotFirst();
        if (!stream) break;
      }
    } catch (e) {
      if (!ac.signal.aborted) {
        c.error = e;
        c.entry.IsInvalid = true;
      }
    } finally {
      clearTimeout(timer);
      gotFirst();
    }
  })();
  return c;
}

export function statsCommand(): CommandSpec<DockCli> {
  return {
    use: 'stats [OPTIONS] [CONTAINER...]',
    short: 'Display a live stream of container(s) resource usage statistics',
    aliasPaths: ['container stats', 'stats'],
    flags: (f) => {
      f.bool('all', 'a', false, 'Show all containers (default shows just running)');
      f.bool('no-stream', '', false, 'Disable streaming stats and only pull the first result');
      f.bool('no-trunc', '', false, 'Do not truncate output');
      f.string('format', '', '', FORMAT_HELP);
      const filter = f.var(new FilterValue(), 'filter', 'f', 'Filter output based on conditions provided');
      filter.hidden = true;
    },
    run: async ({ cli, flags, args }) => {
      const client = await cli.client();
      const noStream = flags.get<boolean>('no-stream');
      const all = flags.get<boolean>('all');
      const filters = flags.get<Filters>('filter');
      const cs = new Map<string, Collector>();
      const add = (id: string) => {
        if (!cs.has(id)) cs.set(id, collect(client, id, !noStream));
      };
      const showAll = args.length === 0;
      let events: AbortController | undefined;
      if (showAll) {
        events = new AbortController();
        const evFilters = { ...filters, type: { container: true } };
        const evRes = client.request('GET', '/events', { query: { filters: encodeFilters(evFilters) }, signal: events.signal });
        evRes.catch(() => undefined);
        await evRes.then(
          (res) =>
            void (async () => {
              try {
                for await (const e of decodeJsonStream<{ Action?: string; Actor?: { ID?: string } }>(res)) {
                  const id = e.Actor?.ID?.slice(0, 12);
                  if (!id) continue;
                  if (e.Action === 'start' || (all && e.Action === 'create')) add(id);
                  else if (!all && e.Action === 'die') {
                    cs.get(id)?.stop();
                    cs.delete(id);
                  }
                }
              } catch {
                /* aborted */
              }
            })(),
          () => undefined,
        );
        const list = await client.json<{ Id: string }[]>('GET', '/containers/json', { query: { ...(all ? { all: '1' } : {}), ...(Object.keys(filters).length ? { filters: encodeFilters(filters) } : {}) } });
        for (const c of list ?? []) add(c.Id.slice(0, 12));
        await Promise.all([...cs.values()].map((c) => c.first));
      } else {
        if (Object.keys(filters).length) throw new Error('filtering is not supported when specifying a list of containers');
        for (const c of args) add(c);
        await Promise.all([...cs.values()].map((c) => c.first));
        const err = joinErrors([...cs.values()].filter((c) => c.error !== undefined).map((c) => c.error));
        if (err) {
          for (const c of cs.values()) c.stop();
          throw new Error(err.message);
        }
      }
      let format = flags.get<string>('format');
      if (!format) format = cli.configFile().statsFormat ?? TABLE;
      if (format === TABLE) format = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
      const trunc = !flags.get<boolean>('no-trunc');
      try {
        for (;;) {
          const rows = [...cs.values()].map((c) => new StatsContext(c.entry, trunc));
          let text = renderList(format, STATS_HEADER, rows);
          if (!noStream) {
            // docker's redraw: home, the table, then every line again with erase-to-end, then erase below.
            text = '\x1b[H' + text;
            text += text
              .split('\n')
              .map((l) => `${l} \x1b[K\n`)
              .join('');
            text += '\x1b[J';
          }
          cli.out.write(text);
          if ((cs.size === 0 && !showAll) || noStream) break;
          await new Promise((r) => setTimeout(r, 500));
        }
      } catch (e) {
        throw new Error(errorText(e));
      } finally {
        events?.abort();
        for (const c of cs.values()) c.stop();
      }
    },
  };
}
