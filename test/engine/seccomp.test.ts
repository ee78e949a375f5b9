// Docker's security defaults, tested by what they allow and deny: sysprobe (a static syscall probe)
// runs in containers under keel and runc with a spec carrying our seccomp profile and capability
// set, then through the docker CLI under dock and under the reference dockerd 20.10 (with Docker's
// own profile, and with our profile file as a custom profile). The same hand-written expectations
// (seccomp/expect.ts) judge every run; allowed calls must behave exactly as in an unconfined
// container with the same capabilities.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LinuxSeccomp } from '../../spec/types/runtime';
import { Conformance, capMask, type Runtime } from '../../conformance/lib/runtime';
import {
  DEFAULT_CAPABILITIES,
  capabilitiesSpec,
  containerCapabilities,
  defaultDeviceCgroupRules,
  defaultMaskedPaths,
  defaultReadonlyPaths,
  hostCapabilities,
} from '../../src/manager/containers/capabilities';
import { defaultSeccompProfile, parseSeccompOption } from '../../src/manager/containers/seccomp-default';
import { BUSYBOX_CHANGES } from './lib/busybox';
import { docker } from './lib/docker-cli';
import type { Engine, EngineKind } from './lib/engine';
import { ENGINE_KINDS, engineSkipReason, startEngine } from './lib/engines';
import {
  BAD_PROFILES,
  CUSTOM_PROBES,
  CUSTOM_PROFILE,
  DEFAULT_PROFILE_RULES,
  UNCONFINED_SHOWS,
  VARIANTS,
  checkAgainstRules,
  checkCustom,
  type Generation,
} from './seccomp/expect';
import { installSysprobe, parseProbe, sysprobeTar, type ProbeResults } from './seccomp/probe';

const PROFILE_FILE = path.resolve(__dirname, '../../src/manager/containers/seccomp-default.json');

/* ---------------------------------------------------------------- keel and runc (OCI runtimes) */

const h = new Conformance('seccomp');

/** Runs argv in a container shaped like dock's: Docker's caps, masks, device rules, and seccomp. */
function runIn(rt: Runtime, caps: string[], seccomp: LinuxSeccomp | undefined, argv: string[]): string {
  const b = h.bundle(rt, (c) => {
    c.process!.args = argv;
    c.process!.capabilities = capabilitiesSpec(caps);
    c.process!.noNewPrivileges = false;
    c.linux!.maskedPaths = defaultMaskedPaths(false);
    c.linux!.readonlyPaths = defaultReadonlyPaths(false);
    c.linux!.resources = { devices: defaultDeviceCgroupRules(false) };
    if (seccomp) c.linux!.seccomp = seccomp;
  });
  installSysprobe(path.join(b.dir, 'rootfs'));
  const r = h.run(rt, b);
  assert.equal(r.code, 0, `${rt.name} run ${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const probe = (rt: Runtime, caps: string[], seccomp: LinuxSeccomp | undefined, probes: string[] = []): ProbeResults =>
  parseProbe(runIn(rt, caps, seccomp, ['/sysprobe', ...probes]));

const seccompMode = (out: string) => /^Seccomp:\s*(\d)/m.exec(out)?.[1];

for (const v of VARIANTS) {
  h.scenario(`default profile, ${v.name}: allowed calls run, the others fail as Docker's do`, (rt) => {
    const caps = containerCapabilities({ capAdd: v.capAdd, capDrop: v.capDrop });
    const got = probe(rt, caps, defaultSeccompProfile({ capabilities: caps }));
    const unconfined = probe(rt, caps, undefined);
    checkAgainstRules(DEFAULT_PROFILE_RULES, got, unconfined, caps, 'docker28', `${rt.name}, ${v.name}`);
  });
}

h.scenario('seccomp=unconfined: no filter, so the calls every profile refuses run', (rt) => {
  const caps = containerCapabilities({ capAdd: ['SYS_ADMIN'] });
  const seccomp = parseSeccompOption('unconfined', caps);
  assert.equal(seccomp, undefined);
  assert.equal(seccompMode(runIn(rt, caps, seccomp, ['/bin/grep', '^Seccomp:', '/proc/self/status'])), '0');
  assert.equal(seccompMode(runIn(rt, caps, defaultSeccompProfile({ capabilities: caps }), ['/bin/grep', '^Seccomp:', '/proc/self/status'])), '2');
  const got = probe(rt, caps, seccomp, UNCONFINED_SHOWS);
  for (const p of UNCONFINED_SHOWS) assert.ok(!['EPERM', 'ENOSYS'].includes(got[p]!), `${p}: ${got[p]}`);
});

for (const capAdd of [[], ['SYS_ADMIN']]) {
  h.scenario(`custom profile in Docker's format${capAdd.length ? ', --cap-add SYS_ADMIN' : ''}`, (rt) => {
    const caps = containerCapabilities({ capAdd });
    const seccomp = parseSeccompOption(JSON.stringify(CUSTOM_PROFILE), caps);
    const got = probe(rt, caps, seccomp, CUSTOM_PROBES);
    const unconfined = probe(rt, caps, undefined, CUSTOM_PROBES);
    checkCustom(got, unconfined, caps, `${rt.name}, custom profile, caps +[${capAdd}]`);
  });
}

h.finish();

test('bad profiles are refused with the error Docker gives', () => {
  const caps = containerCapabilities({});
  for (const b of BAD_PROFILES) assert.throws(() => parseSeccompOption(b.profile, caps), b.error, b.name);
});

/* --------------------------------------- engines through the docker CLI: dock, and dockerd 20.10 */

// dock builds its specs with our profile (Docker 28's generation); dockerd 20.10 with its own.
const GENERATION: Record<EngineKind, Generation> = { dock: 'docker28', dockerd: 'docker20' };

for (const kind of ENGINE_KINDS) {
  describe(`seccomp and capabilities on ${kind}`, { skip: engineSkipReason(kind) ?? false }, () => {
    let engine: Engine | undefined;
    let work: string;
    const gen = GENERATION[kind];

    before(async () => {
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-seccomp-'));
      engine = await startEngine(kind);
      const r = await docker(engine, ['import', ...BUSYBOX_CHANGES.flatMap((c) => ['--change', c]), sysprobeTar(work), 'sysprobe:latest']);
      assert.equal(r.code, 0, r.stderr);
    });

    after(async () => {
      try {
        if (engine) {
          const ps = await docker(engine, ['ps', '-aq']);
          assert.equal(ps.stdout.trim(), '', 'containers left behind');
        }
      } finally {
        await engine?.stop();
        fs.rmSync(work, { recursive: true, force: true });
      }
    });

    async function dockerRun(opts: string[], argv: string[]): Promise<string> {
      const r = await docker(engine!, ['run', '--rm', '--network', 'none', ...opts, 'sysprobe:latest', ...argv]);
      assert.equal(r.code, 0, `docker run ${opts.join(' ')}: ${r.stderr}`);
      return r.stdout;
    }

    const capFlags = (v: { capAdd: string[]; capDrop: string[] }) => [...v.capAdd.flatMap((c) => ['--cap-add', c]), ...v.capDrop.flatMap((c) => ['--cap-drop', c])];

    for (const v of VARIANTS.filter((x) => kind === 'dock' || x.docker20 !== false)) {
      test(`default profile, ${v.name}: allowed calls run, the others fail as Docker's do`, async () => {
        const caps = containerCapabilities({ capAdd: v.capAdd, capDrop: v.capDrop });
        const unconfined = parseProbe(await dockerRun([...capFlags(v), '--security-opt', 'seccomp=unconfined'], ['/sysprobe']));
        const own = parseProbe(await dockerRun(capFlags(v), ['/sysprobe']));
        checkAgainstRules(DEFAULT_PROFILE_RULES, own, unconfined, caps, gen, `${kind}'s default profile, ${v.name}`);
        if (kind === 'dockerd') {
          // Docker's own loader reads our file as we do.
          const ours = parseProbe(await dockerRun([...capFlags(v), '--security-opt', `seccomp=${PROFILE_FILE}`], ['/sysprobe']));
          checkAgainstRules(DEFAULT_PROFILE_RULES, ours, unconfined, caps, 'docker28', `dockerd with seccomp-default.json, ${v.name}`);
        }
      });
    }

    test('seccomp=unconfined: no filter, so the calls every profile refuses run', async () => {
      assert.equal(seccompMode(await dockerRun(['--cap-add', 'SYS_ADMIN', '--security-opt', 'seccomp=unconfined'], ['/bin/grep', '^Seccomp:', '/proc/self/status'])), '0');
      assert.equal(seccompMode(await dockerRun(['--cap-add', 'SYS_ADMIN'], ['/bin/grep', '^Seccomp:', '/proc/self/status'])), '2');
      const got = parseProbe(await dockerRun(['--cap-add', 'SYS_ADMIN', '--security-opt', 'seccomp=unconfined'], ['/sysprobe', ...UNCONFINED_SHOWS]));
      for (const p of UNCONFINED_SHOWS) assert.ok(!['EPERM', 'ENOSYS'].includes(got[p]!), `${p}: ${got[p]}`);
    });

    for (const capAdd of [[], ['SYS_ADMIN']]) {
      test(`custom profile in Docker's format${capAdd.length ? ', --cap-add SYS_ADMIN' : ''}`, async () => {
        const file = path.join(work, 'custom.json');
        fs.writeFileSync(file, JSON.stringify(CUSTOM_PROFILE, null, 2));
        const flags = capAdd.flatMap((c) => ['--cap-add', c]);
        const got = parseProbe(await dockerRun([...flags, '--security-opt', `seccomp=${file}`], ['/sysprobe', ...CUSTOM_PROBES]));
        const unconfined = parseProbe(await dockerRun([...flags, '--security-opt', 'seccomp=unconfined'], ['/sysprobe', ...CUSTOM_PROBES]));
        checkCustom(got, unconfined, containerCapabilities({ capAdd }), `${kind}, custom profile, caps +[${capAdd}]`);
      });
    }

    test('bad profiles are refused with the error Docker gives', async () => {
      for (const [i, b] of BAD_PROFILES.entries()) {
        const file = path.join(work, `bad-${i}.json`);
        fs.writeFileSync(file, b.profile);
        const r = await docker(engine!, ['run', '--rm', '--network', 'none', '--security-opt', `seccomp=${file}`, 'sysprobe:latest', '/sysprobe', 'getpid']);
        assert.equal(r.code, 125, `${b.name}: ${r.stderr}`);
        assert.match(r.stderr, b.error, b.name);
      }
    });

    test("capability sets: Docker's defaults, --cap-add/--cap-drop, and unknown names refused", async () => {
      const bnd = async (flags: string[]) => /^CapBnd:\s*([0-9a-f]+)$/m.exec(await dockerRun(flags, ['/bin/grep', '^CapBnd:', '/proc/self/status']))?.[1];
      assert.equal(await bnd([]), capMask([...DEFAULT_CAPABILITIES]));
      assert.equal(await bnd(['--cap-add', 'net_admin', '--cap-drop', 'CAP_MKNOD']), capMask([...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_MKNOD'), 'CAP_NET_ADMIN']));
      assert.equal(await bnd(['--cap-drop', 'ALL', '--cap-add', 'KILL']), capMask(['CAP_KILL']));
      for (const [flag, name] of [['--cap-add', 'CapAdd'], ['--cap-drop', 'CapDrop']]) {
        const r = await docker(engine!, ['run', '--rm', '--network', 'none', flag!, 'foo', 'sysprobe:latest', 'true']);
        assert.equal(r.code, 125, r.stderr);
        assert.match(r.stderr, new RegExp(`invalid ${name}: unknown capability: "CAP_FOO"`));
      }
    });

    // dockerd 20.10 offers every capability up to CAP_AUDIT_READ, CAP_SYS_RESOURCE included, which
    // this host's engine lacks: runc then fails "unable to apply caps". Docker 28, and dock, offer
    // what the engine holds.
    test('--privileged and --cap-add ALL: every capability the engine holds, and no filter for --privileged', { skip: kind === 'dockerd' ? 'dockerd 20.10 cannot grant CAP_SYS_RESOURCE here' : false }, async () => {
      const all = capMask(hostCapabilities().available);
      const priv = await dockerRun(['--privileged'], ['/bin/grep', '-E', '^(CapBnd|Seccomp):', '/proc/self/status']);
      assert.equal(/^CapBnd:\s*([0-9a-f]+)$/m.exec(priv)?.[1], all);
      assert.equal(seccompMode(priv), '0');
      const addAll = await dockerRun(['--cap-add', 'ALL'], ['/bin/grep', '-E', '^(CapBnd|Seccomp):', '/proc/self/status']);
      assert.equal(/^CapBnd:\s*([0-9a-f]+)$/m.exec(addAll)?.[1], all);
      assert.equal(seccompMode(addAll), '2');
    });
  });
}
