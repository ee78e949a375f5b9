// The `keel features` document (runtime-spec features.md). It claims only what keel implements
// today: each list is the one the code uses, imported from where it is enforced.
import { capabilityNumbers } from './semantic';
import { keelCommit, keelVersion, specVersion } from '../version';

export type FeaturesInput = {
  /** Mount options the plan compiler understands. */
  mountOptions: readonly string[];
  /** Namespace types the executor can create or join. */
  namespaces: readonly string[];
  /** Which cgroup drivers are wired into the runtime. */
  cgroup: { v1: boolean; v2: boolean; systemd: boolean; systemdUser: boolean };
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
      seccomp: { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: {
      'org.keel.version': keelVersion,
      'org.keel.commit': keelCommit,
    },
    potentiallyUnsafeConfigAnnotations: [],
  };
}
