import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LinuxSeccomp } from '../../../spec/types/runtime';
import { DEFAULT_CAPABILITIES } from './capabilities';
import {
  containerSeccomp,
  defaultSeccompProfile,
  defaultSeccompProfileJson,
  loadSeccompProfile,
  nativeArch,
  parseSeccompOption,
} from './seccomp-default';

const caps = [...DEFAULT_CAPABILITIES];
const ctx = { capabilities: caps, arch: 'x64', kernel: '6.18.44-fc-v1252' };

/** The rules of a resolved profile that name syscall n. */
const rulesFor = (p: LinuxSeccomp, n: string) => (p.syscalls ?? []).filter((s) => s.names.includes(n));
const allows = (p: LinuxSeccomp, n: string) => rulesFor(p, n).some((s) => s.action === 'SCMP_ACT_ALLOW' && !s.args);

test('default profile: errno EPERM by default, x86-64 with x86 and x32', () => {
  const p = defaultSeccompProfile(ctx);
  assert.equal(p.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(p.defaultErrnoRet, 1);
  assert.deepEqual(p.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  for (const n of ['read', 'openat', 'execve', 'futex', 'rseq', 'clock_gettime64', 'arch_prctl', 'modify_ldt', 'ptrace', 'chroot'])
    assert.ok(allows(p, n), `${n} allowed`);
  for (const n of ['keyctl', 'add_key', 'pivot_root', 'userfaultfd', 'io_uring_setup', 'kexec_load', 'swapon', 'mount', 'unshare', 'setns', 'kcmp', 'reboot'])
    assert.deepEqual(rulesFor(p, n), [], `${n} not listed`);
  assert.deepEqual(rulesFor(p, 'socket'), [{ names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] }]);
  assert.deepEqual(rulesFor(p, 'personality').map((s) => s.args![0]!.value), [0, 8, 0x20000, 0x20008, 0xffffffff]);
});

test('default profile without CAP_SYS_ADMIN: clone without CLONE_NEW* flags, clone3 gives ENOSYS', () => {
  const p = defaultSeccompProfile(ctx);
  assert.deepEqual(rulesFor(p, 'clone'), [
    { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
  ]);
  assert.deepEqual(rulesFor(p, 'clone3'), [{ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }]);
});

test('default profile with CAP_SYS_ADMIN: mounts, namespaces, clone and clone3 unconditional', () => {
  const p = defaultSeccompProfile({ ...ctx, capabilities: [...caps, 'CAP_SYS_ADMIN'] });
  for (const n of ['mount', 'umount2', 'unshare', 'setns', 'sethostname', 'setdomainname', 'clone', 'clone3', 'bpf', 'perf_event_open', 'syslog', 'quotactl', 'fsopen', 'open_tree'])
    assert.ok(allows(p, n), n);
  assert.ok(rulesFor(p, 'clone').every((s) => !s.args), 'no masked clone rule');
  assert.ok(rulesFor(p, 'clone3').every((s) => s.action === 'SCMP_ACT_ALLOW'), 'no ENOSYS rule');
  assert.deepEqual(rulesFor(p, 'pivot_root'), []);
});

test('default profile: each capability unlocks its own calls only', () => {
  const cases: [string, string[]][] = [
    ['CAP_SYS_PTRACE', ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'ptrace']],
    ['CAP_SYS_MODULE', ['init_module', 'finit_module', 'delete_module']],
    ['CAP_SYS_BOOT', ['reboot']],
    ['CAP_SYS_TIME', ['settimeofday', 'clock_settime', 'clock_settime64', 'stime']],
    ['CAP_SYSLOG', ['syslog']],
    ['CAP_BPF', ['bpf']],
    ['CAP_PERFMON', ['perf_event_open']],
    ['CAP_SYS_NICE', ['mbind', 'get_mempolicy', 'set_mempolicy', 'set_mempolicy_home_node']],
    ['CAP_SYS_RAWIO', ['iopl', 'ioperm']],
    ['CAP_SYS_PACCT', ['acct']],
    ['CAP_SYS_TTY_CONFIG', ['vhangup']],
    ['CAP_DAC_READ_SEARCH', ['open_by_handle_at']],
  ];
  const base = defaultSeccompProfile(ctx);
  for (const [cap, names] of cases) {
    const p = defaultSeccompProfile({ ...ctx, capabilities: [...caps, cap] });
    for (const n of names) assert.ok(allows(p, n), `${cap}: ${n}`);
    assert.ok(!allows(p, 'mount') && !allows(p, 'unshare'), `${cap} does not unlock mount`);
    assert.ok(names.some((n) => !allows(base, n)), `${cap} adds something`);
  }
  const noChroot = defaultSeccompProfile({ ...ctx, capabilities: caps.filter((c) => c !== 'CAP_SYS_CHROOT') });
  assert.deepEqual(rulesFor(noChroot, 'chroot'), []);
});

test('default profile: the arch picks archMap entry and arch-specific rules', () => {
  const arm = defaultSeccompProfile({ ...ctx, arch: 'arm64' });
  assert.deepEqual(arm.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.ok(allows(arm, 'cacheflush') && !allows(arm, 'arch_prctl') && !allows(arm, 'modify_ldt'));
  const s390 = defaultSeccompProfile({ ...ctx, arch: 's390x' });
  assert.deepEqual(s390.architectures, ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390']);
  assert.deepEqual(rulesFor(s390, 'clone').map((s) => s.args![0]!.index), [1]);
  assert.deepEqual(defaultSeccompProfile({ ...ctx, arch: 'riscv64' }).architectures, ['SCMP_ARCH_RISCV64']);
  assert.equal(defaultSeccompProfile({ ...ctx, arch: 'loong64' }).architectures, undefined);
  assert.equal(nativeArch('x64'), 'amd64');
  assert.equal(nativeArch('amd64'), 'amd64');
  assert.equal(nativeArch('ia32'), 'x86');
});

test('default profile: ptrace and process_vm_* only from kernel 4.8 without CAP_SYS_PTRACE', () => {
  assert.ok(!allows(defaultSeccompProfile({ ...ctx, kernel: '4.4.0-210-generic' }), 'ptrace'));
  assert.ok(allows(defaultSeccompProfile({ ...ctx, kernel: '4.8' }), 'ptrace'));
  assert.ok(allows(defaultSeccompProfile({ ...ctx, kernel: '4.4.0', capabilities: [...caps, 'CAP_SYS_PTRACE'] }), 'ptrace'));
  assert.throws(() => defaultSeccompProfile({ ...ctx, kernel: 'weird' }), /failed to parse kernel version "weird"/);
});

test('default profile: fresh objects, and the data file is sound', () => {
  const a = defaultSeccompProfile(ctx);
  a.syscalls![0]!.names.push('kexec_load');
  assert.deepEqual(rulesFor(defaultSeccompProfile(ctx), 'kexec_load'), []);
  const raw = defaultSeccompProfileJson();
  const seen = new Set<string>();
  for (const s of raw.syscalls!) {
    assert.ok(s.comment && s.names!.length > 0 && !s.name, JSON.stringify(s).slice(0, 80));
    if (s.includes || s.excludes || s.args) continue;
    for (const n of s.names!) {
      assert.ok(!seen.has(n), `${n} listed twice`);
      seen.add(n);
    }
  }
  assert.ok(seen.size > 350, `${seen.size} unconditional names`);
});

test('parseSeccompOption: unconfined, builtin, and a profile that turns seccomp off', () => {
  assert.equal(parseSeccompOption('unconfined', caps), undefined);
  assert.deepEqual(parseSeccompOption('builtin', caps, { arch: 'x64', kernel: ctx.kernel }), defaultSeccompProfile(ctx));
  assert.equal(parseSeccompOption('null', caps), undefined);
  assert.equal(parseSeccompOption('{}', caps), undefined);
  assert.equal(parseSeccompOption('{"syscalls":[]}', caps), undefined);
});

test('parseSeccompOption: includes/excludes on caps, arches and kernel; name; errnoRet; args', () => {
  const profile = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64'],
    flags: ['SECCOMP_FILTER_FLAG_LOG'],
    syscalls: [
      { name: 'keyctl', action: 'SCMP_ACT_ERRNO', errnoRet: 13, comment: 'old single-name form' },
      { names: ['unshare'], action: 'SCMP_ACT_ERRNO', includes: { caps: ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'] } },
      { names: ['setns'], action: 'SCMP_ACT_ERRNO', excludes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['kcmp'], action: 'SCMP_ACT_ERRNO', excludes: { arches: ['amd64'] } },
      { names: ['iopl'], action: 'SCMP_ACT_ERRNO', includes: { arches: ['amd64', 'x32'] } },
      { names: ['mount'], action: 'SCMP_ACT_ERRNO', includes: { minKernel: '200.0' } },
      { names: ['umount2'], action: 'SCMP_ACT_ERRNO', excludes: { minKernel: '5.1' } },
      { names: ['chroot'], action: 'SCMP_ACT_LOG', includes: { minKernel: '' } },
      { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0x40000, op: 'SCMP_CMP_EQ' }, { index: 1, value: 3, valueTwo: 1, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: [], action: 'SCMP_ACT_KILL' },
    ],
  };
  const names = (p: LinuxSeccomp | undefined) => p!.syscalls!.map((s) => s.names[0]);
  const plain = parseSeccompOption(JSON.stringify(profile), caps, { arch: 'x64', kernel: '6.1.0' })!;
  assert.deepEqual(plain.architectures, ['SCMP_ARCH_X86_64']);
  assert.deepEqual(plain.flags, ['SECCOMP_FILTER_FLAG_LOG']);
  assert.deepEqual(names(plain), ['keyctl', 'setns', 'iopl', 'chroot', 'personality']);
  assert.deepEqual(plain.syscalls![0], { names: ['keyctl'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 });
  assert.deepEqual(plain.syscalls![4]!.args, [{ index: 0, value: 0x40000, op: 'SCMP_CMP_EQ' }, { index: 1, value: 3, valueTwo: 1, op: 'SCMP_CMP_MASKED_EQ' }]);
  const admin = parseSeccompOption(JSON.stringify(profile), [...caps, 'CAP_SYS_ADMIN'], { arch: 'x64', kernel: '6.1.0' });
  assert.deepEqual(names(admin), ['keyctl', 'iopl', 'chroot', 'personality'], 'includes needs every cap');
  const both = parseSeccompOption(JSON.stringify(profile), [...caps, 'CAP_SYS_ADMIN', 'CAP_NET_ADMIN'], { arch: 'x64', kernel: '4.19' });
  assert.deepEqual(names(both), ['keyctl', 'unshare', 'iopl', 'umount2', 'chroot', 'personality']);
  const arm = parseSeccompOption(JSON.stringify(profile), caps, { arch: 'arm64', kernel: '6.1' });
  assert.deepEqual(names(arm), ['keyctl', 'setns', 'kcmp', 'chroot', 'personality']);
});

test('parseSeccompOption: archMap expands for the native arch only; keys match as Go matches them', () => {
  const p = parseSeccompOption(
    JSON.stringify({
      DefaultAction: 'SCMP_ACT_ERRNO',
      archmap: [
        { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
        { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] },
      ],
      syscalls: [{ Names: ['read'], Action: 'SCMP_ACT_ALLOW', comment: null }],
    }),
    caps,
    { arch: 'x64' },
  );
  assert.deepEqual(p, { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] });
  assert.equal(parseSeccompOption(JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', archMap: [{ architecture: 'SCMP_ARCH_S390X' }] }), caps, { arch: 'x64' })!.architectures, undefined);
});

test("parseSeccompOption: bad profiles give one clear error, in Docker's words where Docker has them", () => {
  const bad: [string, RegExp][] = [
    ['{', /^Decoding seccomp profile failed: /],
    ['[]', /^Decoding seccomp profile failed: profile: expected an object, got array$/],
    ['{"defaultAction":5}', /^Decoding seccomp profile failed: defaultAction: expected a string, got number$/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":{}}', /^Decoding seccomp profile failed: syscalls: expected an array, got object$/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":"read","action":"SCMP_ACT_ERRNO"}]}', /syscalls\[0\]\.names: expected an array of strings, got string/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","errnoRet":-1}]}', /syscalls\[0\]\.errnoRet: expected an unsigned integer, got -1/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1.5,"op":"SCMP_CMP_EQ"}]}]}', /syscalls\[0\]\.args\[0\]\.value: expected an unsigned integer, got 1\.5/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}', /^both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'$/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ERRNO"}]}', /^both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'$/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO","includes":{"minKernel":"4"}}]}', /^Decoding seccomp profile failed: invalid kernel version: "4", expected "<kernel>\.<major>"$/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO","includes":{"minKernel":"4.1.2"}}]}', /invalid kernel version: "4\.1\.2", expected "<kernel>\.<major>"$/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO","excludes":{"minKernel":"0.0"}}]}', /invalid kernel version: "0\.0", expected "<kernel>\.<major>": version cannot be 0\.0/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO","excludes":{"minKernel":"4.x"}}]}', /invalid kernel version: "4\.x", expected "<kernel>\.<major>": not a number/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO","includes":{"minKernel":4.1}}]}', /invalid kernel version: 4\.1, expected/],
    ['{"defaultAction":"SCMP_ACT_BOGUS"}', /^invalid seccomp profile: defaultAction: unknown action "SCMP_ACT_BOGUS"$/],
    ['{"syscalls":[{"names":["uname"],"action":"SCMP_ACT_ERRNO"}]}', /^invalid seccomp profile: defaultAction: missing action/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_NOPE"}]}', /^invalid seccomp profile: syscalls\[0\]\.action: unknown action "SCMP_ACT_NOPE"$/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"]}]}', /^invalid seccomp profile: syscalls\[0\]\.action: missing action$/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}', /syscalls\[0\]\.args\[0\]\.index: 6 is out of range/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_ABOUT"}]}]}', /syscalls\[0\]\.args\[0\]\.op: unknown operator "SCMP_CMP_ABOUT"/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_Z80"]}', /^invalid seccomp profile: architectures\[0\]: unknown architecture "SCMP_ARCH_Z80"$/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":["x86"]}]}', /archMap\[0\]: unknown architecture "x86"/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_FAST"]}', /flags\[0\]: unknown flag "SECCOMP_FILTER_FLAG_FAST"/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO","includes":{"caps":"CAP_SYS_ADMIN"}}]}', /syscalls\[0\]\.includes\.caps: expected an array of strings, got string/],
  ];
  for (const [profile, re] of bad) {
    assert.throws(() => parseSeccompOption(profile, caps), (e: Error & { kind?: string }) => {
      assert.match(e.message, re, profile);
      assert.equal(e.kind, 'InvalidArgument');
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    });
  }
});

test('parseSeccompOption: numbers JSON cannot hold exactly and entries without names', () => {
  const p = loadSeccompProfile(
    { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38, listenerPath: '/run/agent.sock', syscalls: [{ names: ['a'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 18446744073709551615, op: 'SCMP_CMP_EQ' }] }, { action: 'SCMP_ACT_ALLOW' }] },
    ctx,
  )!;
  assert.equal(p.defaultErrnoRet, 38);
  assert.equal(p.listenerPath, '/run/agent.sock');
  assert.equal(p.syscalls!.length, 1, 'an entry without names is dropped, as it has no effect in Docker');
  assert.equal(p.syscalls![0]!.args![0]!.value, 2 ** 64);
});

test("containerSeccomp: Docker 28's choice for unconfined, privileged, custom and default", () => {
  const custom = '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["keyctl"],"action":"SCMP_ACT_ERRNO"}]}';
  assert.deepEqual(containerSeccomp({ capabilities: caps, privileged: false, arch: 'x64', kernel: ctx.kernel }), defaultSeccompProfile(ctx));
  assert.equal(containerSeccomp({ capabilities: caps, privileged: true }), undefined);
  assert.equal(containerSeccomp({ option: 'unconfined', capabilities: caps, privileged: false }), undefined);
  assert.equal(containerSeccomp({ option: '', capabilities: caps, privileged: true }), undefined);
  assert.deepEqual(containerSeccomp({ option: custom, capabilities: caps, privileged: true })!.syscalls, [{ names: ['keyctl'], action: 'SCMP_ACT_ERRNO' }]);
  assert.deepEqual(containerSeccomp({ option: 'builtin', capabilities: caps, privileged: true, arch: 'x64', kernel: ctx.kernel }), defaultSeccompProfile(ctx));
});
