// dock's seccomp profiles: the default one (seccomp-default.json, in Docker's profile format) and
// Docker-format profiles from `--security-opt seccomp=…`, both resolved into the OCI linux.seccomp
// object for one container (capabilities, arch, kernel). Pure: it reads no files and calls no kernel.
import * as os from 'node:os';
import type { LinuxSeccomp, LinuxSeccompArg, LinuxSyscall } from '../../../spec/types/runtime';
import { RuntimeError } from '../../errors/index';
import defaultProfileData from './seccomp-default.json';

/** A rule's condition (moby/profiles seccomp.Filter): arches are Docker's native names ("amd64"). */
export type SeccompFilter = { caps?: string[]; arches?: string[]; minKernel?: string };

/** One entry of `syscalls` in a Docker profile. */
export type DockerSyscall = {
  /** Deprecated single-name form; exclusive with names. */
  name?: string;
  names?: string[];
  action: LinuxSyscall['action'];
  errnoRet?: number;
  args?: LinuxSeccompArg[];
  comment?: string;
  includes?: SeccompFilter;
  excludes?: SeccompFilter;
};

/** Docker's seccomp profile format: runtime-spec's LinuxSeccomp plus archMap and conditional rules. */
export type DockerSeccompProfile = {
  defaultAction?: LinuxSeccomp['defaultAction'];
  defaultErrnoRet?: number;
  architectures?: NonNullable<LinuxSeccomp['architectures']>;
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  flags?: NonNullable<LinuxSeccomp['flags']>;
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: DockerSyscall[];
};

/** What a profile's conditions are evaluated against. */
export type SeccompContext = {
  /** The container's bounding set (CAP_* names), as Docker matches includes/excludes.caps. */
  capabilities: readonly string[];
  /** Node's process.arch ("x64") or Docker's native name ("amd64"); default process.arch. */
  arch?: string;
  /** Kernel release as uname -r prints it; default os.release(). */
  kernel?: string;
};

const ACTIONS: readonly string[] = [
  'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY',
];
const OPERATORS: readonly string[] = [
  'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ',
];
const ARCHES: readonly string[] = [
  'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X',
  'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64',
];
const FLAGS: readonly string[] = [
  'SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
];

/** Node's process.arch → the name Docker's profiles use in includes/excludes.arches (moby/profiles goToNative). */
const NODE_TO_NATIVE: Record<string, string> = {
  x64: 'amd64',
  ia32: 'x86',
  arm: 'arm',
  arm64: 'arm64',
  ppc: 'ppc',
  ppc64: os.endianness() === 'LE' ? 'ppc64le' : 'ppc64',
  riscv64: 'riscv64',
  s390: 's390',
  s390x: 's390x',
  mipsel: 'mipsel',
};

/** Docker's native name → the arch whose archMap entry is used (moby/profiles nativeToSeccomp). */
const NATIVE_TO_SCMP: Record<string, string> = {
  x86: 'SCMP_ARCH_X86',
  amd64: 'SCMP_ARCH_X86_64',
  arm: 'SCMP_ARCH_ARM',
  arm64: 'SCMP_ARCH_AARCH64',
  mips64: 'SCMP_ARCH_MIPS64',
  mips64n32: 'SCMP_ARCH_MIPS64N32',
  mipsel64: 'SCMP_ARCH_MIPSEL64',
  mips3l64n32: 'SCMP_ARCH_MIPSEL64N32',
  mipsle: 'SCMP_ARCH_MIPSEL',
  ppc: 'SCMP_ARCH_PPC',
  ppc64: 'SCMP_ARCH_PPC64',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  riscv64: 'SCMP_ARCH_RISCV64',
  s390: 'SCMP_ARCH_S390',
  s390x: 'SCMP_ARCH_S390X',
};

/** Docker's name for the arch of ctx (Node names are translated, Docker names kept). */
export function nativeArch(arch: string = process.arch): string {
  return NODE_TO_NATIVE[arch] ?? arch;
}

/** The profile-level option values Docker gives a meaning of their own. */
export const SECCOMP_UNCONFINED = 'unconfined';
export const SECCOMP_BUILTIN = 'builtin';

function decodeError(msg: string): never {
  throw new RuntimeError('InvalidArgument', `Decoding seccomp profile failed: ${msg}`);
}

function invalid(msg: string): never {
  throw new RuntimeError('InvalidArgument', `invalid seccomp profile: ${msg}`);
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/**
 * A field of a JSON object the way Go's encoding/json finds it: the exact key first, else a
 * case-insensitive match; null counts as absent.
 */
function field(obj: Record<string, unknown>, key: string): unknown {
  let v = obj[key];
  if (v === undefined) {
    const k = Object.keys(obj).find((o) => o.toLowerCase() === key.toLowerCase());
    if (k !== undefined) v = obj[k];
  }
  return v === null ? undefined : v;
}

function str(v: unknown, where: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') decodeError(`${where}: expected a string, got ${typeName(v)}`);
  return v;
}

function strList(v: unknown, where: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string'))
    decodeError(`${where}: expected an array of strings, got ${Array.isArray(v) ? 'an array with a non-string' : typeName(v)}`);
  return v as string[];
}

function uint(v: unknown, where: string, max = Number.MAX_VALUE): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max)
    decodeError(`${where}: expected an unsigned integer, got ${typeof v === 'number' ? v : typeName(v)}`);
  return v;
}

function obj(v: unknown, where: string): Record<string, unknown> | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) decodeError(`${where}: expected an object, got ${typeName(v)}`);
  return v as Record<string, unknown>;
}

function oneOf<T extends string>(v: string | undefined, allowed: readonly string[], what: string, where: string): T | undefined {
  if (v === undefined) return undefined;
  if (!allowed.includes(v)) invalid(`${where}: unknown ${what} ${JSON.stringify(v)}`);
  return v as T;
}

/**
 * minKernel as moby's KernelVersion.UnmarshalJSON reads it: "<kernel>.<major>", each 0-255, not 0.0.
 * An empty string is a condition too: version 0.0, which every kernel satisfies (a moby quirk kept
 * for the same effect).
 */
function kernelVersion(v: unknown): [number, number] | undefined {
  if (v === undefined) return undefined;
  const raw = JSON.stringify(v);
  const expected = `invalid kernel version: ${raw}, expected "<kernel>.<major>"`;
  if (typeof v !== 'string') decodeError(expected);
  if (v === '') return [0, 0];
  const parts = v.split('.');
  if (parts.length !== 2) decodeError(expected);
  const nums = parts.map((p) => (/^[0-9]+$/.test(p) && Number(p) <= 255 ? Number(p) : NaN));
  if (nums.some(Number.isNaN)) decodeError(`${expected}: not a number between 0 and 255`);
  if (nums[0] === 0 && nums[1] === 0) decodeError(`${expected}: version cannot be 0.0`);
  return [nums[0]!, nums[1]!];
}

type Filter = { caps?: string[]; arches?: string[]; minKernel?: [number, number] };

function filter(v: unknown, where: string): Filter | undefined {
  const o = obj(v, where);
  if (!o) return undefined;
  return {
    caps: strList(field(o, 'caps'), `${where}.caps`),
    arches: strList(field(o, 'arches'), `${where}.arches`),
    minKernel: kernelVersion(field(o, 'minKernel')),
  };
}

function seccompArg(v: unknown, where: string): LinuxSeccompArg {
  const o = obj(v, where) ?? decodeError(`${where}: expected an object, got null`);
  const index = uint(field(o, 'index'), `${where}.index`) ?? 0;
  // Kept here rather than left to the runtime, which would only fail at start (runc: "syscalls
  // only have up to 6 arguments").
  if (index > 5) invalid(`${where}.index: ${index} is out of range, syscalls have 6 arguments (0-5)`);
  const value = uint(field(o, 'value'), `${where}.value`) ?? 0;
  const valueTwo = uint(field(o, 'valueTwo'), `${where}.valueTwo`);
  const op = str(field(o, 'op'), `${where}.op`);
  if (op === undefined) invalid(`${where}.op: missing operator`);
  return { index, value, ...(valueTwo !== undefined ? { valueTwo } : {}), op: oneOf(op, OPERATORS, 'operator', `${where}.op`)! };
}

type Rule = { names: string[]; syscall: LinuxSyscall | undefined; includes?: Filter; excludes?: Filter };

function rule(v: unknown, i: number): Rule {
  const where = `syscalls[${i}]`;
  const o = obj(v, where) ?? decodeError(`${where}: expected an object, got null`);
  const name = str(field(o, 'name'), `${where}.name`);
  let names = strList(field(o, 'names'), `${where}.names`) ?? [];
  if (name) {
    if (names.length) throw new RuntimeError('InvalidArgument', "both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'");
    names = [name];
  }
  const actionName = str(field(o, 'action'), `${where}.action`);
  const errnoRet = uint(field(o, 'errnoRet'), `${where}.errnoRet`, 0xffffffff);
  const argsRaw = field(o, 'args');
  if (argsRaw !== undefined && !Array.isArray(argsRaw)) decodeError(`${where}.args: expected an array, got ${typeName(argsRaw)}`);
  const args = (argsRaw ?? []).map((a, k) => seccompArg(a, `${where}.args[${k}]`));
  str(field(o, 'comment'), `${where}.comment`);
  const includes = filter(field(o, 'includes'), `${where}.includes`);
  const excludes = filter(field(o, 'excludes'), `${where}.excludes`);
  // An entry without names has no effect in Docker (runc loops over none); it is kept out of the
  // OCI object, whose schema wants at least one name.
  if (names.length === 0) return { names, syscall: undefined, includes, excludes };
  if (actionName === undefined || actionName === '') invalid(`${where}.action: missing action`);
  const action = oneOf<LinuxSyscall['action']>(actionName, ACTIONS, 'action', `${where}.action`)!;
  const syscall: LinuxSyscall = { names: names as [string, ...string[]], action };
  if (errnoRet !== undefined) syscall.errnoRet = errnoRet;
  if (args.length) syscall.args = args;
  return { names, syscall, includes, excludes };
}

/** A Docker profile checked field by field; the rules keep their conditions for resolve(). */
type CheckedProfile = {
  base: Omit<LinuxSeccomp, 'syscalls' | 'architectures' | 'defaultAction'> & { defaultAction?: LinuxSeccomp['defaultAction'] };
  architectures?: NonNullable<LinuxSeccomp['architectures']>;
  archMap?: { architecture: string; subArchitectures: string[] }[];
  rules: Rule[];
};

/**
 * Checks a decoded Docker profile (moby/profiles seccomp.Seccomp). Type errors read like Docker's
 * decode errors ("Decoding seccomp profile failed: …"); values that Docker would pass on for the
 * runtime to refuse at start (unknown action, operator, architecture, flag) are refused here.
 */
function checkProfile(raw: unknown): CheckedProfile | undefined {
  if (raw === null) return undefined;
  const o = obj(raw, 'profile')!;
  const defaultAction = str(field(o, 'defaultAction'), 'defaultAction');
  const defaultErrnoRet = uint(field(o, 'defaultErrnoRet'), 'defaultErrnoRet', 0xffffffff);
  const architectures = strList(field(o, 'architectures'), 'architectures');
  const archMapRaw = field(o, 'archMap');
  if (archMapRaw !== undefined && !Array.isArray(archMapRaw)) decodeError(`archMap: expected an array, got ${typeName(archMapRaw)}`);
  const archMap = (archMapRaw ?? []).map((a, i) => {
    const e = obj(a, `archMap[${i}]`) ?? decodeError(`archMap[${i}]: expected an object, got null`);
    const architecture = str(field(e, 'architecture'), `archMap[${i}].architecture`) ?? '';
    const subArchitectures = strList(field(e, 'subArchitectures'), `archMap[${i}].subArchitectures`) ?? [];
    [architecture, ...subArchitectures].forEach((n) => oneOf(n, ARCHES, 'architecture', `archMap[${i}]`));
    return { architecture, subArchitectures };
  });
  const flags = strList(field(o, 'flags'), 'flags');
  const listenerPath = str(field(o, 'listenerPath'), 'listenerPath');
  const listenerMetadata = str(field(o, 'listenerMetadata'), 'listenerMetadata');
  const syscallsRaw = field(o, 'syscalls');
  if (syscallsRaw !== undefined && !Array.isArray(syscallsRaw)) decodeError(`syscalls: expected an array, got ${typeName(syscallsRaw)}`);
  const rules = (syscallsRaw ?? []).map(rule);

  // moby/profiles setupSeccomp: no default action and no syscalls means seccomp is off.
  if (!defaultAction && rules.length === 0) return undefined;
  if (architectures?.length && archMap.length)
    throw new RuntimeError('InvalidArgument', "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'");
  if (!defaultAction) invalid('defaultAction: missing action (required when syscalls are listed)');
  architectures?.forEach((a, i) => oneOf(a, ARCHES, 'architecture', `architectures[${i}]`));
  flags?.forEach((f, i) => oneOf(f, FLAGS, 'flag', `flags[${i}]`));
  const base: CheckedProfile['base'] = { defaultAction: oneOf(defaultAction, ACTIONS, 'action', 'defaultAction') };
  if (defaultErrnoRet !== undefined) base.defaultErrnoRet = defaultErrnoRet;
  if (flags) base.flags = flags as NonNullable<LinuxSeccomp['flags']>;
  if (listenerPath) base.listenerPath = listenerPath;
  if (listenerMetadata) base.listenerMetadata = listenerMetadata;
  return { base, architectures: architectures as CheckedProfile['architectures'], archMap, rules };
}

/** "6.18.44-fc" → [6, 18], as moby's parseRelease (Sscanf "%d.%d"). */
function parseRelease(release: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) throw new RuntimeError('InvalidArgument', `failed to parse kernel version ${JSON.stringify(release)}`);
  return [Number(m[1]), Number(m[2])];
}

function kernelAtLeast(host: [number, number], min: [number, number]): boolean {
  return host[0] > min[0] || (host[0] === min[0] && host[1] >= min[1]);
}

/** The profile for one container: archMap expanded for the native arch, conditional rules filtered. */
function resolve(p: CheckedProfile, ctx: SeccompContext): LinuxSeccomp {
  const arch = nativeArch(ctx.arch);
  const caps = ctx.capabilities;
  let host: [number, number] | undefined;
  const kernelOk = (min: [number, number]) => kernelAtLeast((host ??= parseRelease(ctx.kernel ?? os.release())), min);

  const out = { ...p.base } as LinuxSeccomp;
  const arches = [...(p.architectures ?? [])];
  const entry = p.archMap?.find((a) => a.architecture === NATIVE_TO_SCMP[arch]);
  if (entry) arches.push(entry.architecture as (typeof arches)[number], ...(entry.subArchitectures as typeof arches));
  if (arches.length) out.architectures = arches;

  // The order of checks is moby's: excludes (arches, caps, kernel), then includes; a capability
  // condition looks at the bounding set, case-sensitively.
  out.syscalls = [];
  for (const r of p.rules) {
    const ex = r.excludes;
    if (ex?.arches?.length && ex.arches.includes(arch)) continue;
    if (ex?.caps?.length && ex.caps.some((c) => caps.includes(c))) continue;
    if (ex?.minKernel && kernelOk(ex.minKernel)) continue;
    const inc = r.includes;
    if (inc?.arches?.length && !inc.arches.includes(arch)) continue;
    if (inc?.caps?.length && !inc.caps.every((c) => caps.includes(c))) continue;
    if (inc?.minKernel && !kernelOk(inc.minKernel)) continue;
    if (r.syscall) out.syscalls.push(structuredClone(r.syscall));
  }
  return out;
}

/**
 * A Docker-format profile, decoded (JSON text or an already parsed value), for one container.
 * undefined when the profile turns seccomp off (null, or neither defaultAction nor syscalls), as
 * moby's LoadProfile does.
 */
export function loadSeccompProfile(profile: string | unknown, ctx: SeccompContext): LinuxSeccomp | undefined {
  let raw: unknown = profile;
  if (typeof profile === 'string') {
    try {
      raw = JSON.parse(profile);
    } catch (e) {
      decodeError((e as Error).message);
    }
  }
  const checked = checkProfile(raw);
  return checked ? resolve(checked, ctx) : undefined;
}

let defaultChecked: CheckedProfile | undefined;

/**
 * Docker's default profile for a container with these capabilities (its bounding set): errno EPERM
 * by default; the allow list; x86-64 with x86 and x32 (or the native arch's family); the rules that
 * capabilities unlock; clone without namespace flags and clone3 → ENOSYS unless CAP_SYS_ADMIN;
 * personality and socket argument filters. Same effect as moby's default profile (Docker 28).
 */
export function defaultSeccompProfile(o: SeccompContext): LinuxSeccomp {
  defaultChecked ??= checkProfile(defaultProfileData)!;
  return resolve(defaultChecked, o);
}

/** seccomp-default.json as a Docker profile (e.g. to hand to another engine with --security-opt). */
export function defaultSeccompProfileJson(): DockerSeccompProfile {
  return structuredClone(defaultProfileData) as DockerSeccompProfile;
}

/**
 * The value of `--security-opt seccomp=…` as the docker CLI sends it: "unconfined" (no filter),
 * "builtin" (the default profile) or the profile file's contents (JSON, Docker's format).
 * Bad profiles throw InvalidArgument with Docker's wording where Docker has one.
 */
export function parseSeccompOption(
  value: string,
  caps: readonly string[],
  o: Omit<SeccompContext, 'capabilities'> = {},
): LinuxSeccomp | undefined {
  if (value === SECCOMP_UNCONFINED) return undefined;
  if (value === SECCOMP_BUILTIN) return defaultSeccompProfile({ ...o, capabilities: caps });
  return loadSeccompProfile(value, { ...o, capabilities: caps });
}

/**
 * The linux.seccomp a container gets, Docker 28's WithSeccomp (daemon/seccomp_linux.go):
 * unconfined → none; privileged → none unless a custom profile was given; otherwise the custom
 * profile or the default one. (Docker 28 fails to decode "builtin" for a privileged container; here
 * it means the default profile, as it does without --privileged.)
 */
export function containerSeccomp(o: {
  /** The seccomp security option's value, if any. */
  option?: string;
  /** The container's bounding set. */
  capabilities: readonly string[];
  privileged: boolean;
  arch?: string;
  kernel?: string;
}): LinuxSeccomp | undefined {
  const ctx = { capabilities: o.capabilities, arch: o.arch, kernel: o.kernel };
  if (!o.option) return o.privileged ? undefined : defaultSeccompProfile(ctx);
  return parseSeccompOption(o.option, o.capabilities, ctx);
}
