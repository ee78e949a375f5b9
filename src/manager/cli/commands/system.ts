// `version`, `info`, `events`, `system df`, `system prune` (docker/cli system/*.go and
// formatter/disk_usage.go).
import { decodeJsonTexts, CLIENT_API_VERSION } from '../../api/client';
import type { DockCli } from '../cli';
import { noArgs, StatusError, type CommandSpec } from '../command';
import { errorText } from '../execute';
import { FORMAT_HELP, INSPECT_FORMAT_HELP, renderList, TABLE } from '../format/formatter';
import { ContainerContext, type ContainerSummary } from '../format/container';
import { ImageContext, VolumeContext, type ImageSummary, type Volume } from '../format/lists';
import { tabwrite } from '../tabwriter';
import { Template } from '../template/exec';
import { GoStruct, sprint, typedMap } from '../template/values';
import { getTimestamp } from '../timestamp';
import { bytesSize, humanSize } from '../units';
import { FilterValue, type Filters, encodeFilters } from '../opts/values';
import { parseNormalized, familiarRepository } from '../../images/reference';
import { CANCELLED, confirm } from './common';
import { pruneBuildCache, pruneContainers, pruneImages, pruneNetworks, pruneVolumes, withConfigPruneFilters, type PruneResult } from './prune';

const VERSION_TEMPLATE = `{{with .Client -}}
Client:{{if ne .Platform nil}}{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}{{end}}
 Version:\t{{.Version}}
 API version:\t{{.APIVersion}}{{if ne .APIVersion .DefaultAPIVersion}} (downgraded from {{.DefaultAPIVersion}}){{end}}
 Go version:\t{{.GoVersion}}
 Git commit:\t{{.GitCommit}}
 Built:\t{{.BuildTime}}
 OS/Arch:\t{{.Os}}/{{.Arch}}
 Context:\t{{.Context}}
{{- end}}

{{- if ne .Server nil}}{{with .Server}}

Server:{{if ne .Platform.Name ""}} {{.Platform.Name}}{{end}}
 {{- range $component := .Components}}
 {{$component.Name}}:
  {{- if eq $component.Name "Engine" }}
  Version:\t{{.Version}}
  API version:\t{{index .Details "ApiVersion"}} (minimum version {{index .Details "MinAPIVersion"}})
  Go version:\t{{index .Details "GoVersion"}}
  Git commit:\t{{index .Details "GitCommit"}}
  Built:\t{{index .Details "BuildTime"}}
  OS/Arch:\t{{index .Details "Os"}}/{{index .Details "Arch"}}
  Experimental:\t{{index .Details "Experimental"}}
  {{- else }}
  Version:\t{{$component.Version}}
  {{- $detailsOrder := getDetailsOrder $component}}
  {{- range $key := $detailsOrder}}
  {{$key}}:\t{{index $component.Details $key}}
   {{- end}}
  {{- end}}
 {{- end}}
 {{- end}}{{- end}}`;

/** time.ANSIC of an RFC 3339 build time ("Mon Jan  2 15:04:05 2006"), else the text as is. */
function reformatDate(s: string): string {
  const t = Date.parse(s);
  if (!s || Number.isNaN(t) || !/^\d{4}-\d\d-\d\dT/.test(s)) return s;
  const d = new Date(t);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getDay()]} ${months[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`;
}

function clientVersion(cli: DockCli, apiVersion?: string): Record<string, unknown> {
  return {
    Version: cli.version,
    ...(apiVersion ? { ApiVersion: apiVersion, APIVersion: apiVersion } : {}),
    DefaultAPIVersion: CLIENT_API_VERSION,
    GitCommit: cli.gitCommit,
    GoVersion: `node ${process.version}`,
    Os: 'linux',
    Arch: process.arch === 'x64' ? 'amd64' : process.arch,
    BuildTime: '',
    Context: 'default',
  };
}

/** A JSON-ish view of the client block that keeps docker's JSON keys (ApiVersion) for {{json}}. */
class ClientVersion extends GoStruct {
  constructor(private readonly v: Record<string, unknown>) {
    super();
    Object.assign(this, { Platform: null }, v);
  }
  goType(): string {
    return 'system.clientVersion';
  }
  toJSON(): unknown {
    const { APIVersion: _drop, ...rest } = this.v;
    void _drop;
    return rest;
  }
  override toString(): string {
    return `{${[null, this.v.Version, this.v.ApiVersion, this.v.DefaultAPIVersion, this.v.GitCommit, this.v.GoVersion, this.v.Os, this.v.Arch, this.v.BuildTime, this.v.Context].map((x) => (x === null ? '<nil>' : String(x ?? ''))).join(' ')}}`;
  }
}

export function versionCommand(): CommandSpec<DockCli> {
  return {
    use: 'version [OPTIONS]',
    short: 'Show the Docker version information',
    categoryTop: 10,
    args: noArgs,
    flags: (f) => {
      f.string('format', 'f', '', INSPECT_FORMAT_HELP);
    },
    run: async ({ cli, flags }) => {
      const format = flags.get<string>('format');
      let tmpl: Template;
      try {
        tmpl = new Template(format === '' ? VERSION_TEMPLATE : format === 'json' ? '{{json .}}' : format, 'version');
      } catch (e) {
        throw new StatusError(`template parsing error: ${(e as Error).message}`, 64);
      }
      const client = await cli.client();
      let serverErr: unknown;
      let server: Record<string, unknown> | null = null;
      let api: string | undefined;
      try {
        api = await client.apiVersion();
        server = await client.json<Record<string, unknown>>('GET', '/version');
        const comps = (server.Components as { Name: string; Details: Record<string, string> }[] | undefined) ?? [];
        const engine = comps.find((c) => c.Name === 'Engine');
        if (engine?.Details?.BuildTime) engine.Details.BuildTime = reformatDate(engine.Details.BuildTime);
        if (!engine) {
          comps.push({
            Name: 'Engine',
            Version: server.Version as string,
            Details: {
              ApiVersion: server.ApiVersion as string,
              MinAPIVersion: server.MinAPIVersion as string,
              GitCommit: server.GitCommit as string,
              GoVersion: server.GoVersion as string,
              Os: server.Os as string,
              Arch: server.Arch as string,
              BuildTime: reformatDate((server.BuildTime as string) ?? ''),
              Experimental: String(!!server.Experimental),
            },
          } as never);
          server.Components = comps;
        }
        server.Platform ??= { Name: '' };
        // types.ComponentVersion.Details is a map[string]string: a key the engine left out reads "".
        for (const c of comps) if (c.Details && typeof c.Details === 'object') typedMap(c.Details, '');
      } catch (e) {
        serverErr = e;
        server = null;
      }
      const data = { Client: new ClientVersion(clientVersion(cli, api ?? CLIENT_API_VERSION)), Server: server };
      let text: string;
      let execErr: unknown;
      try {
        text = tmpl.execute(data, { printMode: 'typed', funcs: { getDetailsOrder: (c: unknown) => Object.keys((c as { Details?: Record<string, string> }).Details ?? {}).sort() } });
      } catch (e) {
        execErr = e;
        text = (e as { partial?: string }).partial ?? '';
      }
      cli.out.write(tabwrite(text + '\n', { minwidth: 20, tabwidth: 1, padding: 1, padchar: ' ' }));
      if (serverErr) throw serverErr;
      if (execErr) throw execErr;
    },
  };
}

function println(...a: unknown[]): string {
  return a.map((x) => sprint(x)).join(' ') + '\n';
}

/** prettyPrintInfo of docker/cli system/info.go. */
function prettyInfo(cli: DockCli, info: Record<string, unknown>, debug: boolean): { out: string; err: string } {
  let o = '';
  let e = '';
  const nonEmpty = (label: string, v: unknown) => {
    if (v !== undefined && v !== null && v !== '') o += println(label, v);
  };
  const i = info as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  o += println(' Containers:', i.Containers ?? 0);
  o += println('  Running:', i.ContainersRunning ?? 0);
  o += println('  Paused:', i.ContainersPaused ?? 0);
  o += println('  Stopped:', i.ContainersStopped ?? 0);
  o += println(' Images:', i.Images ?? 0);
  nonEmpty(' Server Version:', i.ServerVersion);
  nonEmpty(' Storage Driver:', i.Driver);
  for (const [k, v] of (i.DriverStatus as [string, string][] | null) ?? []) o += `  ${k}: ${v}\n`;
  for (const [k, v] of (i.SystemStatus as [string, string][] | null) ?? []) o += ` ${k}: ${v}\n`;
  nonEmpty(' Logging Driver:', i.LoggingDriver);
  nonEmpty(' Cgroup Driver:', i.CgroupDriver);
  nonEmpty(' Cgroup Version:', i.CgroupVersion);
  o += println(' Plugins:');
  o += println('  Volume:', ((i.Plugins?.Volume as string[]) ?? []).join(' '));
  o += println('  Network:', ((i.Plugins?.Network as string[]) ?? []).join(' '));
  if ((i.Plugins?.Authorization as string[] | null)?.length) o += println('  Authorization:', (i.Plugins.Authorization as string[]).join(' '));
  o += println('  Log:', ((i.Plugins?.Log as string[]) ?? []).join(' '));
  if ((i.CDISpecDirs as string[] | null)?.length) {
    o += println(' CDI spec directories:');
    for (const d of i.CDISpecDirs as string[]) o += `  ${d}\n`;
  }
  o += println(' Swarm:', i.Swarm?.LocalNodeState ?? '');
  if (i.Runtimes && Object.keys(i.Runtimes).length) {
    o += println(' Runtimes:', Object.keys(i.Runtimes).join(' '));
    o += println(' Default Runtime:', i.DefaultRuntime ?? '');
  }
  if (i.OSType === 'linux') {
    o += println(' Init Binary:', i.InitBinary ?? '');
    o += println(' containerd version:', i.ContainerdCommit?.ID ?? '');
    o += println(' runc version:', i.RuncCommit?.ID ?? '');
    o += println(' init version:', i.InitCommit?.ID ?? '');
    const sec = (i.SecurityOptions as string[] | null) ?? [];
    if (sec.length) {
      o += println(' Security Options:');
      for (const so of sec) {
        const kv = Object.fromEntries(so.split(',').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
        o += println(`  ${kv.name ?? so}`);
        if (kv.profile) o += println('   Profile:', kv.profile);
      }
    }
  }
  if (i.OSType === 'windows') o += println(' Default Isolation:', i.Isolation ?? '');
  nonEmpty(' Kernel Version:', i.KernelVersion);
  nonEmpty(' Operating System:', i.OperatingSystem);
  nonEmpty(' OSType:', i.OSType);
  nonEmpty(' Architecture:', i.Architecture);
  o += println(' CPUs:', i.NCPU ?? 0);
  o += println(' Total Memory:', bytesSize(i.MemTotal ?? 0));
  nonEmpty(' Name:', i.Name);
  nonEmpty(' ID:', i.ID);
  o += println(' Docker Root Dir:', i.DockerRootDir ?? '');
  o += println(' Debug Mode:', !!i.Debug);
  if (i.Debug || debug) {
    o += println('  File Descriptors:', i.NFd ?? 0);
    o += println('  Goroutines:', i.NGoroutines ?? 0);
    o += println('  System Time:', i.SystemTime ?? '');
    o += println('  EventsListeners:', i.NEventsListener ?? 0);
  }
  nonEmpty(' HTTP Proxy:', i.HttpProxy);
  nonEmpty(' HTTPS Proxy:', i.HttpsProxy);
  nonEmpty(' No Proxy:', i.NoProxy);
  nonEmpty(' Username:', cli.configFile().getAuth('https://index.docker.io/v1/').username);
  if ((i.Labels as string[] | null)?.length) {
    o += println(' Labels:');
    for (const l of i.Labels as string[]) o += println(`  ${l}`);
  }
  o += println(' Experimental:', !!i.ExperimentalBuild);
  const reg = i.RegistryConfig;
  if (reg && ((reg.InsecureRegistryCIDRs ?? []).length > 0 || Object.keys(reg.IndexConfigs ?? {}).length > 0)) {
    o += println(' Insecure Registries:');
    for (const rc of Object.values(reg.IndexConfigs ?? {}) as { Name: string; Secure: boolean }[]) if (!rc.Secure) o += println(`  ${rc.Name}`);
    // A CIDR string, or {IP, Mask} with a base64 mask from engines that marshal net.IPNet.
    for (const c of (reg.InsecureRegistryCIDRs ?? []) as (string | { IP: string; Mask: string })[]) {
      if (typeof c === 'string') o += `  ${c}\n`;
      else o += `  ${c.IP}/${[...Buffer.from(c.Mask ?? '', 'base64')].reduce((n, b) => n + b.toString(2).replace(/0/g, '').length, 0)}\n`;
    }
  }
  if ((reg?.Mirrors ?? []).length) {
    o += println(' Registry Mirrors:');
    for (const m of reg.Mirrors as string[]) o += println(`  ${m}`);
  }
  o += println(' Live Restore Enabled:', !!i.LiveRestoreEnabled);
  if (i.ProductLicense) o += println(' Product License:', i.ProductLicense);
  if ((i.DefaultAddressPools ?? []).length) {
    o += println(' Default Address Pools:');
    for (const p of i.DefaultAddressPools as { Base: string; Size: number }[]) o += `   Base: ${p.Base}, Size: ${p.Size}\n`;
  }
  o += '\n';
  for (const w of (i.Warnings as string[] | null) ?? []) e += `${w}\n`;
  return { out: o, err: e };
}

export function infoCommand(): CommandSpec<DockCli> {
  return {
    use: 'info [OPTIONS]',
    short: 'Display system-wide information',
    aliasPaths: ['system info', 'info'],
    categoryTop: 12,
    args: noArgs,
    flags: (f) => {
      f.string('format', 'f', '', INSPECT_FORMAT_HELP);
    },
    run: async ({ cli, flags }) => {
      const format = flags.get<string>('format');
      const client = await cli.client();
      const clientInfo = { ...clientVersion(cli), Debug: cli.opts.debug, Plugins: [] as unknown[] };
      if (format === '') {
        const info = await client.json<Record<string, unknown>>('GET', '/info');
        let o = 'Client:\n';
        o += println(' Version:   ', cli.version);
        o += println(' Context:   ', 'default');
        o += println(' Debug Mode:', cli.opts.debug);
        o += '\nServer:\n';
        cli.out.write(o);
        const p = prettyInfo(cli, info, cli.opts.debug);
        cli.out.write(p.out);
        if (p.err) cli.err.write(p.err);
        return;
      }
      let tmpl: Template;
      try {
        tmpl = new Template(format === 'json' ? '{{json .}}' : format);
      } catch (e) {
        throw new StatusError(`template parsing error: ${(e as Error).message}`, 64);
      }
      const info = await client.json<Record<string, unknown>>('GET', '/info');
      const data = { ...info, ClientInfo: clientInfo, ClientErrors: null, ServerErrors: null };
      try {
        cli.out.write(tmpl.execute(data, { printMode: 'typed', rootType: 'system.dockerInfo' }) + '\n');
      } catch (e) {
        cli.out.write(((e as { partial?: string }).partial ?? '') + '\n');
        throw e;
      }
    },
  };
}

const RFC3339_NANO_FIXED = (ns: bigint) => {
  const ms = Number(ns / 1_000_000n);
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const l = new Date(ms + off * 60000);
  const p = (n: number) => String(n).padStart(2, '0');
  const z = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  return `${l.getUTCFullYear()}-${p(l.getUTCMonth() + 1)}-${p(l.getUTCDate())}T${p(l.getUTCHours())}:${p(l.getUTCMinutes())}:${p(l.getUTCSeconds())}.${String(ns % 1_000_000_000n).padStart(9, '0')}${z}`;
};

type Event = { Type?: string; Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> }; time?: number; timeNano?: number | bigint };

/** Parses an event keeping timeNano exact (it exceeds 2^53). */
function parseEvent(text: string): Event {
  const e = JSON.parse(text.replace(/"timeNano":\s*(\d+)/, '"timeNano":"$1"')) as Record<string, unknown>;
  if (typeof e.timeNano === 'string') e.timeNano = BigInt(e.timeNano);
  return e as Event;
}

/**
 * The event as the docker CLI holds it, an events.Message: fields in the struct's order, the
 * deprecated status/id/from and scope/time/timeNano left out when empty (omitempty), Attributes a
 * map[string]string (sorted when encoded, "" for a missing key).
 */
function asMessage(e: Event & Record<string, unknown>): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  for (const k of ['status', 'id', 'from']) if (e[k]) m[k] = e[k];
  m.Type = e.Type ?? '';
  m.Action = e.Action ?? '';
  const attrs = e.Actor?.Attributes;
  m.Actor = { ID: e.Actor?.ID ?? '', Attributes: attrs ? typedMap(attrs, '') : null };
  for (const k of ['scope', 'time', 'timeNano']) if (e[k]) m[k] = e[k];
  return m;
}

export function prettyEvent(e: Event): string {
  let s = '';
  if (e.timeNano) s += `${RFC3339_NANO_FIXED(BigInt(e.timeNano))} `;
  else if (e.time) s += `${RFC3339_NANO_FIXED(BigInt(e.time) * 1_000_000_000n)} `;
  s += `${e.Type ?? ''} ${e.Action ?? ''} ${e.Actor?.ID ?? ''}`;
  const attrs = e.Actor?.Attributes ?? {};
  const keys = Object.keys(attrs).sort();
  if (keys.length) s += ` (${keys.map((k) => `${k}=${attrs[k]}`).join(', ')})`;
  return s + '\n';
}

export function eventsCommand(): CommandSpec<DockCli> {
  return {
    use: 'events [OPTIONS]',
    short: 'Get real time events from the server',
    aliasPaths: ['system events', 'events'],
    args: noArgs,
    flags: (f) => {
      f.string('since', '', '', 'Show all events created since timestamp');
      f.string('until', '', '', 'Stream events until this timestamp');
      f.var(new FilterValue(), 'filter', 'f', 'Filter output based on conditions provided');
      f.string('format', '', '', INSPECT_FORMAT_HELP);
    },
    run: async ({ cli, flags }) => {
      const format = flags.get<string>('format');
      let tmpl: Template | undefined;
      if (format) {
        try {
          tmpl = new Template(format === 'json' ? '{{json .}}' : format);
          tmpl.execute({ Type: '', Action: '', Actor: { ID: '', Attributes: {} }, scope: '', time: 0, timeNano: 0, status: '', id: '', from: '' });
        } catch (e) {
          throw new StatusError(`Error parsing format: ${(e as Error).message}`, 64);
        }
      }
      const now = Date.now();
      const q: Record<string, string> = {};
      for (const k of ['since', 'until'] as const) if (flags.get<string>(k)) q[k] = getTimestamp(flags.get<string>(k), now);
      const filters = flags.get<Filters>('filter');
      if (Object.keys(filters).length) q.filters = encodeFilters(filters);
      const client = await cli.client();
      const res = await client.request('GET', '/events', { query: q });
      for await (const text of decodeJsonTexts(res)) {
        const e = parseEvent(text);
        if (tmpl) {
          let s: string;
          try {
            s = tmpl.execute(asMessage(e as Event & Record<string, unknown>));
          } catch (err) {
            cli.out.write(((err as { partial?: string }).partial ?? '') + '\n');
            throw err;
          }
          cli.out.write(s + '\n');
        } else cli.out.write(prettyEvent(e));
      }
    },
  };
}

class DuSection extends GoStruct {
  constructor(
    readonly Type: string,
    readonly TotalCount: string,
    readonly Active: string,
    readonly Size: string,
    readonly Reclaimable: string,
  ) {
    super();
  }
  goType(): string {
    return '*formatter.diskUsageContext';
  }
}

function pctOf(reclaim: number, total: number): string {
  return total > 0 ? `${humanSize(reclaim)} (${Math.trunc((reclaim * 100) / total)}%)` : humanSize(reclaim);
}

type DiskUsage = { LayersSize?: number; Images?: ImageSummary[] | null; Containers?: (ContainerSummary & { SizeRw?: number; State?: string })[] | null; Volumes?: Volume[] | null; BuildCache?: { Size: number; Shared: boolean; InUse: boolean }[] | null };

export function dfCommand(): CommandSpec<DockCli> {
  return {
    use: 'df [OPTIONS]',
    short: 'Show docker disk usage',
    args: noArgs,
    flags: (f) => {
      f.string('format', '', '', FORMAT_HELP);
      f.bool('verbose', 'v', false, 'Show detailed information on space usage');
    },
    run: async ({ cli, flags }) => {
      const client = await cli.client();
      const du = await client.json<DiskUsage>('GET', '/system/df');
      const format = flags.get<string>('format') || TABLE;
      const images = du.Images ?? [];
      const containers = du.Containers ?? [];
      const volumes = du.Volumes ?? [];
      const cache = du.BuildCache ?? [];
      const active = (s?: string) => s === 'running' || s === 'paused' || s === 'restarting';
      if (flags.get<boolean>('verbose')) {
        if (format !== TABLE) throw new Error('dock system df: --verbose takes no --format');
        let o = 'Images space usage:\n\n';
        o += renderList('table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}', { ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', CreatedSince: 'CREATED', Size: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', Containers: 'CONTAINERS' }, images.map((i) => {
          let repo = '<none>';
          let tag = '<none>';
          const t = i.RepoTags?.[0];
          if (t && t !== '<none>:<none>') {
            try {
              const r = parseNormalized(t);
              if (r.tag !== undefined) {
                repo = familiarRepository(r);
                tag = r.tag;
              }
            } catch {
              /* keep <none> */
            }
          }
          return new ImageContext(i, true, repo, tag);
        }));
        o += '\nContainers space usage:\n\n';
        o += renderList('table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}', { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', LocalVolumes: 'LOCAL VOLUMES', Size: 'SIZE', RunningFor: 'CREATED', Status: 'STATUS', Names: 'NAMES' }, containers.map((c) => new ContainerContext({ ...c, SizeRootFs: 0 }, true)));
        o += '\nLocal Volumes space usage:\n\n';
        o += renderList('table {{.Name}}\t{{.Links}}\t{{.Size}}', { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' }, volumes.map((v) => new VolumeContext(v)));
        const bsz = cache.filter((b) => !b.Shared).reduce((n, b) => n + b.Size, 0);
        o += `\nBuild cache usage: ${humanSize(bsz)}\n\n`;
        o += renderList('table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}', { ID: 'CACHE ID', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', Shared: 'SHARED' }, []);
        cli.out.write(o);
        return;
      }
      const total = du.LayersSize ?? 0;
      const usedImg = images.filter((i) => (i.Containers ?? 0) !== 0 && i.Size !== -1 && i.SharedSize !== -1).reduce((n, i) => n + (i.Size ?? 0) - (i.SharedSize ?? 0), 0);
      const cSize = containers.reduce((n, c) => n + (c.SizeRw ?? 0), 0);
      const cReclaim = containers.filter((c) => !active(c.State)).reduce((n, c) => n + (c.SizeRw ?? 0), 0);
      const vSized = volumes.filter((v) => (v.UsageData?.Size ?? -1) !== -1);
      const vSize = vSized.reduce((n, v) => n + v.UsageData!.Size, 0);
      const vReclaim = vSized.filter((v) => v.UsageData!.RefCount === 0).reduce((n, v) => n + v.UsageData!.Size, 0);
      const bsz = cache.filter((b) => !b.Shared).reduce((n, b) => n + b.Size, 0);
      const bInUse = cache.filter((b) => b.InUse && !b.Shared).reduce((n, b) => n + b.Size, 0);
      const rows = [
        new DuSection('Images', String(images.length), String(images.filter((i) => (i.Containers ?? 0) > 0).length), humanSize(total), pctOf(total - usedImg, total)),
        new DuSection('Containers', String(containers.length), String(containers.filter((c) => active(c.State)).length), humanSize(cSize), pctOf(cReclaim, cSize)),
        new DuSection('Local Volumes', String(volumes.length), String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length), humanSize(vSize), pctOf(vReclaim, vSize)),
        new DuSection('Build Cache', String(cache.length), String(cache.filter((b) => b.InUse).length), humanSize(bsz), humanSize(bsz - bInUse)),
      ];
      const fmt = format === TABLE ? 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}' : format;
      cli.out.write(renderList(fmt, { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' }, rows));
    },
  };
}

export function systemPruneCommand(): CommandSpec<DockCli> {
  return {
    use: 'prune [OPTIONS]',
    short: 'Remove unused data',
    args: noArgs,
    flags: (f) => {
      f.bool('force', 'f', false, 'Do not prompt for confirmation');
      f.bool('all', 'a', false, 'Remove all unused images not just dangling ones');
      f.bool('volumes', '', false, 'Prune anonymous volumes');
      f.var(new FilterValue(), 'filter', '', 'Provide filter values (e.g. "label=<key>=<value>")');
    },
    run: async ({ cli, flags }) => {
      const all = flags.get<boolean>('all');
      const vols = flags.get<boolean>('volumes');
      const user = flags.get<Filters>('filter');
      if (vols && user.until) throw new Error('ERROR: The "until" filter is not supported with "--volumes"');
      const filters = withConfigPruneFilters(cli, user);
      if (!flags.get<boolean>('force')) {
        const warnings = ['all stopped containers', 'all networks not used by at least one container'];
        if (vols) warnings.push('all anonymous volumes not used by at least one container');
        warnings.push(all ? 'all images without at least one container associated to them' : 'all dangling images');
        warnings.push(all ? 'all build cache' : 'unused build cache');
        let msg = `WARNING! This will remove:${warnings.map((w) => `\n  - ${w}`).join('')}\n`;
        const fl: string[] = [];
        for (const name of ['label', 'label!', 'until']) for (const v of Object.keys(filters[name] ?? {})) fl.push(`${name}=${v}`);
        if (fl.length) msg += `\n  Items to be pruned will be filtered with:${fl.sort().map((x) => `\n  - ${x}`).join('')}\n`;
        msg += '\nAre you sure you want to continue?';
        if (!(await confirm(cli, msg))) throw CANCELLED;
      }
      const client = await cli.client();
      const steps: (() => Promise<PruneResult>)[] = [() => pruneContainers(client, filters), () => pruneNetworks(client, filters)];
      if (vols) steps.push(() => pruneVolumes(client, filters));
      steps.push(() => pruneImages(client, filters, all));
      steps.push(() => pruneBuildCache(client, filters, all));
      let space = 0;
      for (const s of steps) {
        const r = await s();
        space += r.space;
        if (r.output) cli.out.write(`${r.output}\n`);
      }
      cli.out.write(`Total reclaimed space: ${humanSize(space)}\n`);
    },
  };
}

export { errorText };
