// The `keel features` document (runtime-spec features.md). It claims only what keel implements
// today: each list is the one the code uses, imported from where it is enforced.
import { keelCommit, keelVersion, specVersion } from '../version';
import { capabilityNumbers } from './semantic';

export type FeaturesInput = {
  /** Mount options the plan compiler understands. */
  mountOptions: readonly string[];
  /** Namespace types the executor can create or join. */
  namespaces: readonly string[];
  /** Which cgroup drivers are wired into the runtime. */
  cgroup: { v1: boolean; v2: boolean; systemd: boolean; systemdUser: boolean; rdma: boolean };
  /** linux.seccomp as the seccomp compiler reports it. */
  seccomp: Record<string, unknown>;
  /** Whether this host has AppArmor enabled: only then is process.apparmorProfile applied. */
  apparmor: boolean;
  /** Extra annotations (library versions). */
  annotations: Record<string, string>;
};

export function featuresDocument(input: FeaturesInput): Record<string, unknown> {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: specVersion,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: [...input.mountOptions].sort(),
    linux: {
      namespaces: [...input.namespaces].sort(),
      capabilities: Object.keys(capabilityNumbers),
      cgroup: input.cgroup,
      seccomp: input.seccomp,
      apparmor: { enabled: input.apparmor },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: input.mountOptions.includes('idmap') } },
    },
    annotations: {
      'org.keel.version': keelVersion,
      'org.keel.commit': keelCommit,
      ...input.annotations,
    },
    potentiallyUnsafeConfigAnnotations: [],
  };
}
