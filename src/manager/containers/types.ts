// The shapes of a container as the Engine API carries them (Docker's Config, HostConfig, State,
// MountPoint, NetworkSettings) and the record dock keeps per container. Types only.

export type PortMap = Record<string, { HostIp: string; HostPort: string }[] | null>;

export type HealthConfig = { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number; StartInterval?: number };

/** Docker's container Config (create body top level). */
export type ContainerConfig = {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: HealthConfig | null;
  ArgsEscaped?: boolean;
  Image?: string;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  NetworkDisabled?: boolean;
  MacAddress?: string;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number | null;
  Shell?: string[] | null;
};

export type RestartPolicy = { Name: '' | 'no' | 'always' | 'unless-stopped' | 'on-failure'; MaximumRetryCount?: number };

export type MountSpec = {
  Type: 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster';
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string>; DriverConfig?: { Name?: string; Options?: Record<string, string> } };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
};

export type Ulimit = { Name: string; Soft: number; Hard: number };
export type DeviceMapping = { PathOnHost: string; PathInContainer: string; CgroupPermissions: string };

/** Docker's HostConfig (the fields dock acts on; unknown ones are kept as sent). */
export type HostConfig = {
  Binds?: string[] | null;
  ContainerIDFile?: string;
  LogConfig?: { Type: string; Config?: Record<string, string> };
  NetworkMode?: string;
  PortBindings?: PortMap | null;
  RestartPolicy?: RestartPolicy;
  AutoRemove?: boolean;
  VolumeDriver?: string;
  VolumesFrom?: string[] | null;
  ConsoleSize?: [number, number];
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  CgroupnsMode?: string;
  Dns?: string[] | null;
  DnsOptions?: string[] | null;
  DnsSearch?: string[] | null;
  ExtraHosts?: string[] | null;
  GroupAdd?: string[] | null;
  IpcMode?: string;
  Cgroup?: string;
  Links?: string[] | null;
  OomScoreAdj?: number;
  PidMode?: string;
  Privileged?: boolean;
  PublishAllPorts?: boolean;
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[] | null;
  StorageOpt?: Record<string, string> | null;
  Tmpfs?: Record<string, string> | null;
  UTSMode?: string;
  UsernsMode?: string;
  ShmSize?: number;
  Sysctls?: Record<string, string> | null;
  Runtime?: string;
  Isolation?: string;
  CpuShares?: number;
  Memory?: number;
  NanoCpus?: number;
  CgroupParent?: string;
  BlkioWeight?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpuRealtimePeriod?: number;
  CpuRealtimeRuntime?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  Devices?: DeviceMapping[] | null;
  DeviceCgroupRules?: string[] | null;
  KernelMemory?: number;
  MemoryReservation?: number;
  MemorySwap?: number;
  MemorySwappiness?: number | null;
  OomKillDisable?: boolean | null;
  PidsLimit?: number | null;
  Ulimits?: Ulimit[] | null;
  Mounts?: MountSpec[] | null;
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
  Init?: boolean | null;
  [k: string]: unknown;
};

export type EndpointSettings = {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  Links?: string[] | null;
  Aliases?: string[] | null;
  MacAddress?: string;
  NetworkID?: string;
  EndpointID?: string;
  Gateway?: string;
  IPAddress?: string;
  IPPrefixLen?: number;
  IPv6Gateway?: string;
  GlobalIPv6Address?: string;
  GlobalIPv6PrefixLen?: number;
  DriverOpts?: Record<string, string> | null;
  DNSNames?: string[] | null;
};

export type NetworkSettings = {
  Bridge: string;
  SandboxID: string;
  SandboxKey: string;
  Ports: PortMap;
  IPAddress: string;
  IPPrefixLen: number;
  Gateway: string;
  MacAddress: string;
  Networks: Record<string, EndpointSettings>;
};

export type HealthLog = { Start: string; End: string; ExitCode: number; Output: string };
export type Health = { Status: 'starting' | 'healthy' | 'unhealthy' | 'none'; FailingStreak: number; Log: HealthLog[] };

/** Docker's State (inspect), kept in the record. */
export type ContainerState = {
  Status: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: Health;
};

/** A mount as inspect reports it. */
export type MountPoint = {
  Type: 'bind' | 'volume' | 'tmpfs';
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
};

/** What dock stores per container (config.v2.json). */
export type ContainerRecord = {
  ID: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  /** sha256:… of the image config. */
  Image: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: 'linux';
  Config: ContainerConfig;
  HostConfig: HostConfig;
  NetworkSettings: NetworkSettings;
  MountPoints: MountPoint[];
  /** Snapshot key of the container's writable layer. */
  SnapshotKey: string;
  /** Set by stop/kill from a user, cleared by start: restart policies and daemon start honour it. */
  HasBeenManuallyStopped: boolean;
  HasBeenStartedBefore: boolean;
  /** Anonymous volumes made for this container (removed by rm -v). */
  AnonymousVolumes: string[];
  /** Address of the shim serving the task, while there is one. */
  ShimAddress?: string;
  /** Error class of the last start failure (exit code 126/127/128 for the CLI). */
  LastStartError?: string;
};

export const ZERO_TIME = '0001-01-01T00:00:00Z';
