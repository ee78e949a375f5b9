// The normalized compose project: what the loader produces and every other part of dock compose
// reads. Keys keep the compose-spec spelling, so `config` prints the model as it is. No engine
// types here, and nothing is resolved against an engine.

export type PortConfig = {
  mode: 'ingress' | 'host';
  host_ip?: string;
  target: number;
  /** A host port or a host port range ("8000-8002"); absent: the engine picks one. */
  published?: string;
  protocol: 'tcp' | 'udp' | 'sctp';
  name?: string;
};

export type VolumeMount = {
  type: 'bind' | 'volume' | 'tmpfs' | 'npipe';
  /** Absolute host path (bind), volume key (volume; absent when anonymous). */
  source?: string;
  target: string;
  read_only?: boolean;
  bind?: { create_host_path?: boolean; propagation?: string; selinux?: string };
  volume?: { nocopy?: boolean; subpath?: string };
  tmpfs?: { size?: number; mode?: number };
};

export type ServiceNetwork = {
  aliases?: string[];
  ipv4_address?: string;
  ipv6_address?: string;
  priority?: number;
};

export type DependsOnCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export type DependsOn = { condition: DependsOnCondition; required: boolean; restart: boolean };

export type Healthcheck = {
  test?: string[];
  interval?: string;
  timeout?: string;
  start_period?: string;
  start_interval?: string;
  retries?: number;
  disable?: boolean;
};

export type BuildConfig = {
  context: string;
  dockerfile?: string;
  args?: Record<string, string | null>;
  target?: string;
  labels?: Record<string, string>;
  network?: string;
  cache_from?: string[];
  extra_hosts?: string[];
  shm_size?: number | string;
  pull?: boolean;
  no_cache?: boolean;
};

export type Ulimit = number | { soft: number; hard: number };

export type Logging = { driver?: string; options?: Record<string, string> };

export type Service = {
  name: string;
  image?: string;
  build?: BuildConfig;
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment?: Record<string, string | null>;
  ports?: PortConfig[];
  expose?: string[];
  volumes?: VolumeMount[];
  volumes_from?: string[];
  networks?: Record<string, ServiceNetwork | null>;
  network_mode?: string;
  links?: string[];
  external_links?: string[];
  depends_on?: Record<string, DependsOn>;
  healthcheck?: Healthcheck;
  restart?: string;
  deploy?: { replicas?: number; restart_policy?: { condition?: string; max_attempts?: number }; resources?: Record<string, unknown>; labels?: Record<string, string> };
  scale?: number;
  labels?: Record<string, string>;
  container_name?: string;
  hostname?: string;
  domainname?: string;
  user?: string;
  working_dir?: string;
  stop_signal?: string;
  stop_grace_period?: string;
  tty?: boolean;
  stdin_open?: boolean;
  init?: boolean;
  cap_add?: string[];
  cap_drop?: string[];
  privileged?: boolean;
  read_only?: boolean;
  tmpfs?: string[];
  ulimits?: Record<string, Ulimit>;
  sysctls?: Record<string, string>;
  extra_hosts?: string[];
  dns?: string[];
  dns_search?: string[];
  dns_opt?: string[];
  logging?: Logging;
  profiles?: string[];
  pull_policy?: string;
  platform?: string;
  ipc?: string;
  pid?: string;
  shm_size?: number | string;
  mem_limit?: number | string;
  memswap_limit?: number | string;
  mem_reservation?: number | string;
  cpus?: number | string;
  cpu_shares?: number;
  security_opt?: string[];
  devices?: string[];
  group_add?: string[];
  mac_address?: string;
  oom_score_adj?: number;
  pids_limit?: number;
  cgroup_parent?: string;
  runtime?: string;
  userns_mode?: string;
};

export type IpamConfig = { subnet?: string; gateway?: string; ip_range?: string; aux_addresses?: Record<string, string> };

export type Network = {
  /** The engine's name of the network (`<project>_<key>` unless `name:` or external). */
  name: string;
  driver?: string;
  driver_opts?: Record<string, string>;
  ipam?: { driver?: string; config?: IpamConfig[]; options?: Record<string, string> };
  internal?: boolean;
  attachable?: boolean;
  enable_ipv6?: boolean;
  labels?: Record<string, string>;
  external?: boolean;
};

export type Volume = {
  name: string;
  driver?: string;
  driver_opts?: Record<string, string>;
  labels?: Record<string, string>;
  external?: boolean;
};

export type Project = {
  name: string;
  /** Absolute project directory (relative paths in the files resolve against it). */
  workingDir: string;
  /** Absolute paths of the files, in merge order. */
  configFiles: string[];
  /** --env-file paths, absolute (the project label environment_file). */
  envFiles: string[];
  /** Variables used for interpolation: the .env file, then the process environment over it. */
  environment: Record<string, string>;
  /** Enabled services (active profiles, or named on the command line). */
  services: Record<string, Service>;
  /** Services left out by the active profiles. */
  disabledServices: Record<string, Service>;
  networks: Record<string, Network>;
  volumes: Record<string, Volume>;
  /** The fig / v1 layout: services at the top level, default bridge, legacy links. */
  legacy: boolean;
  /** Non-fatal remarks of loading (unset variables, obsolete keys), printed by the command. */
  warnings: string[];
};

/** How many containers a service runs: scale, else deploy.replicas, else 1. */
export function replicasOf(s: Service): number {
  return s.scale ?? s.deploy?.replicas ?? 1;
}

/** Services this one must follow: depends_on (which the loader fills from links, volumes_from and service: modes). */
export function dependenciesOf(s: Service): string[] {
  return Object.keys(s.depends_on ?? {});
}

/** Service names in dependency order (dependencies first); ties in name order. */
export function serviceOrder(services: Record<string, Service>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (n: string) => {
    if (seen.has(n) || !services[n]) return;
    seen.add(n);
    for (const d of dependenciesOf(services[n]).sort()) visit(d);
    out.push(n);
  };
  for (const n of Object.keys(services).sort()) visit(n);
  return out;
}

/** A project known only by name (commands run without a compose file, e.g. `down -p name`). */
export function namedProject(name: string): Project {
  return { name, workingDir: '', configFiles: [], envFiles: [], environment: {}, services: {}, disabledServices: {}, networks: {}, volumes: {}, legacy: false, warnings: [] };
}
