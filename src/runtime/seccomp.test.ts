// Proves compiled seccomp programs behave: each profile is compiled here, installed by
// native/test/seccomp/probe.c (no_new_privs + seccomp(2), as the child does) and probed with real syscalls.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LinuxSeccomp } from '../../spec/types/runtime';
import { realSys } from '../native/index';
import {
  compileSeccomp,
  compileSeccompRemembered,
  libseccompVersion,
  seccompFeatures,
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_NEW_LISTENER,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
} from './seccomp';

/* x86_64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
const NR = { getpid: 39, mkdir: 83, umask: 95, getpriority: 140, getppid: 110, personality: 135, openat: 257 };
const EPERM = 1;
const ENOSYS = 38;
const EXDEV = 18;
const isX64 = process.arch === 'x64';

let dir = '';
let probe = '';
let n = 0;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-seccomp-'));
  probe = path.join(dir, 'probe');
  const src = path.join(__dirname, '..', '..', 'native', 'test', 'seccomp', 'probe.c');
  const cc = spawnSync('cc', ['-O1', '-Wall', '-o', probe, src], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

type Run = { lines: Map<string, string>; signal: NodeJS.Signals | null; status: number | null; out: string };

/** Compiles profile, installs it in a fresh probe process and runs the probes. */
function run(profile: LinuxSeccomp, probes: string[], opts: { enosys?: boolean } = {}): Run {
  const c = compileSeccomp(profile, { enosys: opts.enosys });
  assert.equal(c.program.length % 8, 0);
  const file = path.join(dir, `prog-${n++}.bin`);
  fs.writeFileSync(file, c.program);
  const r = spawnSync(probe, [file, String(c.flags), ...probes], { encoding: 'utf8' });
  const lines = new Map<string, string>();
  for (const l of r.stdout.split('\n').filter(Boolean)) {
    const sp = l.indexOf(' ');
    lines.set(l.slice(0, sp), l.slice(sp + 1));
  }
  return { lines, signal: r.signal, status: r.status, out: r.stdout + r.stderr };
}

const sys = (nr: number, ...args: number[]) => ['sys:' + nr, ...args].join(':');

test('errnoRet 1 on mkdir fails it with EPERM while getpid still works', { skip: !isX64 }, () => {
  const target = path.join(dir, 'denied');
  const r = run(
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] },
    [`mkdir:${target}`, sys(NR.getpid)],
  );
  assert.equal(r.status, 0, r.out);
  assert.equal(r.lines.get('mkdir'), `errno=${EPERM}`);
  assert.equal(r.lines.get(sys(NR.getpid)), 'ok');
  assert.equal(fs.existsSync(target), false);
});

test('SCMP_ACT_ERRNO without errnoRet returns EPERM; another errnoRet is returned as is', { skip: !isX64 }, () => {
  const r = run(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['getppid'], action: 'SCMP_ACT_ERRNO' },
        { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: EXDEV },
      ],
    },
    [sys(NR.getppid), `mkdir:${path.join(dir, 'x')}`],
  );
  assert.equal(r.lines.get(sys(NR.getppid)), `errno=${EPERM}`);
  assert.equal(r.lines.get('mkdir'), `errno=${EXDEV}`);
});

test('every operator denies only the matching argument (umask probes)', { skip: !isX64 }, () => {
  const cases: [string, number, number | undefined, number[], number[]][] = [
    ['SCMP_CMP_EQ', 0o077, undefined, [0o077], [0o022, 0o777]],
    ['SCMP_CMP_NE', 0o022, undefined, [0o077, 0o777], [0o022]],
    ['SCMP_CMP_GT', 0o100, undefined, [0o777, 0o101], [0o100, 0o022]],
    ['SCMP_CMP_GE', 0o100, undefined, [0o100, 0o777], [0o077]],
    ['SCMP_CMP_LT', 0o010, undefined, [0o007, 0], [0o010, 0o022]],
    ['SCMP_CMP_LE', 0o010, undefined, [0o010, 0o007], [0o011, 0o022]],
    ['SCMP_CMP_MASKED_EQ', 0o700, 0o700, [0o777, 0o700], [0o077, 0o600]],
  ];
  for (const [op, value, valueTwo, denied, allowed] of cases) {
    const profile: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        {
          names: ['umask'],
          action: 'SCMP_ACT_ERRNO',
          errnoRet: EXDEV,
          args: [{ index: 0, value, valueTwo, op: op as 'SCMP_CMP_EQ' }],
        },
      ],
    };
    const r = run(profile, [...denied, ...allowed].map((v) => sys(NR.umask, v)));
    for (const v of denied) assert.equal(r.lines.get(sys(NR.umask, v)), `errno=${EXDEV}`, `${op} ${v.toString(8)}`);
    for (const v of allowed) assert.equal(r.lines.get(sys(NR.umask, v)), 'ok', `${op} ${v.toString(8)}`);
  }
});

test('personality(0xffffffff) is denied by an EQ condition while personality queries of other values pass', { skip: !isX64 }, () => {
  const r = run(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 0xffffffff, op: 'SCMP_CMP_EQ' }] },
      ],
    },
    [sys(NR.personality, 0xffffffff), sys(NR.personality, 0)],
  );
  assert.equal(r.lines.get(sys(NR.personality, 0xffffffff)), `errno=${EPERM}`);
  assert.equal(r.lines.get(sys(NR.personality, 0)), 'ok');
});

test('conditions on different arguments are ANDed; on the same argument ORed (runc)', { skip: !isX64 }, () => {
  const and = run(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        {
          names: ['getpriority'],
          action: 'SCMP_ACT_ERRNO',
          errnoRet: EXDEV,
          args: [
            { index: 0, value: 0, op: 'SCMP_CMP_EQ' },
            { index: 1, value: 0, op: 'SCMP_CMP_EQ' },
          ],
        },
      ],
    },
    [sys(NR.getpriority, 0, 0), sys(NR.getpriority, 0, process.pid), sys(NR.getpriority, 1, 0)],
  );
  assert.equal(and.lines.get(sys(NR.getpriority, 0, 0)), `errno=${EXDEV}`);
  assert.notEqual(and.lines.get(sys(NR.getpriority, 0, process.pid)), `errno=${EXDEV}`);
  assert.notEqual(and.lines.get(sys(NR.getpriority, 1, 0)), `errno=${EXDEV}`);
  const or = run(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        {
          names: ['umask'],
          action: 'SCMP_ACT_ERRNO',
          errnoRet: EXDEV,
          args: [
            { index: 0, value: 0o011, op: 'SCMP_CMP_EQ' },
            { index: 0, value: 0o033, op: 'SCMP_CMP_EQ' },
          ],
        },
      ],
    },
    [sys(NR.umask, 0o011), sys(NR.umask, 0o033), sys(NR.umask, 0o022)],
  );
  assert.equal(or.lines.get(sys(NR.umask, 0o011)), `errno=${EXDEV}`);
  assert.equal(or.lines.get(sys(NR.umask, 0o033)), `errno=${EXDEV}`);
  assert.equal(or.lines.get(sys(NR.umask, 0o022)), 'ok');
});

/** The probe's own needs after the install: write(2) for its output and exit_group(2). */
const probeNeeds: [string, ...string[]] = ['write', 'exit_group', 'exit'];

test('defaultAction SCMP_ACT_ERRNO with an allow-list; -ENOSYS for syscalls newer than the profile', { skip: !isX64 }, () => {
  const profile: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: [...probeNeeds, 'getpid'] as [string, ...string[]], action: 'SCMP_ACT_ALLOW' }],
  };
  // exit_group (231) is the newest syscall listed: getppid (110) gets the default, openat (257) ENOSYS.
  const probes = [sys(NR.getpid), sys(NR.getppid), sys(NR.openat, 0, 0)];
  const r = run(profile, probes);
  assert.equal(r.status, 0, r.out);
  assert.equal(r.lines.get(sys(NR.getpid)), 'ok');
  assert.equal(r.lines.get(sys(NR.getppid)), `errno=${EPERM}`);
  assert.equal(r.lines.get(sys(NR.openat, 0, 0)), `errno=${ENOSYS}`);
  const plain = run(profile, probes, { enosys: false });
  assert.equal(plain.lines.get(sys(NR.openat, 0, 0)), `errno=${EPERM}`);
  // defaultErrnoRet applies to the default action.
  const custom = run({ ...profile, defaultErrnoRet: EXDEV }, [sys(NR.getppid)]);
  assert.equal(custom.lines.get(sys(NR.getppid)), `errno=${EXDEV}`);
});

test('SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL and SCMP_ACT_TRAP end the process with SIGSYS', { skip: !isX64 }, () => {
  for (const action of ['SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP'] as const) {
    const r = run({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getppid'], action }] }, [
      sys(NR.getpid),
      sys(NR.getppid),
      sys(NR.getpid),
    ]);
    assert.equal(r.signal, 'SIGSYS', `${action}: ${r.out}`);
    assert.equal(r.lines.get(sys(NR.getpid)), 'ok', action);
    assert.equal(r.lines.has(sys(NR.getppid)), false, action);
  }
  const def = run({ defaultAction: 'SCMP_ACT_KILL_PROCESS', syscalls: [{ names: probeNeeds, action: 'SCMP_ACT_ALLOW' }] }, [
    sys(NR.getpid),
  ]);
  assert.equal(def.signal, 'SIGSYS', def.out);
});

test('SCMP_ACT_LOG allows; SCMP_ACT_TRACE without a tracer fails with ENOSYS', { skip: !isX64 }, () => {
  const target = path.join(dir, 'logged');
  const r = run(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['mkdir'], action: 'SCMP_ACT_LOG' },
        { names: ['getppid'], action: 'SCMP_ACT_TRACE', errnoRet: 7 },
      ],
    },
    [`mkdir:${target}`, sys(NR.getppid)],
  );
  assert.equal(r.lines.get('mkdir'), 'ok');
  assert.equal(fs.statSync(target).isDirectory(), true);
  assert.equal(r.lines.get(sys(NR.getppid)), `errno=${ENOSYS}`);
  // The tracer would see errnoRet as the event message: SECCOMP_RET_TRACE | 7 is in the program.
  const c = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_TRACE', errnoRet: 7 }] });
  const rets: number[] = [];
  for (let pc = 0; pc < c.program.length; pc += 8) if (c.program.readUInt16LE(pc) === 0x06) rets.push(c.program.readUInt32LE(pc + 4));
  assert.ok(rets.includes(0x7ff00007), rets.map((k) => k.toString(16)).join(' '));
});

test('SCMP_ACT_NOTIFY sets NEW_LISTENER; the install yields a listener fd that receives the syscall', { skip: !isX64 }, () => {
  const profile: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    listenerPath: '/run/agent.sock',
    syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
  };
  const c = compileSeccomp(profile);
  assert.equal(c.notify, true);
  assert.equal(c.flags & SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_FILTER_FLAG_NEW_LISTENER);
  const target = path.join(dir, 'notified');
  const r = run(profile, ['listener', `notify:${target}`]);
  assert.equal(r.status, 0, r.out);
  assert.match(r.lines.get('listener') ?? '', /^fd=\d+$/);
  assert.ok(Number(r.lines.get('listener')!.slice(3)) >= 3);
  assert.equal(r.out.includes(`notify nr=${NR.mkdir}`), true, r.out);
  assert.equal(r.out.includes(`notify child=${EXDEV}`), true, r.out);
  assert.equal(fs.existsSync(target), false);
});

test('architectures x86_64 + x86 + x32 compile and the native rules still apply', { skip: !isX64 }, () => {
  const profile: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [{ names: [...probeNeeds, 'getpid'] as [string, ...string[]], action: 'SCMP_ACT_ALLOW' }],
  };
  const one = compileSeccomp({ ...profile, architectures: ['SCMP_ARCH_X86_64'] });
  const three = compileSeccomp(profile);
  assert.ok(three.program.length > one.program.length);
  const r = run(profile, [sys(NR.getpid), sys(NR.getppid), sys(NR.openat, 0, 0)]);
  assert.equal(r.status, 0, r.out);
  assert.equal(r.lines.get(sys(NR.getpid)), 'ok');
  assert.equal(r.lines.get(sys(NR.getppid)), `errno=${EPERM}`);
  assert.equal(r.lines.get(sys(NR.openat, 0, 0)), `errno=${ENOSYS}`);
});

/** i386 numbers (arch/x86/entry/syscalls/syscall_32.tbl), reached from x86_64 through int $0x80. */
const NR32 = { getpid: 20, getppid: 64, umask: 60, openat: 295 };

/** Whether the kernel runs i386 syscalls (CONFIG_IA32_EMULATION, not disabled by ia32_emulation=0). */
function hasIa32(): boolean {
  const r = run({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'] }, [
    `int80:${NR32.getpid}`,
  ]);
  return r.lines.get(`int80:${NR32.getpid}`) === 'ok';
}

test('i386 syscalls (int $0x80) follow the profile only when SCMP_ARCH_X86 is listed; else the bad-arch kill', { skip: !isX64 }, (t) => {
  if (!hasIa32()) return t.skip('no IA32 emulation in this kernel');
  const deny: LinuxSeccomp['syscalls'] = [{ names: ['umask'], action: 'SCMP_ACT_ERRNO', errnoRet: EXDEV }];
  const both = run({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], syscalls: deny }, [
    `int80:${NR32.umask}:18`,
    `int80:${NR32.getpid}`,
    sys(NR.umask, 0o22),
  ]);
  assert.equal(both.lines.get(`int80:${NR32.umask}:18`), `errno=${EXDEV}`);
  assert.equal(both.lines.get(`int80:${NR32.getpid}`), 'ok');
  assert.equal(both.lines.get(sys(NR.umask, 0o22)), `errno=${EXDEV}`);
  const native = run({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: deny }, [
    sys(NR.getpid),
    `int80:${NR32.getpid}`,
  ]);
  assert.equal(native.lines.get(sys(NR.getpid)), 'ok');
  assert.equal(native.signal, 'SIGSYS', native.out);
  // The -ENOSYS stub has an i386 section of its own: exit_group (252) is the newest i386 syscall listed.
  const allow = run(
    {
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [{ names: [...probeNeeds, 'getpid'] as [string, ...string[]], action: 'SCMP_ACT_ALLOW' }],
    },
    [`int80:${NR32.getpid}`, `int80:${NR32.getppid}`, `int80:${NR32.openat}`],
  );
  assert.equal(allow.lines.get(`int80:${NR32.getpid}`), 'ok');
  assert.equal(allow.lines.get(`int80:${NR32.getppid}`), `errno=${EPERM}`);
  assert.equal(allow.lines.get(`int80:${NR32.openat}`), `errno=${ENOSYS}`);
});

test('flags: absent = SPEC_ALLOW (runc), [] = none, TSYNC ignored, LOG passed on and accepted by the kernel', { skip: !isX64 }, () => {
  const base: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_ERRNO' }] };
  assert.equal(compileSeccomp(base).flags, SECCOMP_FILTER_FLAG_SPEC_ALLOW);
  assert.equal(compileSeccomp({ ...base, flags: [] }).flags, 0);
  assert.equal(compileSeccomp({ ...base, flags: ['SECCOMP_FILTER_FLAG_TSYNC'] }).flags, 0);
  const all: LinuxSeccomp = {
    ...base,
    flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
  };
  // WAIT_KILLABLE_RECV only means something with a listener (the kernel rejects it alone: EINVAL).
  assert.equal(compileSeccomp(all).flags, SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW);
  const r = run(all, [sys(NR.getppid)]);
  assert.equal(r.status, 0, r.out);
  assert.equal(r.lines.get(sys(NR.getppid)), `errno=${EPERM}`);
});

test('WAIT_KILLABLE_RECV rides with NEW_LISTENER and the kernel accepts the pair', { skip: !isX64 }, () => {
  const profile: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    listenerPath: '/run/agent.sock',
    flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
    syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
  };
  assert.equal(
    compileSeccomp(profile).flags,
    SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV | SECCOMP_FILTER_FLAG_NEW_LISTENER,
  );
  const r = run(profile, ['listener', `notify:${path.join(dir, 'killable')}`]);
  assert.equal(r.status, 0, r.out);
  assert.equal(r.out.includes(`notify child=${EXDEV}`), true, r.out);
});

test('unknown syscall names are skipped as runc does; rules equal to the default are dropped', { skip: !isX64 }, () => {
  const c = compileSeccomp({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: ['no_such_syscall', 'mkdir'], action: 'SCMP_ACT_ERRNO' },
      { names: ['getpid'], action: 'SCMP_ACT_ALLOW' },
    ],
  });
  assert.deepEqual(c.skipped, ['no_such_syscall']);
  const r = run({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['no_such_syscall', 'mkdir'], action: 'SCMP_ACT_ERRNO' }] }, [
    `mkdir:${path.join(dir, 'y')}`,
  ]);
  assert.equal(r.lines.get('mkdir'), `errno=${EPERM}`);
});

test('a long profile (libseccomp binary tree above 32 rules) keeps its meaning', { skip: !isX64 }, () => {
  const allowed: [string, ...string[]] = [...probeNeeds, 'getpid', 'read', 'close', 'fstat', 'lseek', 'mmap', 'mprotect', 'munmap', 'brk'];
  allowed.push('rt_sigaction', 'rt_sigprocmask', 'ioctl', 'pread64', 'pwrite64', 'readv', 'writev', 'access', 'pipe');
  allowed.push('select', 'sched_yield', 'mremap', 'msync', 'mincore', 'madvise', 'dup', 'dup2', 'pause', 'nanosleep');
  allowed.push('getitimer', 'alarm', 'setitimer', 'sendfile', 'socket', 'connect');
  assert.ok(allowed.length > 32);
  const r = run({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: allowed, action: 'SCMP_ACT_ALLOW' }] }, [
    sys(NR.getpid),
    sys(NR.getppid),
  ]);
  assert.equal(r.status, 0, r.out);
  assert.equal(r.lines.get(sys(NR.getpid)), 'ok');
  assert.equal(r.lines.get(sys(NR.getppid)), `errno=${EPERM}`);
});

const UNISTD_64 = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h';

test('a Docker-sized allow-list (every x86_64 syscall but getppid, with argument rules) stays under BPF_MAXINSNS and works', { skip: !isX64 || !fs.existsSync(UNISTD_64) }, () => {
  const all = [...fs.readFileSync(UNISTD_64, 'utf8').matchAll(/^#define __NR_(\w+) \d+$/gm)].map((m) => m[1]!);
  assert.ok(all.length > 300);
  const names = all.filter((n) => n !== 'getppid' && n !== 'personality' && n !== 'umask') as [string, ...string[]];
  const profile: LinuxSeccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      { names, action: 'SCMP_ACT_ALLOW' },
      // moby's personality rules: only these values pass.
      ...[0, 8, 0x20000, 0x20008, 0xffffffff].map((value) => ({
        names: ['personality'] as [string],
        action: 'SCMP_ACT_ALLOW' as const,
        args: [{ index: 0, value, op: 'SCMP_CMP_EQ' as const }],
      })),
      { names: ['umask'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0o700, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
    ],
  };
  const c = compileSeccomp(profile);
  assert.ok(c.program.length / 8 < 4096, `${c.program.length / 8} instructions`);
  const r = run(profile, [
    sys(NR.getpid),
    sys(NR.getppid),
    sys(NR.personality, 0xffffffff),
    sys(NR.personality, 0x0400000),
    sys(NR.umask, 0o022),
    sys(NR.umask, 0o722),
  ]);
  assert.equal(r.status, 0, r.out);
  assert.equal(r.lines.get(sys(NR.getpid)), 'ok');
  assert.equal(r.lines.get(sys(NR.getppid)), `errno=${EPERM}`);
  assert.equal(r.lines.get(sys(NR.personality, 0xffffffff)), 'ok');
  assert.equal(r.lines.get(sys(NR.personality, 0x0400000)), `errno=${EPERM}`);
  assert.equal(r.lines.get(sys(NR.umask, 0o022)), 'ok');
  assert.equal(r.lines.get(sys(NR.umask, 0o722)), `errno=${EPERM}`);
});

test('invalid profiles are InvalidArgument errors naming the JSON pointer', () => {
  const bad = (s: unknown, message: string) =>
    assert.throws(() => compileSeccomp(s as LinuxSeccomp), (e: Error & { kind?: string }) => {
      assert.equal(e.kind, 'InvalidArgument');
      assert.equal(e.message, message);
      return true;
    });
  const ok = { names: ['getpid'], action: 'SCMP_ACT_ERRNO' };
  bad(
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [ok, ok, ok, { names: ['mkdir'], action: 'SCMP_ACT_FOO' }] },
    'config.json: /linux/seccomp/syscalls/3/action: unknown action "SCMP_ACT_FOO"',
  );
  bad({ defaultAction: 'SCMP_ACT_NOPE' }, 'config.json: /linux/seccomp/defaultAction: unknown action "SCMP_ACT_NOPE"');
  bad(
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ ...ok, args: [{ index: 0, value: 1, op: 'SCMP_CMP_XX' }] }] },
    'config.json: /linux/seccomp/syscalls/0/args/0/op: unknown operator "SCMP_CMP_XX"',
  );
  bad(
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ ...ok, args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] },
    'config.json: /linux/seccomp/syscalls/0/args/0/index: argument index 6 out of range 0-5',
  );
  bad(
    { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_Z80'] },
    'config.json: /linux/seccomp/architectures/1: unknown architecture "SCMP_ARCH_Z80"',
  );
  bad(
    { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_NOPE'] },
    'config.json: /linux/seccomp/flags/0: unknown flag "SECCOMP_FILTER_FLAG_NOPE"',
  );
  bad({ defaultAction: 'SCMP_ACT_NOTIFY' }, 'config.json: /linux/seccomp/defaultAction: SCMP_ACT_NOTIFY cannot be the default action');
  bad(
    { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/x', syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_NOTIFY' }] },
    'config.json: /linux/seccomp/syscalls/0/names/1: SCMP_ACT_NOTIFY cannot be used for write',
  );
  bad(
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] },
    'config.json: /linux/seccomp/listenerPath: required when an action is SCMP_ACT_NOTIFY',
  );
  bad(
    { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ ...ok, args: [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }] }] },
    'config.json: /linux/seccomp/syscalls/0/args/0/value: invalid value -1',
  );
});

test('a rule libseccomp rejects is reported at its profile entry', () => {
  const cond = [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' as const }];
  assert.throws(
    () =>
      compileSeccomp({
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [
          { names: ['umask'], action: 'SCMP_ACT_ERRNO', args: cond },
          { names: ['getpid', 'umask'], action: 'SCMP_ACT_KILL', args: cond },
        ],
      }),
    (e: Error & { kind?: string }) => {
      assert.equal(e.kind, 'InvalidArgument');
      assert.equal(
        e.message,
        'config.json: /linux/seccomp/syscalls/1/names/1: seccomp_rule_add: EEXIST (conflicting or invalid rule for umask)',
      );
      return true;
    },
  );
});

test('seccompFeatures lists actions, operators, this libseccomp\'s arches, flags and version', () => {
  const f = seccompFeatures();
  assert.equal(f.actions.length, 9);
  assert.equal(f.operators.length, 7);
  assert.ok(f.archs.includes('SCMP_ARCH_X86_64') && f.archs.includes('SCMP_ARCH_AARCH64'));
  assert.ok(!f.archs.includes('SCMP_ARCH_Z80'));
  assert.match(libseccompVersion(), /^\d+\.\d+\.\d+$/);
  assert.deepEqual(f.knownFlags.sort(), [
    'SECCOMP_FILTER_FLAG_LOG',
    'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
    'SECCOMP_FILTER_FLAG_TSYNC',
    'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
  ]);
  assert.ok(f.supportedFlags.includes('SECCOMP_FILTER_FLAG_TSYNC'));
  // Every flag is known to kernels from 5.19 on (WAIT_KILLABLE_RECV is the newest).
  if (Number(os.release().split('.')[0]) >= 6) assert.equal(f.supportedFlags.length, 4);
});

test('compileSeccompRemembered: the same program as compileSeccomp, libseccomp once per profile, copies handed out', () => {
  let compiles = 0;
  const counting = { ...realSys, seccompCompile: (i: Parameters<typeof realSys.seccompCompile>[0]) => (compiles++, realSys.seccompCompile(i)) };
  const profile: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['getpid', 'read', 'write'], action: 'SCMP_ACT_ALLOW' }] };
  const fresh = compileSeccomp(profile, { sys: counting });
  const first = compileSeccompRemembered(profile, { sys: counting });
  const again = compileSeccompRemembered(JSON.parse(JSON.stringify(profile)) as LinuxSeccomp, { sys: counting });
  assert.equal(compiles, 2, 'the second remembered call compiles nothing');
  assert.deepEqual(first, fresh);
  assert.deepEqual(again, fresh);
  first.program.fill(0);
  first.skipped.push('x');
  assert.deepEqual(compileSeccompRemembered(profile, { sys: counting }), fresh, 'a caller cannot change what is remembered');
  const other = compileSeccompRemembered({ ...profile, defaultAction: 'SCMP_ACT_KILL' }, { sys: counting });
  const noStub = compileSeccompRemembered(profile, { sys: counting, enosys: false });
  assert.equal(compiles, 4);
  assert.notDeepEqual(other.program, fresh.program);
  assert.deepEqual(noStub, compileSeccomp(profile, { enosys: false }));
  assert.throws(() => compileSeccompRemembered({ ...profile, defaultAction: 'SCMP_ACT_NOPE' as LinuxSeccomp['defaultAction'] }, { sys: counting }), /unknown/);
  assert.throws(() => compileSeccompRemembered({ ...profile, defaultAction: 'SCMP_ACT_NOPE' as LinuxSeccomp['defaultAction'] }, { sys: counting }), /unknown/);
});
