// Builds the BPF_PROG_TYPE_CGROUP_DEVICE program that enforces linux.resources.devices on cgroup v2
// (the kernel has no devices.allow there). Pure: instructions are encoded here and loaded by v2.ts.
// Semantics follow runc's devicefilter + emulator: rules apply in order, the last matching rule
// wins, and a device no rule matches is denied.
import type { DeviceRule } from './devices';

/** include/uapi/linux/bpf.h constants. */
export const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
export const BPF_CGROUP_DEVICE = 6;
export const BPF_F_ALLOW_MULTI = 2;
const BPF_DEVCG_ACC_MKNOD = 1;
const BPF_DEVCG_ACC_READ = 2;
const BPF_DEVCG_ACC_WRITE = 4;
const BPF_DEVCG_DEV_BLOCK = 1;
const BPF_DEVCG_DEV_CHAR = 2;

/** Opcodes used (class | op | source), from include/uapi/linux/bpf_common.h and bpf.h. */
const LDX_MEM_W = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const ALU32_AND_K = 0x54; // BPF_ALU | BPF_AND | BPF_K
const ALU32_RSH_K = 0x74; // BPF_ALU | BPF_RSH | BPF_K
const ALU32_MOV_K = 0xb4; // BPF_ALU | BPF_MOV | BPF_K
const ALU32_MOV_X = 0xbc; // BPF_ALU | BPF_MOV | BPF_X
const JMP_JNE_K = 0x55; // BPF_JMP | BPF_JNE | BPF_K
const JMP_JNE_X = 0x5d; // BPF_JMP | BPF_JNE | BPF_X
const JMP_EXIT = 0x95; // BPF_JMP | BPF_EXIT

/** One struct bpf_insn. `skip` marks a jump to the end of its rule block (resolved when encoding). */
export type Insn = { code: number; dst: number; src: number; off: number; imm: number; skip?: boolean };

const insn = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });

function accessBits(access: string): number {
  let bits = 0;
  if (access.includes('r')) bits |= BPF_DEVCG_ACC_READ;
  if (access.includes('w')) bits |= BPF_DEVCG_ACC_WRITE;
  if (access.includes('m')) bits |= BPF_DEVCG_ACC_MKNOD;
  return bits;
}

const ALL_ACCESS = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;

/** Whether a rule matches every device and access (an "a *:* rwm" rule). */
function isUnconditional(r: DeviceRule): boolean {
  return r.type === 'a' && r.major < 0 && r.minor < 0 && accessBits(r.access) === ALL_ACCESS;
}

/**
 * The program as instructions. Context (struct bpf_cgroup_dev_ctx): u32 access_type =
 * (access << 16) | type, u32 major, u32 minor. Registers: r2 type, r3 access, r4 major, r5 minor.
 * Rules are checked last to first and the first hit returns its verdict, which is "last match
 * wins"; checking stops after an unconditional rule, since nothing before it can be reached.
 */
export function buildDeviceFilter(rules: DeviceRule[]): Insn[] {
  const out: Insn[] = [
    insn(LDX_MEM_W, 2, 1, 0, 0),
    insn(ALU32_AND_K, 2, 0, 0, 0xffff),
    insn(LDX_MEM_W, 3, 1, 0, 0),
    insn(ALU32_RSH_K, 3, 0, 0, 16),
    insn(LDX_MEM_W, 4, 1, 4, 0),
    insn(LDX_MEM_W, 5, 1, 8, 0),
  ];
  let terminated = false;
  for (let i = rules.length - 1; i >= 0; i--) {
    const r = rules[i]!;
    const block: Insn[] = [];
    if (r.type !== 'a') {
      block.push({ ...insn(JMP_JNE_K, 2, 0, 0, r.type === 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK), skip: true });
    }
    const acc = accessBits(r.access);
    if (acc !== ALL_ACCESS) {
      // Matches when the requested access is a subset of the rule's: (req & acc) == req.
      block.push(insn(ALU32_MOV_X, 1, 3, 0, 0));
      block.push(insn(ALU32_AND_K, 1, 0, 0, acc));
      block.push({ ...insn(JMP_JNE_X, 1, 3, 0, 0), skip: true });
    }
    if (r.major >= 0) block.push({ ...insn(JMP_JNE_K, 4, 0, 0, r.major | 0), skip: true });
    if (r.minor >= 0) block.push({ ...insn(JMP_JNE_K, 5, 0, 0, r.minor | 0), skip: true });
    block.push(insn(ALU32_MOV_K, 0, 0, 0, r.allow ? 1 : 0));
    block.push(insn(JMP_EXIT, 0, 0, 0, 0));
    block.forEach((b, j) => {
      if (b.skip) b.off = block.length - 1 - j;
    });
    out.push(...block);
    if (isUnconditional(r)) {
      terminated = true;
      break;
    }
  }
  if (!terminated) out.push(insn(ALU32_MOV_K, 0, 0, 0, 0), insn(JMP_EXIT, 0, 0, 0, 0));
  return out;
}

/** Encodes instructions as the little-endian 8-byte struct bpf_insn records bpf(BPF_PROG_LOAD) takes. */
export function encodeInsns(insns: Insn[]): Buffer {
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((i, n) => {
    buf.writeUInt8(i.code, n * 8);
    buf.writeUInt8((i.dst & 0xf) | ((i.src & 0xf) << 4), n * 8 + 1);
    buf.writeInt16LE(i.off, n * 8 + 2);
    buf.writeInt32LE(i.imm, n * 8 + 4);
  });
  return buf;
}

/**
 * Runs the program on one device access, interpreting only the opcodes buildDeviceFilter emits.
 * Tests use it to check the encoded program against the rule semantics without a kernel.
 */
export function runDeviceFilter(insns: Insn[], type: 'c' | 'b', major: number, minor: number, access: 'r' | 'w' | 'm'): boolean {
  const ctx = [((accessBits(access) << 16) | (type === 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK)) >>> 0, major >>> 0, minor >>> 0];
  const reg = new Array<number>(11).fill(0);
  for (let pc = 0; pc < insns.length; pc++) {
    const i = insns[pc]!;
    switch (i.code) {
      case LDX_MEM_W:
        reg[i.dst] = ctx[i.off / 4]!;
        break;
      case ALU32_AND_K:
        reg[i.dst] = (reg[i.dst]! & i.imm) >>> 0;
        break;
      case ALU32_RSH_K:
        reg[i.dst] = reg[i.dst]! >>> i.imm;
        break;
      case ALU32_MOV_K:
        reg[i.dst] = i.imm >>> 0;
        break;
      case ALU32_MOV_X:
        reg[i.dst] = reg[i.src]! >>> 0;
        break;
      case JMP_JNE_K:
        if (reg[i.dst] !== i.imm >>> 0) pc += i.off;
        break;
      case JMP_JNE_X:
        if (reg[i.dst] !== reg[i.src]) pc += i.off;
        break;
      case JMP_EXIT:
        return reg[0] === 1;
      default:
        throw new Error(`unexpected opcode 0x${i.code.toString(16)}`);
    }
  }
  throw new Error('program fell off its end');
}

/** The rule semantics the program must implement: last matching rule wins, default deny. */
export function isDeviceAllowed(rules: DeviceRule[], type: 'c' | 'b', major: number, minor: number, access: 'r' | 'w' | 'm'): boolean {
  for (let i = rules.length - 1; i >= 0; i--) {
    const r = rules[i]!;
    if (r.type !== 'a' && r.type !== type) continue;
    if (!r.access.includes(access)) continue;
    if (r.major >= 0 && r.major !== major) continue;
    if (r.minor >= 0 && r.minor !== minor) continue;
    return r.allow;
  }
  return false;
}
