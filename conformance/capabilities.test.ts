// Conformance: the five capability sets (CapInh/CapPrm/CapEff/CapBnd/CapAmb in /proc/self/status)
// compared with the bundle's process.capabilities, for root and non-root users, for keel and runc.
// Expected values follow execve(2)'s rules in capabilities(7): the probe has no file capabilities.
import assert from 'node:assert/strict';
import { Conformance, capMask } from './lib/runtime';
import { parseReport, statusField, type ProbeReport } from './lib/probe';

const h = new Conformance('capabilities');

function caps(p: ProbeReport): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const f of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) out[f] = statusField(p, f);
  return out;
}

const bounding = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID', 'CAP_SETGID'];

/** A root process with the given sets: effective and permitted differ from bounding on purpose. */
function rootCaps(rt: Parameters<typeof h.bundle>[0], noNewPrivileges: boolean) {
  return h.bundle(rt, (c) => {
    c.process!.noNewPrivileges = noNewPrivileges;
    c.process!.capabilities = {
      bounding,
      effective: ['CAP_KILL'],
      permitted: ['CAP_KILL', 'CAP_CHOWN'],
      inheritable: ['CAP_KILL'],
      ambient: [],
    };
  });
}

h.scenario('root with noNewPrivileges: permitted as given, effective raised to permitted', (rt) => {
  const r = h.run(rt, rootCaps(rt, true));
  assert.equal(r.code, 0, r.stderr);
  // uid 0 execs a file with no capabilities, so it gets the implicit full file set: P'(perm) = P(inh) | P(bnd),
  // P'(eff) = P'(perm); but no_new_privs forbids growth, so P'(perm) is cut back to P(perm) (capabilities(7),
  // security/commoncap.c cap_bprm_creds_from_file).
  assert.deepEqual(caps(parseReport(r.stdout)), {
    CapInh: capMask(['CAP_KILL']),
    CapPrm: capMask(['CAP_KILL', 'CAP_CHOWN']),
    CapEff: capMask(['CAP_KILL', 'CAP_CHOWN']),
    CapBnd: capMask(bounding),
    CapAmb: capMask([]),
  });
});

h.scenario('root without noNewPrivileges: permitted and effective become the bounding set', (rt) => {
  const r = h.run(rt, rootCaps(rt, false));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(caps(parseReport(r.stdout)), {
    CapInh: capMask(['CAP_KILL']),
    CapPrm: capMask(bounding),
    CapEff: capMask(bounding),
    CapBnd: capMask(bounding),
    CapAmb: capMask([]),
  });
});

h.scenario('non-root: all five sets, ambient carried over the exec', (rt) => {
  const b = h.bundle(rt, (c) => {
    c.process!.user = { uid: 1000, gid: 1000 };
    c.process!.capabilities = {
      bounding,
      effective: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_CHOWN'],
      permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_CHOWN'],
      inheritable: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      ambient: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
    };
  });
  const r = h.run(rt, b);
  assert.equal(r.code, 0, r.stderr);
  const p = parseReport(r.stdout);
  assert.equal(p.uid, 1000);
  // A non-root exec of a file without capabilities: P'(perm) = P'(eff) = P'(amb) = P(amb).
  assert.deepEqual(caps(p), {
    CapInh: capMask(['CAP_KILL', 'CAP_NET_BIND_SERVICE']),
    CapPrm: capMask(['CAP_KILL', 'CAP_NET_BIND_SERVICE']),
    CapEff: capMask(['CAP_KILL', 'CAP_NET_BIND_SERVICE']),
    CapBnd: capMask(bounding),
    CapAmb: capMask(['CAP_KILL', 'CAP_NET_BIND_SERVICE']),
  });
});

h.scenario('non-root without ambient has no permitted or effective capabilities', (rt) => {
  const b = h.bundle(rt, (c) => {
    c.process!.user = { uid: 1000, gid: 1000 };
    c.process!.capabilities = { bounding, effective: bounding, permitted: bounding, inheritable: [], ambient: [] };
  });
  const r = h.run(rt, b);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(caps(parseReport(r.stdout)), {
    CapInh: capMask([]),
    CapPrm: capMask([]),
    CapEff: capMask([]),
    CapBnd: capMask(bounding),
    CapAmb: capMask([]),
  });
});

h.scenario('the runc spec default set (ambient given as well)', (rt) => {
  const r = h.run(rt, h.bundle(rt));
  assert.equal(r.code, 0, r.stderr);
  const d = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  // Root: the ambient set is cleared by the exec of a "privileged" file (root's implicit full file caps).
  assert.deepEqual(caps(parseReport(r.stdout)), { CapInh: capMask([]), CapPrm: capMask(d), CapEff: capMask(d), CapBnd: capMask(d), CapAmb: capMask([]) });
});

h.scenario('a dropped capability is enforced: chown fails without CAP_CHOWN, works with it', (rt) => {
  const cmd = ['sh', '-c', 'touch /tmp/f && chown 1234 /tmp/f && echo chowned'];
  const without = h.bundle(rt, (c) => {
    c.process!.args = cmd;
    c.process!.capabilities = { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] };
  });
  const r1 = h.run(rt, without);
  assert.notEqual(r1.code, 0);
  assert.match(r1.stderr, /Operation not permitted/);
  const withCap = h.bundle(rt, (c) => {
    c.process!.args = cmd;
    c.process!.capabilities = { bounding: ['CAP_CHOWN'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'] };
  });
  const r2 = h.run(rt, withCap);
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(r2.stdout, 'chowned\n');
});

h.finish();
