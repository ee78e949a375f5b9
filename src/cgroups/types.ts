// Data shapes of the cgroup layer: the runtime-spec linux.resources subset we apply (spelled as the
// spec spells it, structurally compatible with spec/types), and runc's `events --stats` Stats shape.
// Types only; no behaviour lives here.

/** One linux.resources.devices entry (runtime-spec config-linux.md#allowed-device-list). */
export type LinuxDeviceCgroup = {
  allow: boolean;
  type?: string;
  major?: number;
  minor?: number;
  access?: string;
};

export type LinuxThrottleDevice = { major: number; minor: number; rate: number };
export type LinuxWeightDevice = { major: number; minor: number; weight?: number; leafWeight?: number };

/** linux.resources of runtime-spec v1.3. */
export type LinuxResources = {
  unified?: Record<string, string>;
  devices?: LinuxDeviceCgroup[];
  pids?: { limit: number };
  blockIO?: {
    weight?: number;
    leafWeight?: number;
    weightDevice?: LinuxWeightDevice[];
    throttleReadBpsDevice?: LinuxThrottleDevice[];
    throttleWriteBpsDevice?: LinuxThrottleDevice[];
    throttleReadIOPSDevice?: LinuxThrottleDevice[];
    throttleWriteIOPSDevice?: LinuxThrottleDevice[];
  };
  cpu?: {
    cpus?: string;
    mems?: string;
    period?: number;
    quota?: number;
    burst?: number;
    realtimePeriod?: number;
    realtimeRuntime?: number;
    shares?: number;
    idle?: number;
  };
  hugepageLimits?: { pageSize: string; limit: number }[];
  memory?: {
    kernel?: number;
    kernelTCP?: number;
    limit?: number;
    reservation?: number;
    swap?: number;
    swappiness?: number;
    disableOOMKiller?: boolean;
    useHierarchy?: boolean;
    checkBeforeUpdate?: boolean;
  };
  network?: { classID?: number; priorities?: { name: string; priority: number }[] };
  rdma?: Record<string, { hcaHandles?: number; hcaObjects?: number }>;
};

/** How the host mounts cgroups: only v1 hierarchies, v1 plus an unused cgroup2 mount, or unified only. */
export type CgroupMode = 'v1' | 'hybrid' | 'v2';

/** One row of blkio/io statistics (runc types.BlkioEntry); zero fields are omitted as runc omits them. */
export type BlkioEntry = { major?: number; minor?: number; op?: string; value?: number };

export type MemoryEntry = { limit: number; usage?: number; max?: number; failcnt: number };

/**
 * Container statistics in the JSON shape of runc's types/events.go Stats, which `runc events
 * --stats` prints as {"type":"stats","id":…,"data":Stats}. Fields runc tags omitempty are optional
 * here and left out when zero.
 */
export type Stats = {
  cpu: {
    usage?: {
      total?: number;
      percpu?: number[];
      percpu_kernel?: number[];
      percpu_user?: number[];
      kernel: number;
      user: number;
    };
    throttling?: { periods?: number; throttledPeriods?: number; throttledTime?: number };
  };
  cpuset: {
    cpus?: number[];
    cpu_exclusive: number;
    mems?: number[];
    mem_hardwall: number;
    mem_exclusive: number;
    memory_migrate: number;
    memory_spread_page: number;
    memory_spread_slab: number;
    memory_pressure: number;
    sched_load_balance: number;
    sched_relax_domain_level: number;
  };
  memory: {
    cache?: number;
    usage?: MemoryEntry;
    swap?: MemoryEntry;
    kernel?: MemoryEntry;
    kernelTCP?: MemoryEntry;
    raw?: Record<string, number>;
  };
  pids: { current?: number; limit?: number };
  blkio: {
    ioServiceBytesRecursive?: BlkioEntry[];
    ioServicedRecursive?: BlkioEntry[];
    ioQueueRecursive?: BlkioEntry[];
    ioServiceTimeRecursive?: BlkioEntry[];
    ioWaitTimeRecursive?: BlkioEntry[];
    ioMergedRecursive?: BlkioEntry[];
    ioTimeRecursive?: BlkioEntry[];
    sectorsRecursive?: BlkioEntry[];
  };
  hugetlb: Record<string, { usage?: number; max?: number; failcnt: number }>;
  intel_rdt: Record<string, never>;
  network_interfaces: null;
};
