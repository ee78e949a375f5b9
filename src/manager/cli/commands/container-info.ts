// Container query commands (docker/cli container/*.go): ps/ls, logs, top, port, diff, export,
// commit, container inspect.
import { Demuxer } from '../../api/client';
import { parseNormalized, parseReference, formatReference } from '../../images/reference';
import type { DockCli } from '../cli';
import { exactArgs, minArgs, noArgs, rangeArgs, type CommandSpec } from '../command';
import { CONTAINER_HEADER, containerFormat, ContainerContext, type ContainerSummary } from '../format/container';
import { DIFF_HEADER, DiffContext } from '../format/lists';
import { FORMAT_HELP, INSPECT_FORMAT_HELP, TABLE } from '../format/formatter';
import { Template } from '../template/exec';
import { parseUint } from '../go-strconv';
import { FilterValue, type Filters, encodeFilters } from '../opts/values';
import { tabwrite } from '../tabwriter';
import { getTimestamp } from '../timestamp';
import { esc, validateDestination, writeAtomically, writeList } from './common';
import { getRaw, inspectRefs } from './inspect';

export function psCommand(use: 'ps' | 'ls'): CommandSpec<DockCli> {
  return {
    use: `${use} [OPTIONS]`,
    short: 'List containers',
    aliasPaths: ['container ls', 'container list', 'container ps', 'ps'],
    ...(use === 'ls' ? { aliases: ['ps', 'list'] } : { categoryTop: 3 }),
    args: noArgs,
    flags: (f) => {
      f.bool('quiet', 'q', false, 'Only display container IDs');
      f.bool('size', 's', false, 'Display total file sizes');
      f.bool('all', 'a', false, 'Show all containers (default shows just running)');
      f.bool('no-trunc', '', false, "Don't truncate output");
      f.bool('latest', 'l', false, 'Show the latest created container (includes all states)');
      f.int('last', 'n', -1, 'Show n last created containers (includes all states)');
      f.string('format', '', '', FORMAT_HELP);
      f.var(new FilterValue(), 'filter', 'f', 'Filter output based on conditions provided');
    },
    run: async ({ cli, flags }) => {
      const quiet = flags.get<boolean>('quiet');
      let format = flags.get<string>('format');
      if (format.length === 0) format = cli.configFile().psFormat ?? '';
      else if (quiet) cli.err.write('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
      let size = flags.get<boolean>('size');
      let limit = flags.get<number>('last');
      if (flags.get<boolean>('latest') && limit === -1) limit = 1;
      if (format.length > 0) {
        // docker runs the format as given (not its table/json expansion) over an empty context to
        // see whether it reads .Size.
        const probe = new ContainerContext();
        let tmpl;
        try {
          tmpl = new Template(format);
        } catch (e) {
          throw new Error(`failed to parse template: ${(e as Error).message.replace(/^template parsing error: /, '')}`);
        }
        try {
          tmpl.execute(probe);
        } catch (e) {
          throw new Error(`failed to execute template: ${(e as Error).message}`);
        }
        if (!quiet && !size && !flags.changed('size') && probe.sizeUsed) size = true;
      }
      const filters = flags.get<Filters>('filter');
      const client = await cli.client();
      const list = await client.json<ContainerSummary[]>('GET', '/containers/json', {
        query: {
          ...(flags.get<boolean>('all') ? { all: '1' } : {}),
          ...(Object.keys(filters).length ? { filters: encodeFilters(filters) } : {}),
          ...(limit > 0 ? { limit: String(limit) } : {}),
          ...(size ? { size: '1' } : {}),
        },
      });
      const trunc = !flags.get<boolean>('no-trunc');
      const now = Date.now();
      writeList(cli, containerFormat(format, quiet, size), CONTAINER_HEADER, (list ?? []).map((c) => new ContainerContext(c, trunc, now)));
    },
  };
}

export function logsCommand(): CommandSpec<DockCli> {
  return {
    use: 'logs [OPTIONS] CONTAINER',
    short: 'Fetch the logs of a container',
    aliasPaths: ['container logs', 'logs'],
    args: exactArgs(1),
    flags: (f) => {
      f.bool('follow', 'f', false, 'Follow log output');
      f.string('since', '', '', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)');
      f.string('until', '', '', 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)');
      f.bool('timestamps', 't', false, 'Show timestamps');
      f.bool('details', '', false, 'Show extra details provided to logs');
      f.string('tail', 'n', 'all', 'Number of lines to show from the end of the logs');
    },
    run: async ({ cli, flags, args }) => {
      const client = await cli.client();
      const c = await client.json<{ Id: string; Config: { Tty: boolean } }>('GET', `/containers/${esc(args[0]!)}/json`);
      const q: Record<string, string> = { stdout: '1', stderr: '1' };
      const now = Date.now();
      for (const k of ['since', 'until'] as const) {
        const v = flags.get<string>(k);
        if (v) {
          try {
            q[k] = getTimestamp(v, now);
          } catch (e) {
            throw new Error(`invalid value for "${k}": ${(e as Error).message}`);
          }
        }
      }
      if (flags.get<boolean>('timestamps')) q.timestamps = '1';
      if (flags.get<boolean>('details')) q.details = '1';
      if (flags.get<boolean>('follow')) q.follow = '1';
      q.tail = flags.get<string>('tail');
      const res = await client.request('GET', `/containers/${esc(c.Id)}/logs`, { query: q });
      const demux = new Demuxer((s, d) => (s === 2 ? cli.err : cli.out).write(d));
      for await (const chunk of res) {
        if (c.Config.Tty) cli.out.write(chunk as Buffer);
        else demux.push(chunk as Buffer);
      }
    },
  };
}

export function topCommand(): CommandSpec<DockCli> {
  return {
    use: 'top CONTAINER [ps OPTIONS]',
    short: 'Display the running processes of a container',
    aliasPaths: ['container top', 'top'],
    args: minArgs(1),
    interspersed: false,
    flags: (f) => {
      f.interspersed = false;
    },
    run: async ({ cli, args }) => {
      const client = await cli.client();
      const r = await client.json<{ Titles: string[]; Processes: string[][] }>('GET', `/containers/${esc(args[0]!)}/top`, { query: args.length > 1 ? { ps_args: args.slice(1).join(' ') } : {} });
      const text = [r.Titles.join('\t'), ...(r.Processes ?? []).map((p) => p.join('\t'))].map((l) => `${l}\n`).join('');
      cli.out.write(tabwrite(text, { minwidth: 20, tabwidth: 1, padding: 3, padchar: ' ' }));
    },
  };
}

/** sortorder.NaturalLess: digit runs compare as numbers. */
function naturalLess(a: string, b: string): number {
  const re = /(\d+|\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    if (/^\d/.test(x) && /^\d/.test(y)) {
      const d = Number(x) - Number(y);
      if (d) return d;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

function joinHostPort(h: string, p: string): string {
  return h.includes(':') ? `[${h}]:${p}` : `${h}:${p}`;
}

export function portCommand(): CommandSpec<DockCli> {
  return {
    use: 'port CONTAINER [PRIVATE_PORT[/PROTO]]',
    short: 'List port mappings or a specific mapping for the container',
    aliasPaths: ['container port', 'port'],
    args: rangeArgs(1, 2),
    run: async ({ cli, args }) => {
      const client = await cli.client();
      const c = await client.json<{ NetworkSettings: { Ports?: Record<string, { HostIp: string; HostPort: string }[] | null> | null } }>('GET', `/containers/${esc(args[0]!)}/json`);
      const ports = c.NetworkSettings?.Ports ?? {};
      const out: string[] = [];
      if (args[1]) {
        const [port, proto0] = args[1].split('/');
        const proto = proto0 || 'tcp';
        try {
          parseUint(port!, 16);
        } catch (e) {
          throw new Error(`Error: invalid port (${port}): ${(e as Error).message}`);
        }
        const fronts = ports[`${port}/${proto}`];
        if (!fronts || fronts.length === 0) throw new Error(`Error: No public port '${args[1]}' published for ${args[0]}`);
        for (const f of fronts) out.push(joinHostPort(f.HostIp, f.HostPort));
      } else {
        for (const [from, fronts] of Object.entries(ports)) for (const f of fronts ?? []) out.push(`${from} -> ${joinHostPort(f.HostIp, f.HostPort)}`);
      }
      if (out.length) cli.out.write(out.sort(naturalLess).join('\n') + '\n');
    },
  };
}

export function diffCommand(): CommandSpec<DockCli> {
  return {
    use: 'diff CONTAINER',
    short: "Inspect changes to files or directories on a container's filesystem",
    aliasPaths: ['container diff', 'diff'],
    args: exactArgs(1),
    run: async ({ cli, args }) => {
      if (args[0] === '') throw new Error('Container name cannot be empty');
      const client = await cli.client();
      const changes = await client.json<{ Kind: number; Path: string }[] | null>('GET', `/containers/${esc(args[0]!)}/changes`);
      writeList(cli, '{{.Type}} {{.Path}}', DIFF_HEADER, (changes ?? []).map((c) => new DiffContext(c)));
    },
  };
}

/** Streams a response into -o FILE (atomically) or stdout (never a terminal). */
async function toFileOrStdout(cli: DockCli, output: string, open: () => Promise<AsyncIterable<unknown>>, what: string): Promise<void> {
  if (!output) {
    if (cli.out.isTerminal) throw new Error('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    for await (const c of await open()) cli.out.write(c as Buffer);
    return;
  }
  validateDestination(output, `failed to ${what}`);
  await writeAtomically(output, await open(), `failed to ${what}`);
}

export function exportCommand(): CommandSpec<DockCli> {
  return {
    use: 'export [OPTIONS] CONTAINER',
    short: "Export a container's filesystem as a tar archive",
    aliasPaths: ['container export', 'export'],
    args: exactArgs(1),
    flags: (f) => {
      f.string('output', 'o', '', 'Write to a file, instead of STDOUT');
    },
    run: async ({ cli, flags, args }) => {
      const client = await cli.client();
      await toFileOrStdout(cli, flags.get<string>('output'), () => client.request('GET', `/containers/${esc(args[0]!)}/export`), 'export container');
    },
  };
}

export function commitCommand(): CommandSpec<DockCli> {
  return {
    use: 'commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]',
    short: "Create a new image from a container's changes",
    aliasPaths: ['container commit', 'commit'],
    args: rangeArgs(1, 2),
    flags: (f) => {
      f.interspersed = false;
      f.bool('pause', 'p', true, 'Pause container during commit');
      f.string('message', 'm', '', 'Commit message');
      f.string('author', 'a', '', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")');
      f.list('change', 'c', 'Apply Dockerfile instruction to the created image');
    },
    run: async ({ cli, flags, args }) => {
      let repo = '';
      let tag = '';
      if (args[1]) {
        const r = parseNormalized(args[1]);
        if (r.digest !== undefined) throw new Error('refusing to create a tag with a digest reference');
        const t = parseReference(args[1]);
        repo = formatReference({ domain: t.domain, path: t.path });
        tag = t.tag ?? '';
      }
      const client = await cli.client();
      const r = await client.json<{ Id: string }>('POST', '/commit', {
        query: {
          author: flags.get<string>('author'),
          changes: flags.get<string[]>('change'),
          comment: flags.get<string>('message'),
          container: args[0]!.trim(),
          ...(flags.get<boolean>('pause') ? {} : { pause: '0' }),
          repo,
          tag,
        },
      });
      cli.out.write(`${r.Id}\n`);
    },
  };
}

export function containerInspectCommand(): CommandSpec<DockCli> {
  return {
    use: 'inspect [OPTIONS] CONTAINER [CONTAINER...]',
    short: 'Display detailed information on one or more containers',
    args: minArgs(1),
    flags: (f) => {
      f.string('format', 'f', '', INSPECT_FORMAT_HELP);
      f.bool('size', 's', false, 'Display total file sizes');
    },
    run: async ({ cli, flags, args }) => {
      const client = await cli.client();
      const size = flags.get<boolean>('size');
      await inspectRefs(cli, args, flags.get<string>('format'), (ref) => getRaw(client, `/containers/${esc(ref)}/json`, size ? { size: '1' } : undefined));
    },
  };
}

export { TABLE };
