import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { featuresDocument } from '../oci/features';
import { describeStep } from './launch';
import { checkLsmRequests, hostLsm } from './lsm';
import { compileApparmorProfile, compilePlan } from './plan/compile';
import { compileJoinPlan } from './plan/join';
import { Step, stepName } from './sync';

const proc = { cwd: '/', user: { uid: 0, gid: 0 } };

test('an AppArmor profile is accepted when the host has AppArmor and refused with the reason when not', () => {
  const none = { apparmor: false, selinux: false };
  const aa = { apparmor: true, selinux: false };
  assert.doesNotThrow(() => checkLsmRequests(proc, undefined, none));
  assert.throws(() => checkLsmRequests({ ...proc, apparmorProfile: 'docker-default' }, undefined, none), (e: Error & { kind?: string }) => {
    return e.kind === 'InvalidArgument' && e.message === 'apparmor profile "docker-default" requested, but AppArmor is not enabled on this host';
  });
  assert.doesNotThrow(() => checkLsmRequests({ ...proc, apparmorProfile: 'docker-default' }, undefined, aa));
  // An accepted profile does not let an SELinux label through.
  assert.throws(() => checkLsmRequests({ ...proc, apparmorProfile: 'p', selinuxLabel: 'system_u:r' }, undefined, aa), /selinux label "system_u:r" requested, but SELinux is not enabled/);
});

test('SELinux labels stay refused: missing on the host, or not supported yet', () => {
  const none = { apparmor: false, selinux: false };
  assert.throws(() => checkLsmRequests({ ...proc, selinuxLabel: 'system_u:r' }, undefined, { apparmor: true, selinux: true }), /not supported by keel yet/);
  assert.throws(() => checkLsmRequests(undefined, { ociVersion: '1.3.0', linux: { mountLabel: 'x' } }, none), /selinux mount label "x" requested, but SELinux is not enabled on this host/);
});

test('the plan carries process.apparmorProfile for create and exec; bad names are refused', () => {
  const opts = {
    id: 'c',
    bundle: '/b',
    rootfs: '/b/rootfs',
    execFifo: null,
    noPivot: false,
    noNewKeyring: false,
    preserveFds: 0,
    listenFds: 0,
    host: { capLast: 40, cgroup2: true, exeDev: 1n, exeIno: 2n, isRoot: true },
  };
  const spec = { ociVersion: '1.3.0', process: { ...proc, args: ['true'], apparmorProfile: 'keel-test' }, root: { path: 'rootfs' }, linux: { namespaces: [{ type: 'mount' as const }] } };
  assert.equal(compilePlan(spec, opts).apparmorProfile, 'keel-test');
  assert.equal(compilePlan({ ...spec, process: { ...proc, args: ['true'] } }, opts).apparmorProfile, null);
  const join = compileJoinPlan(spec, { ...proc, args: ['sh'], apparmorProfile: 'keel-exec' }, { ...opts, initPid: 42 });
  assert.equal(join.apparmorProfile, 'keel-exec');
  assert.equal(compileApparmorProfile(''), null);
  assert.throws(() => compileApparmorProfile('a\nb'), /process.apparmorProfile "a\\nb": not a valid profile name/);
  assert.throws(() => compileApparmorProfile('   '), /not a valid profile name/);
  assert.throws(() => compileApparmorProfile('x'.repeat(4001)), /not a valid profile name/);
});

test('step APPARMOR is the last step number and its failures name the profile', () => {
  assert.equal(Step.APPARMOR, Math.max(...Object.values(Step)));
  assert.equal(stepName(Step.APPARMOR), 'apparmor');
  const plan = { apparmorProfile: 'keel-test' } as Parameters<typeof describeStep>[0];
  assert.equal(describeStep(plan, Step.APPARMOR, 0), 'open /proc/thread-self/attr/apparmor/exec for apparmor profile "keel-test"');
  assert.equal(describeStep(plan, Step.APPARMOR, 1), 'open /proc/thread-self/attr/exec for apparmor profile "keel-test"');
  assert.equal(describeStep(plan, Step.APPARMOR, 2), 'apparmor profile "keel-test"');
});

test('features claims AppArmor only for a host that has it', () => {
  const input = { mountOptions: [], namespaces: [], cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false }, seccomp: {}, annotations: {} };
  const linux = (apparmor: boolean) => (featuresDocument({ ...input, apparmor }).linux as Record<string, unknown>);
  assert.deepEqual(linux(true).apparmor, { enabled: true });
  assert.deepEqual(linux(false).apparmor, { enabled: false });
  assert.deepEqual(linux(true).selinux, { enabled: false });
});

test('host detection reads the securityfs list or the module parameters', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-lsm-'));
  assert.deepEqual(hostLsm(root), { apparmor: false, selinux: false });
  fs.mkdirSync(path.join(root, 'kernel/security'), { recursive: true });
  fs.writeFileSync(path.join(root, 'kernel/security/lsm'), 'lockdown,capability,apparmor');
  assert.deepEqual(hostLsm(root), { apparmor: true, selinux: false });
  fs.rmSync(root, { recursive: true });
});
