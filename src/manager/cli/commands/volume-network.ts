// `volume` and `network` subcommands (docker/cli volume/*.go, network/*.go).
import * as net from 'node:net';
import { ApiError } from '../../api/client';
import type { DockCli } from '../cli';
import { exactArgs, maxArgs, minArgs, noArgs, StatusError, type CommandSpec } from '../command';
import { errorText } from '../execute';
import { ListValue } from '../flags';
import { FORMAT_HELP, INSPECT_FORMAT_HELP, TABLE } from '../format/formatter';
import { NETWORK_HEADER, NetworkContext, networkFormat, VOLUME_HEADER, VolumeContext, volumeFormat, type NetworkSummary, type Volume } from '../format/lists';
import { FilterValue, MapValue, type Filters, encodeFilters } from '../opts/values';
import { kvToMap } from '../opts/validate';
import { humanSize } from '../units';
import { CANCELLED, confirm, esc, joinErrors, writeList } from './common';
import { getRaw, inspectRefs, typedVolume } from './inspect';
import { pruneNetworks, pruneVolumes, withConfigPruneFilters } from './prune';

function naturalCompare(a: string, b: string): number {
  const re = /(\d+|\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    if (/^\d/.test(x) && /^\d/.test(y)) return Number(x) - Number(y) || x.length - y.length;
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

export function volumeCommands(): CommandSpec<DockCli>[] {
  return [
    {
      use: 'create [OPTIONS] [VOLUME]',
      short: 'Create a volume',
      args: maxArgs(1),
      flags: (f) => {
        f.string('driver', 'd', 'local', 'Specify volume driver name');
        f.string('name', '', '', 'Specify volume name').hidden = true;
        f.var(new MapValue(), 'opt', 'o', 'Set driver specific options');
        f.list('label', '', 'Set metadata for a volume');
      },
      run: async ({ cli, flags, args }) => {
        let name = flags.get<string>('name');
        if (args[0]) {
          if (flags.changed('name')) throw new Error('conflicting options: cannot specify a volume-name through both --name and as a positional arg');
          name = args[0];
        }
        const body: Record<string, unknown> = {};
        const driver = flags.get<string>('driver');
        if (driver) body.Driver = driver;
        const opts = flags.get<Record<string, string>>('opt');
        if (Object.keys(opts).length) body.DriverOpts = opts;
        const labels = kvToMap(flags.get<string[]>('label'));
        if (Object.keys(labels).length) body.Labels = labels;
        if (name) body.Name = name;
        const client = await cli.client();
        const v = await client.json<{ Name: string }>('POST', '/volumes/create', { body });
        cli.out.write(`${v.Name}\n`);
      },
    },
    {
      use: 'ls [OPTIONS]',
      short: 'List volumes',
      aliases: ['list'],
      args: noArgs,
      flags: (f) => {
        f.bool('quiet', 'q', false, 'Only display volume names');
        f.string('format', '', '', FORMAT_HELP);
        f.var(new FilterValue(), 'filter', 'f', 'Provide filter values (e.g. "dangling=true")');
        f.bool('cluster', '', false, 'Display only cluster volumes, and use cluster volume list formatting').hidden = true;
      },
      run: async ({ cli, flags }) => {
        const client = await cli.client();
        const filters = flags.get<Filters>('filter');
        const r = await client.json<{ Volumes?: Volume[] | null }>('GET', '/volumes', { query: Object.keys(filters).length ? { filters: encodeFilters(filters) } : {} });
        const quiet = flags.get<boolean>('quiet');
        let format = flags.get<string>('format');
        if (!format) format = cli.configFile().volumesFormat && !quiet ? cli.configFile().volumesFormat! : TABLE;
        const vols = [...(r?.Volumes ?? [])].sort((a, b) => naturalCompare(a.Name, b.Name));
        writeList(cli, volumeFormat(format, quiet), VOLUME_HEADER, vols.map((v) => new VolumeContext(v)));
      },
    },
    {
      use: 'inspect [OPTIONS] VOLUME [VOLUME...]',
      short: 'Display detailed information on one or more volumes',
      args: minArgs(1),
      flags: (f) => {
        f.string('format', 'f', '', INSPECT_FORMAT_HELP);
      },
      run: async ({ cli, flags, args }) => {
        const client = await cli.client();
        await inspectRefs(cli, args, flags.get<string>('format'), async (ref) => typedVolume((await getRaw(client, `/volumes/${esc(ref)}`)).value as Record<string, unknown>));
      },
    },
    {
      use: 'rm [OPTIONS] VOLUME [VOLUME...]',
      short: 'Remove one or more volumes',
      long: 'Remove one or more volumes. You cannot remove a volume that is in use by a container.',
      aliases: ['remove'],
      args: minArgs(1),
      flags: (f) => {
        f.bool('force', 'f', false, 'Force the removal of one or more volumes');
      },
      run: async ({ cli, flags, args }) => {
        const client = await cli.client();
        const force = flags.get<boolean>('force');
        const errs: unknown[] = [];
        for (const v of args) {
          try {
            (await client.request('DELETE', `/volumes/${esc(v)}`, { query: force ? { force: '1' } : {} })).resume();
            cli.out.write(`${v}\n`);
          } catch (e) {
            errs.push(e);
          }
        }
        const err = joinErrors(errs);
        if (err) throw err;
      },
    },
    {
      use: 'prune [OPTIONS]',
      short: 'Remove unused local volumes',
      args: noArgs,
      flags: (f) => {
        f.bool('all', 'a', false, 'Remove all unused volumes, not just anonymous ones');
        f.bool('force', 'f', false, 'Do not prompt for confirmation');
        f.var(new FilterValue(), 'filter', '', 'Provide filter values (e.g. "label=<label>")');
      },
      run: async ({ cli, flags }) => {
        const filters = withConfigPruneFilters(cli, flags.get<Filters>('filter'));
        const all = flags.get<boolean>('all');
        let warning = 'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?';
        const client = await cli.client();
        const v = await client.apiVersion();
        const ge142 = v.split('.').map(Number)[1]! >= 42;
        if (ge142) {
          if (all) {
            if (filters.all) throw new Error('conflicting options: cannot specify both --all and --filter all=1');
            filters.all = { true: true };
            warning = 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?';
          }
        } else warning = 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?';
        if (!flags.get<boolean>('force') && !(await confirm(cli, warning))) throw CANCELLED;
        const r = await pruneVolumes(client, filters);
        if (r.output) cli.out.write(`${r.output}\n`);
        cli.out.write(`Total reclaimed space: ${humanSize(r.space)}\n`);
      },
    },
  ];
}

function cidrContains(subnet: string, data: string): boolean {
  const [base, bitsS] = subnet.split('/');
  const bits = Number(bitsS);
  if (!base || !net.isIP(base) || Number.isNaN(bits)) throw new Error(`invalid subnet: invalid CIDR address: ${subnet}`);
  const ip = data.includes('/') ? data.split('/')[0]! : data;
  if (!net.isIP(ip)) return false;
  const bl = new net.BlockList();
  bl.addSubnet(base, bits, net.isIP(base) === 6 ? 'ipv6' : 'ipv4');
  return bl.check(ip, net.isIP(ip) === 6 ? 'ipv6' : 'ipv4');
}

/** network create's IPAM config from --subnet/--ip-range/--gateway/--aux-address. */
function ipamConfig(subnets: string[], ranges: string[], gateways: string[], aux: Record<string, string>): Record<string, unknown>[] {
  if (subnets.length < ranges.length || subnets.length < gateways.length) throw new Error('every ip-range or gateway must have a corresponding subnet');
  const data = new Map<string, { Subnet: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses: Record<string, string> }>();
  for (const s of subnets) {
    for (const k of data.keys()) if (cidrContains(s, k) || cidrContains(k, s)) throw new Error('multiple overlapping subnet configuration is not supported');
    data.set(s, { Subnet: s, AuxiliaryAddresses: {} });
  }
  for (const r of ranges) {
    let match = false;
    for (const s of subnets) {
      if (!cidrContains(s, r)) continue;
      const d = data.get(s)!;
      if (d.IPRange) throw new Error(`cannot configure multiple ranges (${r}, ${d.IPRange}) on the same subnet (${s})`);
      d.IPRange = r;
      match = true;
    }
    if (!match) throw new Error(`no matching subnet for range ${r}`);
  }
  for (const g of gateways) {
    let match = false;
    for (const s of subnets) {
      if (!cidrContains(s, g)) continue;
      const d = data.get(s)!;
      if (d.Gateway) throw new Error(`cannot configure multiple gateways (${g}, ${d.Gateway}) for the same subnet (${s})`);
      d.Gateway = g;
      match = true;
    }
    if (!match) throw new Error(`no matching subnet for gateway ${g}`);
  }
  for (const [k, a] of Object.entries(aux)) {
    let match = false;
    for (const s of subnets) {
      if (!cidrContains(s, a)) continue;
      data.get(s)!.AuxiliaryAddresses[k] = a;
      match = true;
    }
    if (!match) throw new Error(`no matching subnet for aux-address ${a}`);
  }
  return [...data.values()].map((d) => ({ Subnet: d.Subnet, ...(d.IPRange ? { IPRange: d.IPRange } : {}), ...(d.Gateway ? { Gateway: d.Gateway } : {}), ...(Object.keys(d.AuxiliaryAddresses).length ? { AuxiliaryAddresses: d.AuxiliaryAddresses } : {}) }));
}

function stringSlice(f: import('../flags').FlagSet, name: string, usage: string): void {
  // pflag StringSlice: comma-separated values, repeatable ("strings" in help).
  const v = new ListValue(undefined, 'stringSlice');
  const orig = v.set.bind(v);
  v.set = (s: string) => s.split(',').forEach((x) => orig(x));
  f.add({ name, usage, value: v, zero: 'slice', defValue: '[]' });
}

export function networkCommands(): CommandSpec<DockCli>[] {
  return [
    {
      use: 'create [OPTIONS] NETWORK',
      short: 'Create a network',
      args: exactArgs(1),
      flags: (f) => {
        f.string('driver', 'd', 'bridge', 'Driver to manage the Network');
        f.var(new MapValue(), 'opt', 'o', 'Set driver specific options');
        f.list('label', '', 'Set metadata on a network');
        f.bool('internal', '', false, 'Restrict external access to the network');
        f.bool('ipv4', '', true, 'Enable or disable IPv4 address assignment');
        f.bool('ipv6', '', false, 'Enable or disable IPv6 address assignment');
        f.bool('attachable', '', false, 'Enable manual container attachment');
        f.bool('ingress', '', false, 'Create swarm routing-mesh network');
        f.string('scope', '', '', "Control the network's scope");
        f.bool('config-only', '', false, 'Create a configuration only network');
        f.string('config-from', '', '', 'The network from which to copy the configuration');
        f.string('ipam-driver', '', 'default', 'IP Address Management Driver');
        stringSlice(f, 'subnet', 'Subnet in CIDR format that represents a network segment');
        stringSlice(f, 'ip-range', 'Allocate container ip from a sub-range');
        stringSlice(f, 'gateway', 'IPv4 or IPv6 Gateway for the master subnet');
        f.var(new MapValue(), 'aux-address', '', 'Auxiliary IPv4 or IPv6 addresses used by Network driver');
        f.var(new MapValue(), 'ipam-opt', '', 'Set IPAM driver specific options');
      },
      run: async ({ cli, flags, args }) => {
        const config = ipamConfig(flags.get<string[]>('subnet'), flags.get<string[]>('ip-range'), flags.get<string[]>('gateway'), flags.get<Record<string, string>>('aux-address'));
        const client = await cli.client();
        const v = await client.apiVersion();
        const body: Record<string, unknown> = { Name: args[0], Driver: flags.get<string>('driver'), Scope: flags.get<string>('scope') };
        if (flags.changed('ipv4')) body.EnableIPv4 = flags.get<boolean>('ipv4');
        if (flags.changed('ipv6')) body.EnableIPv6 = flags.get<boolean>('ipv6');
        Object.assign(body, {
          IPAM: { Driver: flags.get<string>('ipam-driver'), Options: flags.get<Record<string, string>>('ipam-opt'), Config: config },
          Internal: flags.get<boolean>('internal'),
          Attachable: flags.get<boolean>('attachable'),
          Ingress: flags.get<boolean>('ingress'),
          ConfigOnly: flags.get<boolean>('config-only'),
          ConfigFrom: flags.get<string>('config-from') ? { Network: flags.get<string>('config-from') } : null,
          Options: flags.get<Record<string, string>>('opt'),
          Labels: kvToMap(flags.get<string[]>('label')),
        });
        if (Number(v.split('.')[1]) < 44) body.CheckDuplicate = true;
        const r = await client.json<{ Id: string }>('POST', '/networks/create', { body });
        cli.out.write(`${r.Id}\n`);
      },
    },
    {
      use: 'ls [OPTIONS]',
      short: 'List networks',
      aliases: ['list'],
      args: noArgs,
      flags: (f) => {
        f.bool('quiet', 'q', false, 'Only display network IDs');
        f.string('format', '', '', FORMAT_HELP);
        f.bool('no-trunc', '', false, 'Do not truncate the output');
        f.var(new FilterValue(), 'filter', 'f', 'Provide filter values (e.g. "driver=bridge")');
      },
      run: async ({ cli, flags }) => {
        const client = await cli.client();
        const filters = flags.get<Filters>('filter');
        const nets = await client.json<NetworkSummary[]>('GET', '/networks', { query: Object.keys(filters).length ? { filters: encodeFilters(filters) } : {} });
        const quiet = flags.get<boolean>('quiet');
        let format = flags.get<string>('format');
        if (!format) format = cli.configFile().networksFormat && !quiet ? cli.configFile().networksFormat! : TABLE;
        const sorted = [...(nets ?? [])].sort((a, b) => naturalCompare(a.Name, b.Name));
        writeList(cli, networkFormat(format, quiet), NETWORK_HEADER, sorted.map((n) => new NetworkContext(n, !flags.get<boolean>('no-trunc'))));
      },
    },
    {
      use: 'inspect [OPTIONS] NETWORK [NETWORK...]',
      short: 'Display detailed information on one or more networks',
      args: minArgs(1),
      flags: (f) => {
        f.string('format', 'f', '', INSPECT_FORMAT_HELP);
        f.bool('verbose', 'v', false, 'Verbose output for diagnostics');
      },
      run: async ({ cli, flags, args }) => {
        const client = await cli.client();
        const verbose = flags.get<boolean>('verbose');
        await inspectRefs(cli, args, flags.get<string>('format'), (ref) => getRaw(client, `/networks/${esc(ref)}`, verbose ? { verbose: 'true' } : undefined));
      },
    },
    {
      use: 'rm NETWORK [NETWORK...]',
      short: 'Remove one or more networks',
      aliases: ['remove'],
      args: minArgs(1),
      flags: (f) => {
        f.bool('force', 'f', false, 'Do not error if the network does not exist');
      },
      run: async ({ cli, flags, args }) => {
        const client = await cli.client();
        let status = 0;
        for (const n of args) {
          try {
            const nw = (await client.json<{ Ingress?: boolean }>('GET', `/networks/${esc(n)}`).catch(() => undefined)) ?? {};
            if (nw.Ingress && !(await confirm(cli, 'WARNING! Before removing the routing-mesh network, make sure all the nodes in your swarm run the same docker engine version. Otherwise, removal may not be effective and functionality of newly create ingress networks will be impaired.\nAre you sure you want to continue?'))) continue;
            (await client.request('DELETE', `/networks/${esc(n)}`)).resume();
            cli.out.write(`${n}\n`);
          } catch (e) {
            if (flags.get<boolean>('force') && e instanceof ApiError && e.status === 404) continue;
            cli.err.write(`${errorText(e)}\n`);
            status = 1;
          }
        }
        if (status) throw new StatusError(`exit status ${status}`, status);
      },
    },
    {
      use: 'prune [OPTIONS]',
      short: 'Remove all unused networks',
      args: noArgs,
      flags: (f) => {
        f.bool('force', 'f', false, 'Do not prompt for confirmation');
        f.var(new FilterValue(), 'filter', '', 'Provide filter values (e.g. "until=<timestamp>")');
      },
      run: async ({ cli, flags }) => {
        if (!flags.get<boolean>('force') && !(await confirm(cli, 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?'))) throw CANCELLED;
        const client = await cli.client();
        const r = await pruneNetworks(client, withConfigPruneFilters(cli, flags.get<Filters>('filter')));
        if (r.output) cli.out.write(`${r.output}\n`);
      },
    },
    {
      use: 'connect [OPTIONS] NETWORK CONTAINER',
      short: 'Connect a container to a network',
      args: exactArgs(2),
      flags: (f) => {
        f.string('ip', '', '', 'IPv4 address (e.g., "172.30.100.104")');
        f.string('ip6', '', '', 'IPv6 address (e.g., "2001:db8::33")');
        f.list('link', '', 'Add link to another container');
        stringSlice(f, 'alias', 'Add network-scoped alias for the container');
        stringSlice(f, 'link-local-ip', 'Add a link-local address for the container');
        stringSlice(f, 'driver-opt', 'driver options for the network');
        f.int('gw-priority', '', 0, 'Highest gw-priority provides the default gateway. Accepts positive and negative values.');
      },
      run: async ({ cli, flags, args }) => {
        const driverOpts: Record<string, string> = {};
        for (const o of flags.get<string[]>('driver-opt')) {
          const i = o.indexOf('=');
          const k = (i >= 0 ? o.slice(0, i) : o).trim();
          if (i < 0 || k === '') throw new Error('invalid key/value pair format in driver options');
          driverOpts[k] = o.slice(i + 1).trim();
        }
        const ipam: Record<string, unknown> = {};
        if (flags.get<string>('ip')) ipam.IPv4Address = flags.get<string>('ip');
        if (flags.get<string>('ip6')) ipam.IPv6Address = flags.get<string>('ip6');
        if (flags.get<string[]>('link-local-ip').length) ipam.LinkLocalIPs = flags.get<string[]>('link-local-ip');
        const body = {
          Container: args[1],
          EndpointConfig: {
            IPAMConfig: ipam,
            Links: flags.get<string[]>('link').length ? [...flags.get<string[]>('link')] : null,
            Aliases: [...flags.get<string[]>('alias')],
            MacAddress: '',
            DriverOpts: driverOpts,
            GwPriority: flags.get<number>('gw-priority'),
            NetworkID: '',
            EndpointID: '',
            Gateway: '',
            IPAddress: '',
            IPPrefixLen: 0,
            IPv6Gateway: '',
            GlobalIPv6Address: '',
            GlobalIPv6PrefixLen: 0,
            DNSNames: null,
          },
        };
        const client = await cli.client();
        (await client.request('POST', `/networks/${esc(args[0]!)}/connect`, { body })).resume();
      },
    },
    {
      use: 'disconnect [OPTIONS] NETWORK CONTAINER',
      short: 'Disconnect a container from a network',
      args: exactArgs(2),
      flags: (f) => {
        f.bool('force', 'f', false, 'Force the container to disconnect from a network');
      },
      run: async ({ cli, flags, args }) => {
        const client = await cli.client();
        (await client.request('POST', `/networks/${esc(args[0]!)}/disconnect`, { body: { Container: args[1], Force: flags.get<boolean>('force') } })).resume();
      },
    },
  ];
}
