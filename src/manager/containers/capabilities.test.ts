import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { CAPABILITIES } from '../../runtime/plan/constants';
import {
  DEFAULT_CAPABILITIES,
  DEFAULT_DEVICE_RULES,
  DEFAULT_MASKED_PATHS,
  capabilitiesSpec,
  containerCapabilities,
  defaultDeviceCgroupRules,
  defaultMaskedPaths,
  defaultReadonlyPaths,
  hostCapabilities,
  normalizeCapabilities,
  parseCpuList,
  validateCapabilities,
  type CapabilityEnv,
} from './capabilities';

/** This machine's situation: the engine lacks CAP_SYS_RESOURCE. */
const env: CapabilityEnv = { known: CAPABILITIES, available: CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE') };

test('Docker defaults: 14 capabilities when nothing is added or dropped', () => {
  assert.deepEqual(containerCapabilities({}, env), DEFAULT_CAPABILITIES);
  assert.deepEqual(containerCapabilities({ capAdd: [], capDrop: [] }, env), DEFAULT_CAPABILITIES);
  assert.equal(DEFAULT_CAPABILITIES.length, 14);
  assert.ok(!DEFAULT_CAPABILITIES.includes('CAP_SYS_ADMIN') && !DEFAULT_CAPABILITIES.includes('CAP_NET_ADMIN'));
});

test('--cap-add/--cap-drop: any case, with or without CAP_, duplicates removed', () => {
  for (const name of ['sys_admin', 'SYS_ADMIN', 'CAP_SYS_ADMIN', 'cap_Sys_Admin'])
    assert.deepEqual(containerCapabilities({ capAdd: [name] }, env), [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'], name);
  assert.deepEqual(
    containerCapabilities({ capDrop: ['chown', 'NET_RAW'] }, env),
    DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_CHOWN' && c !== 'CAP_NET_RAW'),
  );
  assert.deepEqual(containerCapabilities({ capAdd: ['chown', 'CAP_CHOWN'] }, env), DEFAULT_CAPABILITIES);
  // A capability both dropped and added is added back, as Docker appends the adds after dropping.
  assert.deepEqual(containerCapabilities({ capAdd: ['KILL'], capDrop: ['KILL'] }, env), [...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_KILL'), 'CAP_KILL']);
});

test('ALL: add all but the dropped, drop all but the added, and add ALL wins over drop ALL', () => {
  assert.deepEqual(containerCapabilities({ capAdd: ['all'] }, env), env.available);
  assert.deepEqual(containerCapabilities({ capAdd: ['ALL'], capDrop: ['NET_RAW', 'mknod'] }, env), env.available.filter((c) => c !== 'CAP_NET_RAW' && c !== 'CAP_MKNOD'));
  assert.deepEqual(containerCapabilities({ capDrop: ['ALL'], capAdd: ['kill', 'NET_BIND_SERVICE'] }, env), ['CAP_KILL', 'CAP_NET_BIND_SERVICE']);
  assert.deepEqual(containerCapabilities({ capDrop: ['ALL'] }, env), []);
  assert.deepEqual(containerCapabilities({ capAdd: ['ALL'], capDrop: ['ALL'] }, env), env.available);
});

test('privileged: every capability the engine can grant, whatever is added or dropped', () => {
  assert.deepEqual(containerCapabilities({ privileged: true }, env), env.available);
  assert.deepEqual(containerCapabilities({ privileged: true, capAdd: ['nonsense'], capDrop: ['ALL'] }, env), env.available);
  assert.ok(!containerCapabilities({ privileged: true }, env).includes('CAP_SYS_RESOURCE'));
});

test("unknown and unavailable capabilities are refused in Docker's words", () => {
  assert.throws(() => containerCapabilities({ capAdd: ['foo'] }, env), { kind: 'InvalidArgument', message: 'invalid CapAdd: unknown capability: "CAP_FOO"' });
  assert.throws(() => containerCapabilities({ capDrop: ['CAP_BOGUS'] }, env), { message: 'invalid CapDrop: unknown capability: "CAP_BOGUS"' });
  assert.throws(() => containerCapabilities({ capAdd: ['sys_resource'] }, env), {
    message: 'invalid CapAdd: capability not supported by your kernel or not available in the current environment: "CAP_SYS_RESOURCE"',
  });
  assert.throws(() => validateCapabilities({ capAdd: ['NET_ADMIN'], capDrop: ['wat'] }, env), { message: 'invalid CapDrop: unknown capability: "CAP_WAT"' });
  validateCapabilities({ capAdd: ['ALL', 'net_admin'], capDrop: ['all'] }, env);
  assert.deepEqual(normalizeCapabilities(['all', 'Net_Admin', 'CAP_KILL'], undefined, env), ['ALL', 'CAP_NET_ADMIN', 'CAP_KILL']);
  assert.throws(() => normalizeCapabilities(['x'], undefined, env), { message: 'unknown capability: "CAP_X"' });
});

test('hostCapabilities: names cut at cap_last_cap, available = the engine effective set', () => {
  const proc = fs.mkdtempSync(path.join(os.tmpdir(), 'caps-proc-'));
  try {
    fs.mkdirSync(path.join(proc, 'sys/kernel'), { recursive: true });
    fs.mkdirSync(path.join(proc, 'self'));
    // An older kernel (CAP_AUDIT_READ is 37) and an engine without CAP_SYS_RESOURCE (bit 24).
    fs.writeFileSync(path.join(proc, 'sys/kernel/cap_last_cap'), '37\n');
    fs.writeFileSync(path.join(proc, 'self/status'), 'Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t000001fffeffffff\nCapBnd:\t000001fffeffffff\n');
    const h = hostCapabilities(proc);
    assert.deepEqual(h.known, CAPABILITIES);
    assert.deepEqual(h.available, CAPABILITIES.slice(0, 38).filter((c) => c !== 'CAP_SYS_RESOURCE'));
    assert.throws(() => containerCapabilities({ capAdd: ['BPF'] }, h), /capability not supported by your kernel or not available in the current environment: "CAP_BPF"/);
    // No status to read: every capability the kernel has.
    fs.rmSync(path.join(proc, 'self/status'));
    assert.deepEqual(hostCapabilities(proc).available, CAPABILITIES.slice(0, 38));
  } finally {
    fs.rmSync(proc, { recursive: true, force: true });
  }
});

test('hostCapabilities on this host agrees with /proc/self/status', () => {
  const h = hostCapabilities();
  const eff = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]}`);
  for (const c of h.available) assert.ok((eff >> BigInt(CAPABILITIES.indexOf(c))) & 1n, c);
  assert.ok(DEFAULT_CAPABILITIES.every((c) => h.known.includes(c)));
});

test('capabilitiesSpec: bounding, effective and permitted; no inheritable or ambient', () => {
  assert.deepEqual(capabilitiesSpec(['CAP_KILL']), { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] });
});

test('masked and read-only paths: Docker 28 defaults plus thermal_throttle, none when privileged', () => {
  const sys = fs.mkdtempSync(path.join(os.tmpdir(), 'caps-sys-'));
  try {
    fs.mkdirSync(path.join(sys, 'devices/system/cpu/cpu0/thermal_throttle'), { recursive: true });
    fs.mkdirSync(path.join(sys, 'devices/system/cpu/cpu2/thermal_throttle'), { recursive: true });
    fs.mkdirSync(path.join(sys, 'devices/system/cpu/cpu5/thermal_throttle'), { recursive: true });
    fs.writeFileSync(path.join(sys, 'devices/system/cpu/possible'), '0-3\n');
    assert.deepEqual(defaultMaskedPaths(false, sys), [
      ...DEFAULT_MASKED_PATHS,
      '/sys/devices/system/cpu/cpu0/thermal_throttle',
      '/sys/devices/system/cpu/cpu2/thermal_throttle',
    ]);
    fs.rmSync(path.join(sys, 'devices/system/cpu/possible'));
    assert.deepEqual(defaultMaskedPaths(false, sys), DEFAULT_MASKED_PATHS);
  } finally {
    fs.rmSync(sys, { recursive: true, force: true });
  }
  assert.deepEqual(defaultMaskedPaths(true), []);
  assert.ok(DEFAULT_MASKED_PATHS.includes('/proc/kcore') && DEFAULT_MASKED_PATHS.includes('/proc/interrupts'));
  assert.deepEqual(defaultReadonlyPaths(false), ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
  assert.deepEqual(defaultReadonlyPaths(true), []);
});

test('parseCpuList reads the kernel cpu list format', () => {
  assert.deepEqual(parseCpuList('0-3,8,10-11\n'), [0, 1, 2, 3, 8, 10, 11]);
  assert.deepEqual(parseCpuList('0\n'), [0]);
  assert.deepEqual(parseCpuList(''), []);
});

test('device rules: deny all then the standard devices and no fuse; privileged allows all', () => {
  const rules = defaultDeviceCgroupRules(false);
  assert.deepEqual(rules[0], { allow: false, access: 'rwm' });
  assert.deepEqual(rules.at(-1), { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' });
  const allowed = rules.filter((r) => r.allow).map((r) => `${r.major}:${r.minor}`);
  assert.deepEqual(allowed.sort(), ['1:3', '1:5', '1:8', '1:9', '5:0', '5:1']);
  rules[1]!.access = 'r';
  assert.equal(DEFAULT_DEVICE_RULES[1]!.access, 'rwm', 'callers get copies');
  assert.deepEqual(defaultDeviceCgroupRules(true), [{ allow: true, access: 'rwm' }]);
});
