// Conformance: the process section — env, cwd, user/groups, umask, rlimits, noNewPrivileges,
// hostname/domainname and stdio — observed by the probe inside the container, for keel and runc.
import assert from 'node:assert/strict';
import { Conformance } from './lib/runtime';
import { parseReport, statusField } from './lib/probe';

const h = new Conformance('process');

h.scenario('env and cwd as given, HOME from /etc/passwd when unset', (rt) => {
  const b = h.bundle(rt, (c) => {
    c.process!.env = ['PATH=/bin:/usr/bin', 'FOO=bar baz', 'EMPTY=', 'TERM=dumb'];
    c.process!.cwd = '/tmp';
  });
  const r = h.run(rt, b);
  assert.equal(r.code, 0, r.stderr);
  const p = parseReport(r.stdout);
  assert.equal(p.cwd, '/tmp');
  for (const e of ['PATH=/bin:/usr/bin', 'FOO=bar baz', 'EMPTY=', 'TERM=dumb']) assert.ok(p.env.includes(e), `${e} in ${p.env}`);
  // runc adds HOME from the user's passwd entry when the spec does not set it (libcontainer init_linux.go).
  assert.ok(p.env.includes('HOME=/root'), `HOME=/root in ${p.env}`);
  assert.equal(p.env.filter((e) => e.startsWith('FOO=')).length, 1);
});

h.scenario('HOME given in env is kept', (rt) => {
  const b = h.bundle(rt, (c) => (c.process!.env = ['PATH=/bin', 'HOME=/elsewhere']));
  const r = h.run(rt, b);
  assert.equal(r.code, 0, r.stderr);
  const p = parseReport(r.stdout);
  assert.deepEqual(p.env.filter((e) => e.startsWith('HOME=')), ['HOME=/elsewhere']);
});

h.scenario('root user: uid, gid and groups', (rt) => {
  const r = h.run(rt, h.bundle(rt));
  assert.equal(r.code, 0, r.stderr);
  const p = parseReport(r.stdout);
  assert.deepEqual([p.uid, p.euid, p.gid, p.egid], [0, 0, 0, 0]);
  assert.ok(p.groups.every((g) => g === 0), `supplementary groups ${p.groups} hold nothing but 0`);
});

h.scenario('user uid/gid, additionalGids and umask', (rt) => {
  const b = h.bundle(rt, (c) => {
    c.process!.user = { uid: 1000, gid: 1001, additionalGids: [10, 20, 1001], umask: 0o027 };
  });
  const r = h.run(rt, b);
  assert.equal(r.code, 0, r.stderr);
  const p = parseReport(r.stdout);
  assert.deepEqual([p.uid, p.euid, p.gid, p.egid], [1000, 1000, 1001, 1001]);
  assert.deepEqual([...p.groups].sort((a, b) => a - b), [10, 20, 1001]);
  assert.equal(p.umask, 0o027);
});

h.scenario('default umask is 0022', (rt) => {
  const r = h.run(rt, h.bundle(rt));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(parseReport(r.stdout).umask, 0o022);
});

h.scenario('rlimits below the caller hard limit', (rt) => {
  // This machine lacks CAP_SYS_RESOURCE: never ask for a hard limit above the caller's.
  const b = h.bundle(rt, (c) => {
    c.process!.rlimits = [
      { type: 'RLIMIT_NOFILE', soft: 100, hard: 200 },
      { type: 'RLIMIT_CORE', soft: 0, hard: 4096 },
      { type: 'RLIMIT_NPROC', soft: 500, hard: 600 },
      { type: 'RLIMIT_MSGQUEUE', soft: 1000, hard: 2000 },
    ];
  });
  const r = h.run(rt, b);
  assert.equal(r.code, 0, r.stderr);
  const p = parseReport(r.stdout);
  assert.deepEqual(p.rlimits.RLIMIT_NOFILE, ['100', '200']);
  assert.deepEqual(p.rlimits.RLIMIT_CORE, ['0', '4096']);
  assert.deepEqual(p.rlimits.RLIMIT_NPROC, ['500', '600']);
  assert.deepEqual(p.rlimits.RLIMIT_MSGQUEUE, ['1000', '2000']);
});

h.scenario('noNewPrivileges true and false', (rt) => {
  const on = h.run(rt, h.bundle(rt, (c) => (c.process!.noNewPrivileges = true)));
  assert.equal(on.code, 0, on.stderr);
  assert.equal(parseReport(on.stdout).noNewPrivs, 1);
  assert.equal(statusField(parseReport(on.stdout), 'NoNewPrivs'), '1');
  const off = h.run(rt, h.bundle(rt, (c) => (c.process!.noNewPrivileges = false)));
  assert.equal(off.code, 0, off.stderr);
  assert.equal(parseReport(off.stdout).noNewPrivs, 0);
});

h.scenario('hostname', (rt) => {
  const r = h.run(rt, h.bundle(rt, (c) => (c.hostname = 'conf-host')));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(parseReport(r.stdout).hostname, 'conf-host');
});

h.scenario(
  'hostname and domainname',
  (rt) => {
    const b = h.bundle(rt, (c) => {
      c.hostname = 'conf-host';
      c.domainname = 'example.test';
    });
    const r = h.run(rt, b);
    assert.equal(r.code, 0, r.stderr);
    const p = parseReport(r.stdout);
    assert.equal(p.hostname, 'conf-host');
    assert.equal(p.domainname, 'example.test');
  },
  h.runcBefore(1, 2, 'domainname (runc#3600, released in 1.2.0)'),
);

h.scenario('stdio are pipes, not a terminal, with terminal false', (rt) => {
  const r = h.run(rt, h.bundle(rt));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(parseReport(r.stdout).isatty, [0, 0, 0]);
});

h.scenario('stdout and stderr reach the caller separately', (rt) => {
  const b = h.bundle(rt, (c) => (c.process!.args = ['sh', '-c', 'echo to-out; echo to-err >&2']));
  const r = h.run(rt, b);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'to-out\n');
  assert.match(r.stderr, /^to-err$/m);
});

h.scenario('args are passed verbatim', (rt) => {
  const b = h.bundle(rt, (c) => (c.process!.args = ['/bin/sh', '-c', 'for a in "$@"; do echo "[$a]"; done', 'sh', 'a b', '', '$HOME', '"q"']));
  const r = h.run(rt, b);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '[a b]\n[]\n[$HOME]\n["q"]\n');
});

h.finish();
