// What the container engine asks of networking, at create, start, stop and remove. The basic
// implementation here serves `none`, `host` and `container:<id>`; the bridge networks of
// src/manager/network implement the same interface.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { RuntimeError } from '../../errors/index';
import type { ContainerConfig, ContainerRecord, HostConfig, NetworkSettings } from './types';

export type NetworkSetup = {
  /** 'new' (a private namespace with lo only), 'host', or a namespace path to join. */
  netns: 'new' | 'host' | string;
  /** Files to bind over /etc/hosts, /etc/hostname, /etc/resolv.conf. */
  etcFiles: { hosts?: string; hostname?: string; resolvConf?: string };
  /** Extra environment (--link variables). */
  env?: string[];
};

export interface NetworkHooks {
  /** Refuses network settings the daemon cannot honour (before anything is made). */
  validate(rec: { HostConfig: HostConfig; Config: ContainerConfig }, endpoints: Record<string, unknown>): Promise<void>;
  /** The NetworkSettings a new container starts with (reserves names/aliases, not addresses). */
  created(rec: ContainerRecord, endpoints: Record<string, unknown>): Promise<NetworkSettings>;
  /** Before the task is created: namespace, /etc files; updates rec.NetworkSettings. */
  setup(rec: ContainerRecord, dir: string, resolvePid: (ref: string) => number): Promise<NetworkSetup>;
  /** After the task exited: releases what setup made (addresses, ports, namespace). */
  teardown(rec: ContainerRecord): Promise<void>;
  /** The container is gone. */
  removed(rec: ContainerRecord): Promise<void>;
  /** The container was renamed (DNS names follow). */
  renamed(rec: ContainerRecord, oldName: string): Promise<void>;
}

const HOSTS_BASE = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';

/** The host's resolv.conf without loopback nameservers (a container cannot reach them). */
export async function hostResolvConf(extra: { dns?: string[]; search?: string[]; options?: string[] } = {}): Promise<string> {
  let text = '';
  try {
    text = await fs.readFile('/etc/resolv.conf', 'utf8');
  } catch {
    /* none */
  }
  const lines = text.split('\n');
  let ns = lines.filter((l) => /^\s*nameserver\s/.test(l)).map((l) => l.trim().split(/\s+/)[1]!).filter((a) => !/^127\./.test(a) && a !== '::1');
  let search = lines.filter((l) => /^\s*search\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  let options = lines.filter((l) => /^\s*options\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  if (extra.dns?.length) ns = extra.dns;
  if (extra.search?.length) search = extra.search.filter((s) => s !== '.');
  if (extra.options?.length) options = extra.options;
  if (ns.length === 0) ns = ['8.8.8.8', '8.8.4.4'];
  let out = '';
  if (search.length) out += `search ${search.join(' ')}\n`;
  for (const n of ns) out += `nameserver ${n}\n`;
  if (options.length) out += `options ${options.join(' ')}\n`;
  return out;
}

/** none, host and container:<ref> only; bridge and user networks are refused. */
export class BasicNetworking implements NetworkHooks {
  /** Networks are looked up at start, as dockerd does (create accepts any name). */
  async validate(): Promise<void> {}

  async created(): Promise<NetworkSettings> {
    return { Bridge: '', SandboxID: '', SandboxKey: '', Ports: {}, IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '', Networks: {} };
  }

  async setup(rec: ContainerRecord, dir: string, resolvePid: (ref: string) => number): Promise<NetworkSetup> {
    const mode = rec.HostConfig.NetworkMode || 'default';
    const h = rec.HostConfig;
    if (mode !== 'none' && mode !== 'host' && !mode.startsWith('container:')) {
      throw new RuntimeError('NotFound', `network ${mode === 'default' ? 'bridge' : mode} not found`);
    }
    if (mode.startsWith('container:')) {
      const pid = resolvePid(mode.slice('container:'.length));
      return { netns: `/proc/${pid}/ns/net`, etcFiles: {} };
    }
    const hosts = path.join(dir, 'hosts');
    const hostname = path.join(dir, 'hostname');
    const resolv = path.join(dir, 'resolv.conf');
    let hostsText: string;
    let name = rec.Config.Hostname || rec.ID.slice(0, 12);
    if (mode === 'host') {
      hostsText = await fs.readFile('/etc/hosts', 'utf8').catch(() => HOSTS_BASE);
      if (!rec.Config.Hostname || rec.Config.Hostname === rec.ID.slice(0, 12)) name = os.hostname();
    } else hostsText = HOSTS_BASE;
    for (const e of h.ExtraHosts ?? []) {
      const i = e.indexOf(':');
      hostsText += `${e.slice(i + 1)}\t${e.slice(0, i)}\n`;
    }
    await fs.writeFile(hosts, hostsText, { mode: 0o644 });
    await fs.writeFile(hostname, `${name}\n`, { mode: 0o644 });
    await fs.writeFile(resolv, await hostResolvConf({ dns: h.Dns ?? undefined, search: h.DnsSearch ?? undefined, options: h.DnsOptions ?? undefined }), { mode: 0o644 });
    return { netns: mode === 'host' ? 'host' : 'new', etcFiles: { hosts, hostname, resolvConf: resolv } };
  }

  async teardown(): Promise<void> {}
  async removed(): Promise<void> {}
  async renamed(): Promise<void> {}
}
