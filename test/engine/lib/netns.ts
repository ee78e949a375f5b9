// Network namespaces for engine tests: every bridge, veth, iptables rule and DNS listener of a test
// lives in one of these (the machine's network rule), made with `ip netns add` and removed after.
import { execFileSync, spawnSync } from 'node:child_process';

export type Netns = {
  name: string;
  /** /run/netns/<name>, for setns or `nsenter --net=`. */
  path: string;
  /** argv prefix that runs a command inside the namespace. */
  wrap(argv: string[]): string[];
  /** Runs a command inside and returns its stdout (throws on failure). */
  run(argv: string[], input?: string): string;
  remove(): void;
};

let seq = 0;

/** Creates a namespace with lo up; name defaults to a unique one. */
export function createNetns(prefix = 'kt'): Netns {
  const name = `${prefix}-${process.pid}-${++seq}`;
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  // nsenter rather than `ip netns exec`: the latter remounts /sys, which hides the cgroup mounts
  // that a daemon started inside needs.
  const wrap = (argv: string[]) => ['nsenter', `--net=/run/netns/${name}`, '--', ...argv];
  return {
    name,
    path: `/run/netns/${name}`,
    wrap,
    run(argv, input) {
      const w = wrap(argv);
      return execFileSync(w[0]!, w.slice(1), { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
    },
    remove() {
      spawnSync('ip', ['netns', 'delete', name]);
    },
  };
}
