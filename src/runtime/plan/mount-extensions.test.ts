// compilePlan for id-mapped mounts (idmap, ridmap, mounts[].uidMappings) and tmpcopyup: which
// mapping each mount gets, the refused configurations, the golden plan of a mixed spec. Pure.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Mount, Spec } from '../../../spec/types/runtime';
import type { RuntimeError } from '../../errors/index';
import { compilePlan, type PlanOptions } from './compile';
import { MS } from './constants';

const testdata = path.join(__dirname, 'testdata');
const opts: PlanOptions = {
  id: 'web',
  bundle: '/bundles/web',
  rootfs: '/bundles/web/rootfs',
  execFifo: null,
  noPivot: false,
  noNewKeyring: false,
  preserveFds: 0,
  host: { capLast: 40, cgroup2: true, exeDev: 2049n, exeIno: 1234n, isRoot: true },
};
const CTR = [{ containerID: 0, hostID: 100000, size: 65536 }];
const MNT = [{ containerID: 0, hostID: 200000, size: 1000 }];

function spec(mounts: Mount[], userns: 'new' | 'join' | 'none' = 'new'): Spec {
  const s = JSON.parse(fs.readFileSync(path.join(testdata, 'runc-default.json'), 'utf8')) as Spec;
  s.mounts = mounts;
  if (userns === 'new') {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = CTR;
    s.linux!.gidMappings = CTR;
  } else if (userns === 'join') {
    s.linux!.namespaces!.push({ type: 'user', path: '/proc/4242/ns/user' });
  }
  return s;
}

const bind = (options: string[], extra: Partial<Mount> = {}): Mount => ({ destination: '/data', type: 'bind', source: '/srv/data', options, ...extra });

function invalid(kind: RuntimeError['kind'], re: RegExp) {
  return (e: RuntimeError) => e.kind === kind && re.test(e.message);
}

test('mount mappings without an option mean idmap (not recursive), with the mount own mappings', () => {
  const [m] = compilePlan(spec([bind(['rbind'], { uidMappings: MNT, gidMappings: MNT })]), opts).mounts;
  assert.deepEqual(m!.idmap, { recursive: false, usernsPath: null, uidMappings: MNT, gidMappings: MNT });
  assert.equal(m!.flags, MS.BIND | MS.REC, 'rbind still clones the whole tree');
  assert.equal(m!.data, '', 'idmap never reaches mount(2)');
});

test('ridmap is recursive; idmap without mappings takes the new user namespace mapping', () => {
  const [r, i] = compilePlan(spec([bind(['rbind', 'ridmap'], { uidMappings: MNT, gidMappings: MNT }), { ...bind(['bind', 'idmap']), destination: '/b' }]), opts).mounts;
  assert.equal(r!.idmap!.recursive, true);
  assert.deepEqual(i!.idmap, { recursive: false, usernsPath: null, uidMappings: CTR, gidMappings: CTR });
});

test('idmap without mappings in a joined user namespace takes that namespace', () => {
  const [m] = compilePlan(spec([bind(['bind', 'idmap'])], 'join'), opts).mounts;
  assert.deepEqual(m!.idmap, { recursive: false, usernsPath: '/proc/4242/ns/user', uidMappings: [], gidMappings: [] });
});

test('explicit mappings work without a user namespace; the option alone does not', () => {
  const [m] = compilePlan(spec([bind(['bind', 'idmap'], { uidMappings: MNT, gidMappings: MNT })], 'none'), opts).mounts;
  assert.deepEqual(m!.idmap!.uidMappings, MNT);
  assert.throws(() => compilePlan(spec([bind(['bind', 'idmap'])], 'none'), opts), invalid('InvalidArgument', /mount \/data: idmap without uidMappings and gidMappings needs a user namespace/));
  assert.throws(() => compilePlan(spec([bind(['bind', 'idmap'], { uidMappings: [], gidMappings: [] })], 'none'), opts), invalid('InvalidArgument', /needs a user namespace/));
});

test('refused: half a mapping, a non-bind mount, a rootless runtime', () => {
  assert.throws(() => compilePlan(spec([bind(['bind'], { uidMappings: MNT })]), opts), invalid('InvalidArgument', /uidMappings and gidMappings must be given together/));
  const tmpfs: Mount = { destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['idmap'] };
  assert.throws(() => compilePlan(spec([tmpfs]), opts), invalid('InvalidArgument', /mount \/t: idmap: id-mapped mounts are only supported for bind mounts/));
  const rootless = { ...opts, host: { ...opts.host, isRoot: false } };
  assert.throws(() => compilePlan(spec([bind(['bind', 'idmap'])]), rootless), invalid('NotImplemented', /rootless/));
});

test('mounts without idmap or tmpcopyup carry neither field (the golden plans stay as they were)', () => {
  for (const m of compilePlan(spec([bind(['rbind', 'ro']), { destination: '/t', type: 'tmpfs', source: 'tmpfs' }]), opts).mounts) {
    assert.equal('idmap' in m, false);
    assert.equal('copyUp' in m, false);
    assert.equal('treeFd' in m, false, 'tree fds are the parent launch code, never the compiler');
  }
});

test('tmpcopyup applies to a tmpfs and is ignored with a warning elsewhere', () => {
  const p = compilePlan(
    spec([
      { destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'ro', 'size=1m'] },
      bind(['bind', 'tmpcopyup']),
    ]),
    opts,
  );
  const [t, b] = p.mounts;
  assert.equal(t!.copyUp, true);
  assert.equal(t!.flags, MS.RDONLY, 'ro is kept in the plan; the child applies it after the copy');
  assert.equal(t!.data, 'size=1m');
  assert.equal(b!.copyUp, undefined);
  assert.deepEqual(p.warnings, ['mount /data: option tmpcopyup ignored (not a tmpfs)']);
});
