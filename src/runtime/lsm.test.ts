import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { checkLsmRequests, hostLsm } from './lsm';

test('labels are refused with the reason: missing on the host, or not supported yet', () => {
  const none = { apparmor: false, selinux: false };
  assert.doesNotThrow(() => checkLsmRequests({ cwd: '/', user: { uid: 0, gid: 0 } }, undefined, none));
  assert.throws(() => checkLsmRequests({ cwd: '/', user: { uid: 0, gid: 0 }, apparmorProfile: 'docker-default' }, undefined, none), /apparmor profile "docker-default" requested, but AppArmor is not enabled on this host/);
  assert.throws(() => checkLsmRequests({ cwd: '/', user: { uid: 0, gid: 0 }, selinuxLabel: 'system_u:r' }, undefined, { apparmor: true, selinux: true }), /not supported by keel yet/);
  assert.throws(() => checkLsmRequests(undefined, { ociVersion: '1.3.0', linux: { mountLabel: 'x' } }, none), /selinux mount label "x" requested/);
});

test('host detection reads the securityfs list or the module parameters', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-lsm-'));
  assert.deepEqual(hostLsm(root), { apparmor: false, selinux: false });
  fs.mkdirSync(path.join(root, 'kernel/security'), { recursive: true });
  fs.writeFileSync(path.join(root, 'kernel/security/lsm'), 'lockdown,capability,apparmor');
  assert.deepEqual(hostLsm(root), { apparmor: true, selinux: false });
  fs.rmSync(root, { recursive: true });
});
