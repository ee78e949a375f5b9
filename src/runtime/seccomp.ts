// Compiles an OCI linux.seccomp profile into a classic BPF program in the parent (libseccomp through
// Sys), plus the seccomp(2) flags the child must pass when it installs it. Installs nothing itself.
// Semantics follow runc's libcontainer/seccomp (seccomp_linux.go, config.go, patchbpf/enosys_linux.go).
import { RuntimeError, errnoName, kindOfErrno } from '../errors/index';
import { realSys, type SeccompCompileInput, type Sys } from '../native/index';
import type { LinuxSeccomp } from '../../spec/types/runtime';

/** seccomp(2) SECCOMP_SET_MODE_FILTER flags (include/uapi/linux/seccomp.h). */
export const SECCOMP_FILTER_FLAG_TSYNC = 1;
export const SECCOMP_FILTER_FLAG_LOG = 2;
export const SECCOMP_FILTER_FLAG_SPEC_ALLOW = 4;
export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8;
export const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 32;

const EPERM = 1;
const ENOSYS = 38;

/** SCMP_ACT_* values (seccomp.h); ERRNO and TRACE carry 16 bits of data. */
const ACT_KILL_THREAD = 0x00000000;
const ACT_KILL_PROCESS = 0x80000000;
const ACT_TRAP = 0x00030000;
const ACT_ERRNO = 0x00050000;
const ACT_TRACE = 0x7ff00000;
const ACT_LOG = 0x7ffc0000;
const ACT_NOTIFY = 0x7fc00000;
const ACT_ALLOW = 0x7fff0000;

const ACTIONS: Record<string, number> = {
  SCMP_ACT_KILL: ACT_KILL_THREAD,
  SCMP_ACT_KILL_THREAD: ACT_KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: ACT_KILL_PROCESS,
  SCMP_ACT_TRAP: ACT_TRAP,
  SCMP_ACT_ERRNO: ACT_ERRNO,
  SCMP_ACT_TRACE: ACT_TRACE,
  SCMP_ACT_LOG: ACT_LOG,
  SCMP_ACT_NOTIFY: ACT_NOTIFY,
  SCMP_ACT_ALLOW: ACT_ALLOW,
};

/** enum scmp_compare. */
const OPERATORS: Record<string, number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};
const MASKED_EQ = 7;

/** runtime-spec arch names → libseccomp's arch names (seccomp_arch_resolve_name). */
const ARCHES: Record<string, string> = {
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_LOONGARCH64: 'loongarch64',
  SCMP_ARCH_M68K: 'm68k',
  SCMP_ARCH_MIPS: 'mips',
  SCMP_ARCH_MIPS64: 'mips64',
  SCMP_ARCH_MIPS64N32: 'mips64n32',
  SCMP_ARCH_MIPSEL: 'mipsel',
  SCMP_ARCH_MIPSEL64: 'mipsel64',
  SCMP_ARCH_MIPSEL64N32: 'mipsel64n32',
  SCMP_ARCH_PPC: 'ppc',
  SCMP_ARCH_PPC64: 'ppc64',
  SCMP_ARCH_PPC64LE: 'ppc64le',
  SCMP_ARCH_S390: 's390',
  SCMP_ARCH_S390X: 's390x',
  SCMP_ARCH_SH: 'sh',
  SCMP_ARCH_SHEB: 'sheb',
  SCMP_ARCH_PARISC: 'parisc',
  SCMP_ARCH_PARISC64: 'parisc64',
  SCMP_ARCH_RISCV64: 'riscv64',
};

/** runtime-spec flags; TSYNC is accepted and ignored as in runc (the child is single-threaded). */
const FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 0,
  SECCOMP_FILTER_FLAG_LOG: SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
};

/**
 * The compiled filter: struct sock_filter records (8 bytes each) and the flags for seccomp(2).
 * The child installs it with seccomp(SECCOMP_SET_MODE_FILTER, flags, &(struct sock_fprog){len, filter})
 * where runc's standard_init_linux.go does: before dropping capabilities when no_new_privs is off
 * (seccomp(2) then needs CAP_SYS_ADMIN), else as late as possible, but before the sync socket is closed
 * and the exec fifo is waited on, because with `notify` the returned listener fd goes back to the
 * parent, which hands it to the agent (seccomp-agent.ts). The profile must allow what the child does
 * after the install (write/sendmsg, close, openat of the fifo, close_range, execve), as with runc.
 */
export type CompiledSeccomp = {
  /** Classic BPF, ready for struct sock_fprog {len: program.length / 8, filter}. */
  program: Buffer;
  /** SECCOMP_FILTER_FLAG_* for seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog); includes NEW_LISTENER when notify. */
  flags: number;
  /** Some rule uses SCMP_ACT_NOTIFY: the install returns a listener fd for linux.seccomp.listenerPath. */
  notify: boolean;
  /** Syscall names unknown to libseccomp on the native arch, skipped as runc does. */
  skipped: string[];
};

export type CompileSeccompOptions = {
  sys?: Pick<Sys, 'seccompCompile' | 'seccompArch' | 'seccompSyscall' | 'seccompFlagSupported'>;
  /** Prefix of error messages; the JSON pointer of the profile follows it. */
  where?: string;
  /** Prepend runc's -ENOSYS stub (default true). */
  enosys?: boolean;
};

/** Libseccomp's rule optimiser threshold (runc: binary tree above 32 syscalls). */
const OPTIMIZE_ABOVE = 32;
/** BPF_MAXINSNS (include/uapi/linux/bpf_common.h). */
const BPF_MAXINSNS = 4096;

function fail(where: string, pointer: string, reason: string): never {
  throw new RuntimeError('InvalidArgument', `${where}${pointer}: ${reason}`);
}

/** SCMP_ACT_* value of an OCI action; ERRNO and TRACE take errnoRet (runc's default EPERM). */
function actionValue(where: string, pointer: string, name: string, errnoRet: number | undefined): number {
  const base = ACTIONS[name];
  if (base === undefined) fail(where, pointer, `unknown action ${JSON.stringify(name)}`);
  if (base !== ACT_ERRNO && base !== ACT_TRACE) return base;
  const ret = errnoRet ?? EPERM;
  if (!Number.isInteger(ret) || ret < 0) fail(where, pointer, `invalid errnoRet ${ret}`);
  // libseccomp keeps 16 bits of data (SECCOMP_RET_DATA); runc truncates the same way (int16).
  return (base | (ret & 0xffff)) >>> 0;
}

/** A JSON number as a uint64; 2^64 (what JSON.parse makes of 18446744073709551615) becomes 2^64-1. */
function u64(where: string, pointer: string, v: number | undefined): bigint {
  if (v === undefined) return 0n;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(where, pointer, `invalid value ${v}`);
  const b = BigInt(v);
  return b >= 1n << 64n ? (1n << 64n) - 1n : b;
}

/** Compiles linux.seccomp into classic BPF and seccomp(2) flags. Unknown syscall names are skipped (as
 * runc); unknown actions, operators, architectures and flags are InvalidArgument errors naming the entry. */
export function compileSeccomp(seccomp: LinuxSeccomp, opts: CompileSeccompOptions = {}): CompiledSeccomp {
  const sys = opts.sys ?? realSys;
  const where = opts.where ?? 'config.json: /linux/seccomp';
  const defaultAction = actionValue(where, '/defaultAction', seccomp.defaultAction, seccomp.defaultErrnoRet);
  // A notify default would also catch the write(2) that hands the listener fd back (runc refuses too).
  if (defaultAction === ACT_NOTIFY) fail(where, '/defaultAction', 'SCMP_ACT_NOTIFY cannot be the default action');

  const arches: number[] = [];
  (seccomp.architectures ?? []).forEach((name, i) => {
    const lib = ARCHES[name];
    if (lib === undefined) fail(where, `/architectures/${i}`, `unknown architecture ${JSON.stringify(name)}`);
    const token = sys.seccompArch(lib);
    if (token === 0) fail(where, `/architectures/${i}`, `architecture ${name} is not supported by libseccomp`);
    arches.push(token);
  });

  // runc: no flags at all means SPEC_ALLOW when the kernel has it (4.17); an explicit [] means none.
  let flags = 0;
  const flagNames =
    seccomp.flags ?? (sys.seccompFlagSupported(SECCOMP_FILTER_FLAG_SPEC_ALLOW) ? ['SECCOMP_FILTER_FLAG_SPEC_ALLOW'] : []);
  flagNames.forEach((name, i) => {
    const bit = FLAGS[name];
    if (bit === undefined) fail(where, `/flags/${i}`, `unknown flag ${JSON.stringify(name)}`);
    flags |= bit;
  });

  const rules: SeccompCompileInput['rules'] = [];
  const origin: string[] = [];
  const names: string[] = [];
  let notify = false;
  (seccomp.syscalls ?? []).forEach((call, i) => {
    const action = actionValue(where, `/syscalls/${i}/action`, call.action, call.errnoRet);
    const conds = (call.args ?? []).map((arg, k) => {
      const p = `/syscalls/${i}/args/${k}`;
      const op = OPERATORS[arg.op];
      if (op === undefined) fail(where, `${p}/op`, `unknown operator ${JSON.stringify(arg.op)}`);
      if (!Number.isInteger(arg.index) || arg.index < 0 || arg.index > 5)
        fail(where, `${p}/index`, `argument index ${arg.index} out of range 0-5`);
      // MASKED_EQ compares (arg & value) == valueTwo: libseccomp's datum_a is the mask.
      const a = u64(where, `${p}/value`, arg.value);
      const b = op === MASKED_EQ ? u64(where, `${p}/valueTwo`, arg.valueTwo) : 0n;
      return { arg: arg.index, op, a, b };
    });
    // runc: two conditions on the same argument could never both hold, so they become separate
    // rules (OR); otherwise one rule carries them all (AND).
    const indexes = conds.map((c) => c.arg);
    const split = new Set(indexes).size !== indexes.length;
    call.names.forEach((name, j) => {
      if (action === ACT_NOTIFY) {
        notify = true;
        // The child reports the listener fd with write(2); notifying write would deadlock (runc).
        if (name === 'write') fail(where, `/syscalls/${i}/names/${j}`, 'SCMP_ACT_NOTIFY cannot be used for write');
      }
      names.push(name);
      // A rule equal to the default action is redundant, and libseccomp rejects it (runc skips it).
      if (action === defaultAction) return;
      const groups = split ? conds.map((c) => [c]) : [conds];
      for (const group of groups) {
        rules.push({ name, action, conds: group });
        origin.push(`/syscalls/${i}/names/${j}`);
      }
    });
  });
  if (notify) {
    if (!seccomp.listenerPath) fail(where, '/listenerPath', 'required when an action is SCMP_ACT_NOTIFY');
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  } else {
    // WAIT_KILLABLE_RECV qualifies the listener; alone the kernel rejects it with EINVAL (5.19,
    // kernel/seccomp.c seccomp_set_mode_filter), so a profile without notify drops it.
    flags &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  }

  const out = sys.seccompCompile({
    defaultAction,
    arches,
    log: (flags & SECCOMP_FILTER_FLAG_LOG) !== 0,
    ssb: (flags & SECCOMP_FILTER_FLAG_SPEC_ALLOW) !== 0,
    optimize: rules.length > OPTIMIZE_ABOVE ? 2 : 0,
    rules,
  });
  if ('errno' in out) {
    const code = errnoName(out.errno);
    if (out.rule >= 0)
      fail(where, origin[out.rule]!, `${out.what}: ${code} (conflicting or invalid rule for ${rules[out.rule]!.name})`);
    throw new RuntimeError(kindOfErrno(code), `${where}: ${out.what}: ${code}`);
  }
  const skipped = [...new Set(out.skipped.map((r) => rules[r]!.name))];

  let program = out.program;
  if (opts.enosys !== false && !isAllowAction(defaultAction) && defaultAction !== ((ACT_ERRNO | ENOSYS) >>> 0)) {
    program = Buffer.concat([enosysStub(sys, arches, names), program]);
  }
  if (program.length / 8 > BPF_MAXINSNS)
    fail(where, '', `filter has ${program.length / 8} instructions, more than the kernel's ${BPF_MAXINSNS}`);
  return { program, flags, notify, skipped };
}

/** Remembered programs per Sys (a FakeSys compiles its own), by enosys and the profile's JSON. */
const remembered = new WeakMap<object, Map<string, CompiledSeccomp>>();
/** Profiles remembered per Sys; the oldest is dropped beyond this. */
const REMEMBER_MAX = 8;

/**
 * compileSeccomp for a long-lived caller (the shim), remembering the last few profiles' programs:
 * every container of a manager carries the same default profile (~300 rules), and libseccomp's
 * compile of it holds the shim's event loop ~17 ms per create. The program depends only on the
 * profile and the host (libseccomp, the kernel's flags), which do not change while a process runs.
 * Failures are not remembered (they throw again, worded for opts.where); callers get copies.
 */
export function compileSeccompRemembered(seccomp: LinuxSeccomp, opts: CompileSeccompOptions = {}): CompiledSeccomp {
  const sys = opts.sys ?? realSys;
  let bySys = remembered.get(sys);
  if (!bySys) remembered.set(sys, (bySys = new Map()));
  const key = `${opts.enosys === false ? 0 : 1}${JSON.stringify(seccomp)}`;
  let c = bySys.get(key);
  if (!c) {
    c = compileSeccomp(seccomp, opts);
    if (bySys.size >= REMEMBER_MAX) bySys.delete(bySys.keys().next().value!);
    bySys.set(key, c);
  }
  return { program: Buffer.from(c.program), flags: c.flags, notify: c.notify, skipped: [...c.skipped] };
}

/** runc's isAllowAction: a default that lets syscalls run needs no -ENOSYS stub. */
function isAllowAction(action: number): boolean {
  const kind = (action & 0xffff0000) >>> 0;
  return action === ACT_ALLOW || action === ACT_LOG || kind === ACT_TRACE;
}

const AUDIT_ARCH_X86_64 = 0xc000003e;
/** SCMP_ARCH_X32 is EM_X86_64 | __AUDIT_ARCH_LE; the kernel reports x32 as AUDIT_ARCH_X86_64 with
 * __X32_SYSCALL_BIT set in the number (arch/x86/include/uapi/asm/unistd.h). */
const SCMP_ARCH_X32 = 0x4000003e;
const X32_SYSCALL_BIT = 0x40000000;

/* Classic BPF opcodes (include/uapi/linux/filter.h, bpf_common.h). */
const LD_W_ABS = 0x20;
const JMP_JA = 0x05;
const JMP_JEQ_K = 0x15;
const JMP_JGT_K = 0x25;
const JMP_JSET_K = 0x45;
const RET_K = 0x06;
/** offsetof(struct seccomp_data, nr) and (…, arch). */
const OFF_NR = 0;
const OFF_ARCH = 4;

type Insn = { code: number; jt: number; jf: number; k: number | string };

/**
 * runc's -ENOSYS stub (libcontainer/seccomp/patchbpf): a syscall numbered above the largest one the
 * profile names, for the task's arch, returns ENOSYS instead of the default action, so that a newer
 * libc falls back (clone3 → clone, faccessat2 → faccessat) rather than failing with EPERM. Our layout:
 * every conditional jump skips at most one instruction and long jumps are `ja` to labels, so no
 * offset can overflow the 8-bit jt/jf. Unknown arches fall through to libseccomp's own arch check.
 */
function enosysStub(sys: Pick<Sys, 'seccompArch' | 'seccompSyscall'>, arches: number[], names: string[]): Buffer {
  const tokens = [...new Set([sys.seccompArch(null), ...arches])];
  const max = new Map<number, number>();
  for (const t of tokens) {
    let m = -1;
    for (const name of names) m = Math.max(m, sys.seccompSyscall(t, name));
    if (m > 0) max.set(t, m);
  }
  // Group by the arch value the kernel reports in seccomp_data.arch.
  const byAudit = new Map<number, { native?: number; x32?: number }>();
  for (const [t, m] of max) {
    const audit = t === SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : t;
    const e = byAudit.get(audit) ?? {};
    if (t === SCMP_ARCH_X32) e.x32 = m;
    else e.native = m;
    byAudit.set(audit, e);
  }
  if (byAudit.size === 0) return Buffer.alloc(0);

  const code: Insn[] = [{ code: LD_W_ABS, jt: 0, jf: 0, k: OFF_ARCH }];
  const ja = (label: string): Insn => ({ code: JMP_JA, jt: 0, jf: 0, k: label });
  const labels = new Map<string, number>();
  const audits = [...byAudit.keys()];
  audits.forEach((a, i) => code.push({ code: JMP_JEQ_K, jt: 0, jf: 1, k: a >>> 0 }, ja(`arch${i}`)));
  code.push(ja('filter'));
  // "if nr > m then ENOSYS": jgt skips the ja to enosys when false.
  const over = (m: number): Insn[] => [{ code: JMP_JGT_K, jt: 0, jf: 1, k: m >>> 0 }, ja('enosys')];
  audits.forEach((a, i) => {
    const e = byAudit.get(a)!;
    labels.set(`arch${i}`, code.length);
    code.push({ code: LD_W_ABS, jt: 0, jf: 0, k: OFF_NR });
    if (a === AUDIT_ARCH_X86_64) {
      // x86_64 and x32 share the audit arch; the x32 bit tells them apart.
      code.push({ code: JMP_JSET_K, jt: 0, jf: 1, k: X32_SYSCALL_BIT }, ja(`x32_${i}`));
      if (e.native !== undefined) code.push(...over(e.native));
      code.push(ja('filter'));
      labels.set(`x32_${i}`, code.length);
      if (e.x32 !== undefined) code.push(...over(e.x32));
      code.push(ja('filter'));
    } else {
      code.push(...over(e.native!), ja('filter'));
    }
  });
  labels.set('enosys', code.length);
  code.push({ code: RET_K, jt: 0, jf: 0, k: (ACT_ERRNO | ENOSYS) >>> 0 });
  labels.set('filter', code.length);

  const buf = Buffer.alloc(code.length * 8);
  code.forEach((insn, pc) => {
    const k = typeof insn.k === 'string' ? labels.get(insn.k)! - (pc + 1) : insn.k;
    buf.writeUInt16LE(insn.code, pc * 8);
    buf.writeUInt8(insn.jt, pc * 8 + 2);
    buf.writeUInt8(insn.jf, pc * 8 + 3);
    buf.writeUInt32LE(k >>> 0, pc * 8 + 4);
  });
  return buf;
}

/** What `keel features` reports under linux.seccomp (runtime-spec features-linux.md; runc's features.go). */
export type SeccompFeatures = {
  enabled: boolean;
  actions: string[];
  operators: string[];
  archs: string[];
  knownFlags: string[];
  supportedFlags: string[];
};

/** Supported actions, operators, architectures (those this libseccomp resolves) and flags. */
export function seccompFeatures(
  sys: Pick<Sys, 'seccompArch' | 'seccompFlagSupported'> = realSys,
): SeccompFeatures {
  const knownFlags = Object.keys(FLAGS);
  return {
    enabled: true,
    actions: Object.keys(ACTIONS).sort(),
    operators: Object.keys(OPERATORS).sort(),
    archs: Object.keys(ARCHES)
      .filter((a) => sys.seccompArch(ARCHES[a]!) !== 0)
      .sort(),
    knownFlags,
    // TSYNC is ignored, so always usable; the others as the kernel says (WAIT_KILLABLE_RECV: 5.19,
    // probed together with NEW_LISTENER, which it requires).
    supportedFlags: knownFlags.filter((f) => {
      const bit = FLAGS[f]!;
      if (bit === 0) return true;
      return sys.seccompFlagSupported(bit === SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ? bit | SECCOMP_FILTER_FLAG_NEW_LISTENER : bit);
    }),
  };
}

/** libseccomp's version ("2.5.4"), for the io.github.seccomp.libseccomp.version features annotation (runc). */
export function libseccompVersion(sys: Pick<Sys, 'seccompVersion'> = realSys): string {
  const v = sys.seccompVersion();
  return `${v.major}.${v.minor}.${v.micro}`;
}
