// What Docker's default seccomp profile does to each sysprobe call, written down by hand from
// Docker's documented behaviour (not computed from our profile), for the two profile generations
// this suite meets: Docker 28's (ours, and dockerd when given our file) and dockerd 20.10's own.
// A probe is either allowed (the result must equal the unconfined run with the same capabilities)
// or refused with a fixed errno.
import assert from 'node:assert/strict';
import type { ProbeResults } from './probe';

/** Which default profile is in force. */
export type Generation = 'docker28' | 'docker20';

export type Verdict = 'allow' | 'EPERM' | 'ENOSYS';

type Rule = (caps: ReadonlySet<string>, gen: Generation) => Verdict;

const allow: Rule = () => 'allow';
const deny: Rule = () => 'EPERM';
/** Allowed with any of these capabilities in the bounding set, EPERM without. */
const withCap =
  (...caps: string[]): Rule =>
  (have) =>
    caps.some((c) => have.has(c)) ? 'allow' : 'EPERM';

/** Per probe of sysprobe.c. */
export const DEFAULT_PROFILE_RULES: Record<string, Rule> = {
  getpid: allow,
  uname: allow,
  socket_unix: allow,
  // Docker 28 refuses AF_VSOCK sockets (they reach the host); 20.10 allowed socket(2) outright.
  socket_vsock: (_c, gen) => (gen === 'docker28' ? 'EPERM' : 'allow'),
  personality_query: allow,
  personality_linux32: allow,
  personality_no_randomize: deny,
  clone_plain: allow,
  clone_newuser: withCap('CAP_SYS_ADMIN'),
  clone_newuts: withCap('CAP_SYS_ADMIN'),
  // ENOSYS, so that libc falls back to clone(2), whose flags the filter can see.
  clone3: (caps) => (caps.has('CAP_SYS_ADMIN') ? 'allow' : 'ENOSYS'),
  unshare0: withCap('CAP_SYS_ADMIN'),
  setns_badfd: withCap('CAP_SYS_ADMIN'),
  mount_efault: withCap('CAP_SYS_ADMIN'),
  umount2_einval: withCap('CAP_SYS_ADMIN'),
  // Never on the list, not even with CAP_SYS_ADMIN.
  pivot_root: deny,
  sethostname: withCap('CAP_SYS_ADMIN'),
  keyctl: deny,
  userfaultfd: deny,
  // Docker 25 took io_uring off the list.
  io_uring_setup: (_c, gen) => (gen === 'docker28' ? 'EPERM' : 'allow'),
  pkey_alloc: (_c, gen) => (gen === 'docker28' ? 'allow' : 'EPERM'),
  name_to_handle_at: (caps, gen) => (gen === 'docker28' ? 'allow' : withCap('CAP_SYS_ADMIN')(caps, gen)),
  open_by_handle_at: withCap('CAP_DAC_READ_SEARCH'),
  process_vm_readv: (caps, gen) => (gen === 'docker28' ? 'allow' : withCap('CAP_SYS_PTRACE')(caps, gen)),
  ptrace: allow,
  kcmp: withCap('CAP_SYS_PTRACE'),
  reboot: withCap('CAP_SYS_BOOT'),
  delete_module: withCap('CAP_SYS_MODULE'),
  acct: withCap('CAP_SYS_PACCT'),
  iopl: withCap('CAP_SYS_RAWIO'),
  clock_settime: withCap('CAP_SYS_TIME'),
  settimeofday: withCap('CAP_SYS_TIME'),
  vhangup: withCap('CAP_SYS_TTY_CONFIG'),
  get_mempolicy: withCap('CAP_SYS_NICE'),
  syslog: withCap('CAP_SYS_ADMIN', 'CAP_SYSLOG'),
  bpf: (caps, gen) => withCap('CAP_SYS_ADMIN', ...(gen === 'docker28' ? ['CAP_BPF'] : []))(caps, gen),
  perf_event_open: (caps, gen) => withCap('CAP_SYS_ADMIN', ...(gen === 'docker28' ? ['CAP_PERFMON'] : []))(caps, gen),
  chroot: withCap('CAP_SYS_CHROOT'),
  // The profile covers i386 and x32 as well as x86-64 (archMap); a missing arch would kill.
  i386_getpid: allow,
  i386_keyctl: deny,
  x32_getpid: allow,
  x32_keyctl: deny,
};

/** Capability variants every engine runs: Docker's defaults, then --cap-add/--cap-drop. */
export type Variant = { name: string; capAdd: string[]; capDrop: string[]; docker20?: false };

export const VARIANTS: Variant[] = [
  { name: 'default capabilities', capAdd: [], capDrop: [] },
  { name: '--cap-add SYS_ADMIN', capAdd: ['SYS_ADMIN'], capDrop: [] },
  { name: '--cap-add SYS_PTRACE', capAdd: ['sys_ptrace'], capDrop: [] },
  {
    name: '--cap-add for the other gated calls',
    capAdd: ['DAC_READ_SEARCH', 'SYS_BOOT', 'SYS_MODULE', 'SYS_PACCT', 'SYS_RAWIO', 'SYS_TIME', 'SYS_TTY_CONFIG', 'SYS_NICE', 'SYSLOG'],
    capDrop: [],
  },
  { name: '--cap-drop SYS_CHROOT', capAdd: [], capDrop: ['CAP_SYS_CHROOT'] },
  // dockerd 20.10 does not know CAP_BPF or CAP_PERFMON ("unknown capability").
  { name: '--cap-add BPF --cap-add PERFMON', capAdd: ['BPF', 'PERFMON'], capDrop: [], docker20: false },
];

/**
 * The check every engine gets: each probe refused with the expected errno, or, when allowed, giving
 * what the kernel gives without a filter. An entry point the kernel lacks altogether (int 0x80
 * without IA32 emulation: SIGSEGV before any filter runs) is only compared with the unconfined run.
 */
export function checkAgainstRules(
  rules: Record<string, Rule>,
  got: ProbeResults,
  unconfined: ProbeResults,
  caps: readonly string[],
  gen: Generation,
  label: string,
): void {
  const have = new Set(caps);
  const expected: ProbeResults = {};
  for (const [probe, rule] of Object.entries(rules)) {
    const u = unconfined[probe];
    assert.ok(u !== undefined, `${label}: probe ${probe} missing from the unconfined run`);
    const v = rule(have, gen);
    expected[probe] = v === 'allow' || u === 'SIGSEGV' ? u : v;
  }
  assert.deepEqual(got, expected, label);
}

/** Probes that every default profile refuses but an unconfined container with CAP_SYS_ADMIN runs. */
export const UNCONFINED_SHOWS = ['pivot_root', 'keyctl', 'userfaultfd', 'personality_no_randomize', 'clone3', 'unshare0'];

/**
 * A custom profile in Docker's format that exercises each feature of the format: errnoRet, caps
 * includes, arch excludes, minKernel (met and unmet), the old "name" form, argument filters with
 * EQ and MASKED_EQ, and no architectures at all (native arch only: x32 numbers are killed).
 */
export const CUSTOM_PROFILE = {
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [
    { names: ['keyctl'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
    { names: ['unshare'], action: 'SCMP_ACT_ERRNO', includes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['kcmp'], action: 'SCMP_ACT_ERRNO', excludes: { arches: ['amd64'] } },
    { names: ['setns'], action: 'SCMP_ACT_ERRNO', errnoRet: 71, includes: { minKernel: '4.0' } },
    { names: ['mount'], action: 'SCMP_ACT_ERRNO', includes: { minKernel: '200.0' } },
    { name: 'personality', action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0x40000, op: 'SCMP_CMP_EQ' }] },
    { names: ['clone'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0x10000000, valueTwo: 0x10000000, op: 'SCMP_CMP_MASKED_EQ' }] },
  ],
};

export const CUSTOM_PROBES = [
  'getpid', 'keyctl', 'unshare0', 'kcmp', 'setns_badfd', 'mount_efault', 'personality_query',
  'personality_no_randomize', 'clone_plain', 'clone_newuser', 'x32_getpid',
];

/** What CUSTOM_PROFILE does: a fixed result, or 'allow' (as unconfined). */
export const CUSTOM_RULES: Record<string, (caps: ReadonlySet<string>) => string> = {
  getpid: () => 'allow',
  keyctl: () => 'EACCES',
  unshare0: (caps) => (caps.has('CAP_SYS_ADMIN') ? 'EPERM' : 'allow'),
  kcmp: () => 'allow',
  setns_badfd: () => 'EPROTO',
  mount_efault: () => 'allow',
  personality_query: () => 'allow',
  personality_no_randomize: () => 'EPERM',
  clone_plain: () => 'allow',
  clone_newuser: () => 'EPERM',
  // No architectures in the profile: libseccomp's filter for x86-64 alone kills x32 numbers.
  x32_getpid: () => 'SIGSYS',
};

export function checkCustom(got: ProbeResults, unconfined: ProbeResults, caps: readonly string[], label: string): void {
  const have = new Set(caps);
  const expected: ProbeResults = {};
  for (const p of CUSTOM_PROBES) {
    const v = CUSTOM_RULES[p]!(have);
    expected[p] = v === 'allow' ? unconfined[p]! : v;
  }
  assert.deepEqual(got, expected, label);
}

/** Profiles Docker refuses, with what its error says (20.10's and 28's wording both match). */
export const BAD_PROFILES: { name: string; profile: string; error: RegExp }[] = [
  {
    name: 'architectures and archMap together',
    profile: JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: [] }], syscalls: [] }),
    error: /use either 'architectures' or 'archMap'/,
  },
  {
    name: 'name and names together',
    profile: JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'uname', names: ['uname'], action: 'SCMP_ACT_ERRNO' }] }),
    error: /use either 'name' or 'names'/,
  },
  {
    name: 'a minKernel without a major revision',
    profile: JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['uname'], action: 'SCMP_ACT_ERRNO', includes: { minKernel: '4' } }] }),
    error: /Decoding seccomp profile failed: invalid kernel version: "4", expected "<kernel>\.<major>"/,
  },
  {
    name: 'a defaultAction that is not a string',
    profile: '{"defaultAction":5}',
    error: /Decoding seccomp profile failed: .*defaultAction/,
  },
];
