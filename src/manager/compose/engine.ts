// Typed wrappers of the Engine API endpoints dock compose calls, over the shared EngineClient
// (src/manager/api/client.ts). Shapes are the subset of Docker's JSON that compose reads; the
// endpoint names follow the API reference. No compose logic here.
import type * as net from 'node:net';
import type { Readable } from 'node:stream';
import { ApiError, readAll, type EngineClient, type Query } from '../api/client';

export type PortSummary = { IP?: string; PrivatePort: number; PublicPort?: number; Type: string };
export type MountSummary = { Type: string; Name?: string; Source: string; Destination: string; RW: boolean };

export type ContainerSummary = {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  State: string;
  Status: string;
  Ports: PortSummary[];
  Labels: Record<string, string> | null;
  Mounts?: MountSummary[];
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string; NetworkID?: string }> };
};

export type ContainerInspect = {
  Id: string;
  Name: string;
  Image: string;
  Created: string;
  Config: { Image: string; Labels: Record<string, string> | null; Tty?: boolean; OpenStdin?: boolean; Env?: string[] | null; Cmd?: string[] | null; Entrypoint?: string[] | null };
  State: { Status: string; Running: boolean; Paused: boolean; ExitCode: number; Health?: { Status: string }; StartedAt?: string; FinishedAt?: string };
  NetworkSettings: { Ports?: Record<string, { HostIp: string; HostPort: string }[] | null> | null; Networks?: Record<string, { Aliases?: string[] | null; IPAddress?: string }> };
  Mounts: MountSummary[];
  HostConfig: { NetworkMode?: string; AutoRemove?: boolean };
};

export type NetworkSummary = { Id: string; Name: string; Driver: string; Labels: Record<string, string> | null; Internal?: boolean };
export type VolumeSummary = { Name: string; Driver: string; Labels: Record<string, string> | null; Mountpoint?: string };
export type ImageInspect = { Id: string; RepoTags?: string[] | null; RepoDigests?: string[] | null; Size?: number; Created?: string; Config?: { Volumes?: Record<string, unknown> | null } };
export type ImageSummary = { Id: string; RepoTags?: string[] | null; Size: number; Created: number };
export type JsonMessage = { status?: string; id?: string; progress?: string; stream?: string; error?: string; errorDetail?: { message?: string }; aux?: { ID?: string } };
export type EngineEvent = { Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> }; time: number; timeNano: number; status?: string; id?: string; from?: string };

const enc = encodeURIComponent;

/** Runs fn and maps a 404 to undefined (inspect-or-nothing). */
async function orUndefined<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return undefined;
    throw e;
  }
}

export class Engine {
  constructor(readonly client: EngineClient) {}

  apiVersion(): Promise<string> {
    return this.client.apiVersion();
  }

  version(): Promise<{ Version: string; ApiVersion: string; Os?: string; Arch?: string }> {
    return this.client.json('GET', '/version');
  }

  listContainers(filters: Record<string, string[]>, all = true): Promise<ContainerSummary[]> {
    return this.client.json('GET', '/containers/json', { query: { all, filters } });
  }

  inspectContainer(id: string): Promise<ContainerInspect> {
    return this.client.json('GET', `/containers/${enc(id)}/json`);
  }

  async createContainer(name: string | undefined, body: unknown, platform?: string): Promise<string> {
    const r = await this.client.json<{ Id: string; Warnings?: string[] }>('POST', '/containers/create', { query: { name, platform }, body });
    return r.Id;
  }

  async startContainer(id: string): Promise<void> {
    await this.client.json('POST', `/containers/${enc(id)}/start`);
  }

  async stopContainer(id: string, timeout?: number): Promise<void> {
    await this.client.json('POST', `/containers/${enc(id)}/stop`, { query: { t: timeout } });
  }

  async restartContainer(id: string, timeout?: number): Promise<void> {
    await this.client.json('POST', `/containers/${enc(id)}/restart`, { query: { t: timeout } });
  }

  async killContainer(id: string, signal?: string): Promise<void> {
    await this.client.json('POST', `/containers/${enc(id)}/kill`, { query: { signal } });
  }

  async pauseContainer(id: string): Promise<void> {
    await this.client.json('POST', `/containers/${enc(id)}/pause`);
  }

  async unpauseContainer(id: string): Promise<void> {
    await this.client.json('POST', `/containers/${enc(id)}/unpause`);
  }

  async removeContainer(id: string, o: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    await this.client.json('DELETE', `/containers/${enc(id)}`, { query: { force: o.force, v: o.volumes } });
  }

  async renameContainer(id: string, name: string): Promise<void> {
    await this.client.json('POST', `/containers/${enc(id)}/rename`, { query: { name } });
  }

  /** POST /containers/{id}/wait: resolves with the exit status. */
  async waitContainer(id: string, condition: 'not-running' | 'next-exit' | 'removed' = 'not-running', signal?: AbortSignal): Promise<number> {
    const r = await this.client.json<{ StatusCode: number }>('POST', `/containers/${enc(id)}/wait`, { query: { condition }, signal });
    return r.StatusCode;
  }

  /** Hijacked attach: the raw socket (multiplexed unless the container has a TTY). */
  attachContainer(id: string, o: { stdin?: boolean; logs?: boolean } = {}): Promise<net.Socket> {
    return this.client.hijack('POST', `/containers/${enc(id)}/attach`, { query: { stream: true, stdout: true, stderr: true, stdin: o.stdin ?? false, logs: o.logs ?? false } });
  }

  async resizeContainer(id: string, h: number, w: number): Promise<void> {
    await this.client.json('POST', `/containers/${enc(id)}/resize`, { query: { h, w } });
  }

  /** GET /containers/{id}/logs as a stream. */
  async containerLogs(id: string, q: Query, signal?: AbortSignal): Promise<Readable> {
    return this.client.request('GET', `/containers/${enc(id)}/logs`, { query: q, signal });
  }

  top(id: string, psArgs?: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    return this.client.json('GET', `/containers/${enc(id)}/top`, { query: { ps_args: psArgs } });
  }

  async createExec(id: string, body: unknown): Promise<string> {
    const r = await this.client.json<{ Id: string }>('POST', `/containers/${enc(id)}/exec`, { body });
    return r.Id;
  }

  startExec(execId: string, tty: boolean): Promise<net.Socket> {
    return this.client.hijack('POST', `/exec/${enc(execId)}/start`, { body: { Detach: false, Tty: tty } });
  }

  inspectExec(execId: string): Promise<{ ExitCode: number | null; Running: boolean; Pid?: number }> {
    return this.client.json('GET', `/exec/${enc(execId)}/json`);
  }

  async resizeExec(execId: string, h: number, w: number): Promise<void> {
    await this.client.json('POST', `/exec/${enc(execId)}/resize`, { query: { h, w } });
  }

  listNetworks(filters?: Record<string, string[]>): Promise<NetworkSummary[]> {
    return this.client.json('GET', '/networks', { query: { filters } });
  }

  inspectNetwork(name: string): Promise<NetworkSummary | undefined> {
    return orUndefined(() => this.client.json<NetworkSummary>('GET', `/networks/${enc(name)}`));
  }

  async createNetwork(body: unknown): Promise<string> {
    const r = await this.client.json<{ Id: string }>('POST', '/networks/create', { body });
    return r.Id;
  }

  async removeNetwork(name: string): Promise<void> {
    await this.client.json('DELETE', `/networks/${enc(name)}`);
  }

  async connectNetwork(network: string, container: string, endpoint: unknown): Promise<void> {
    await this.client.json('POST', `/networks/${enc(network)}/connect`, { body: { Container: container, EndpointConfig: endpoint } });
  }

  async listVolumes(filters?: Record<string, string[]>): Promise<VolumeSummary[]> {
    const r = await this.client.json<{ Volumes: VolumeSummary[] | null }>('GET', '/volumes', { query: { filters } });
    return r.Volumes ?? [];
  }

  inspectVolume(name: string): Promise<VolumeSummary | undefined> {
    return orUndefined(() => this.client.json<VolumeSummary>('GET', `/volumes/${enc(name)}`));
  }

  async createVolume(body: unknown): Promise<void> {
    await this.client.json('POST', '/volumes/create', { body });
  }

  async removeVolume(name: string): Promise<void> {
    await this.client.json('DELETE', `/volumes/${enc(name)}`);
  }

  inspectImage(name: string): Promise<ImageInspect | undefined> {
    return orUndefined(() => this.client.json<ImageInspect>('GET', `/images/${enc(name)}/json`));
  }

  listImages(filters?: Record<string, string[]>): Promise<ImageSummary[]> {
    return this.client.json('GET', '/images/json', { query: { filters } });
  }

  async removeImage(name: string, force = false): Promise<void> {
    await this.client.json('DELETE', `/images/${enc(name)}`, { query: { force } });
  }

  /** POST /images/create?fromImage=&tag= as a JSON-message stream. */
  pullImage(fromImage: string, tag: string, auth?: string, platform?: string): AsyncGenerator<JsonMessage> {
    return this.client.jsonStream<JsonMessage>('POST', '/images/create', { query: { fromImage, tag, platform }, headers: auth ? { 'X-Registry-Auth': auth } : {} });
  }

  pushImage(name: string, tag: string, auth: string): AsyncGenerator<JsonMessage> {
    return this.client.jsonStream<JsonMessage>('POST', `/images/${enc(name)}/push`, { query: { tag }, headers: { 'X-Registry-Auth': auth } });
  }

  /** POST /build with a tar context (classic builder). */
  build(context: Readable, q: Query, headers: Record<string, string> = {}): AsyncGenerator<JsonMessage> {
    return this.client.jsonStream<JsonMessage>('POST', '/build', { query: q, body: context, contentType: 'application/x-tar', headers });
  }

  events(filters: Record<string, string[]>, signal?: AbortSignal, since?: string): AsyncGenerator<EngineEvent> {
    return this.client.jsonStream<EngineEvent>('GET', '/events', { query: { filters, since }, signal });
  }
}

export { readAll };
