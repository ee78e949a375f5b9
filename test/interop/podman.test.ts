// keel as podman 4.3's runtime (--runtime /abs/bin/keel, through conmon), cross-checked with runc in
// the same scenarios. podman runs with a private root, runroot, tmpdir and containers.conf; the
// image is imported offline. Runtime state stays in the runtimes' default roots (/run/keel,
// /run/runc) because podman runs `delete` without --runtime-flag; every test checks it is gone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildBusyboxImage, unmountUnder } from '../shim/containerd-fixture';
import { isRoot, keelBin, run, which, type RunResult } from '../helpers/keel';
import { podmanEnv, podmanGlobals, writePodmanConfig, ensurePodman, PODMAN_IMAGE } from './podman-fixture';

const RUNTIMES: { name: string; bin: string | undefined }[] = [
  { name: 'keel', bin: fs.existsSync(keelBin) ? keelBin : undefined },
  { name: 'runc', bin: which('runc') },
];

let dir = '';
let ready = false;
const names: string[] = [];

before(() => {
  if (!isRoot) return;
  assert.ok(ensurePodman(), 'podman could not be installed');
  dir = fs.mkdtempSync('/tmp/keel-interop-podman-');
  writePodmanConfig(dir);
  buildBusyboxImage(dir);
  const r = podman(['import', path.join(dir, 'layer.tar'), PODMAN_IMAGE]);
  assert.equal(r.code, 0, r.stderr);
  ready = true;
});

after(() => {
  if (!dir) return;
  for (const n of names) podman(['rm', '-f', '-t', '0', n]);
  podman(['rmi', '-a', '-f']);
  unmountUnder(dir);
  fs.rmSync(dir, { recursive: true, force: true });
});

function podman(args: string[], opts: { input?: string } = {}): RunResult {
  return run('/usr/bin/podman', [...podmanGlobals(dir), ...args], { env: podmanEnv(dir), ...(opts.input !== undefined ? { input: opts.input } : {}) });
}

/** Runtime state and cgroups a container of this id left behind (should be none after rm). */
function leftovers(rtName: string, id: string): string[] {
  const out: string[] = [];
  if (fs.existsSync(path.join('/run', rtName, id))) out.push(path.join('/run', rtName, id));
  for (const h of fs.readdirSync('/sys/fs/cgroup')) {
    const p = path.join('/sys/fs/cgroup', h, 'libpod_parent', `libpod-${id}`);
    if (fs.existsSync(p)) out.push(p);
  }
  return out;
}

for (const rt of RUNTIMES) {
  const reason = !isRoot ? 'needs root' : rt.bin ? undefined : `${rt.name} not available`;
  const t = (title: string, fn: () => void) => test(`[${rt.name}] ${title}`, { skip: reason, timeout: 120_000 }, fn);
  const name = (s: string) => {
    const v = `${rt.name}-${s}-${process.pid}`;
    names.push(v);
    return v;
  };
  const pm = (args: string[], opts: { input?: string } = {}) => {
    assert.ok(ready, 'podman fixture not ready');
    return podman(args, opts);
  };
  const runArgs = () => ['--runtime', rt.bin!, '--network=none'];
  const ok = (args: string[]) => {
    const r = pm(args);
    assert.equal(r.code, 0, `podman ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const status = (n: string) => ok(['inspect', '--format', '{{.State.Status}}', n]).trim();
  const idOf = (n: string) => ok(['inspect', '--format', '{{.Id}}', n]).trim();

  t('run --rm: output, exit status, stderr, stdin; nothing left behind', () => {
    const r = pm(['run', '--rm', ...runArgs(), PODMAN_IMAGE, 'echo', 'hello']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello\n');
    const r3 = pm(['run', '--rm', ...runArgs(), PODMAN_IMAGE, 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r3.code, 3, r3.stderr);
    assert.equal(r3.stdout, 'out\n');
    assert.match(r3.stderr, /err/);
    const wc = pm(['run', '--rm', '-i', ...runArgs(), PODMAN_IMAGE, 'wc', '-c'], { input: 'y'.repeat(3000) });
    assert.equal(wc.code, 0, wc.stderr);
    assert.equal(wc.stdout.trim(), '3000');
    const n = name('rmcheck');
    const r4 = pm(['run', '--rm', '--name', n, ...runArgs(), PODMAN_IMAGE, 'true']);
    assert.equal(r4.code, 0, r4.stderr);
    assert.equal(pm(['container', 'exists', n]).code, 1);
  });

  t('run -d, exec, logs, stop (SIGTERM reaches the trap), rm leaves no state or cgroup', () => {
    const n = name('detach');
    ok(['run', '-d', '--name', n, ...runArgs(), PODMAN_IMAGE, 'sh', '-c', 'echo started; trap "echo bye; exit 0" TERM; while true; do sleep 0.1; done']);
    const id = idOf(n);
    assert.equal(status(n), 'running');
    assert.equal(ok(['exec', n, 'sh', '-c', 'echo exec-ok; cat /proc/1/cmdline | tr "\\0" " "']), 'exec-ok\nsh -c echo started; trap "echo bye; exit 0" TERM; while true; do sleep 0.1; done ');
    const e7 = pm(['exec', n, 'sh', '-c', 'exit 7']);
    assert.equal(e7.code, 7, e7.stderr);
    const missing = pm(['exec', n, '/no/such/binary']);
    assert.equal(missing.code, 127, missing.stderr);
    assert.match(missing.stderr, /no such file or directory/);
    const ti = pm(['exec', '-i', n, 'cat'], { input: 'through-exec-stdin' });
    assert.equal(ti.stdout, 'through-exec-stdin');
    ok(['stop', '-t', '10', n]);
    assert.equal(status(n), 'exited');
    assert.equal(ok(['inspect', '--format', '{{.State.ExitCode}}', n]).trim(), '0');
    assert.equal(ok(['logs', n]), 'started\nbye\n');
    ok(['rm', n]);
    assert.deepEqual(leftovers(rt.name, id), []);
  });

  t('pause/unpause; kill ends in 137; ps shows the processes', () => {
    const n = name('pause');
    ok(['run', '-d', '--name', n, ...runArgs(), PODMAN_IMAGE, 'sleep', '1000']);
    const id = idOf(n);
    ok(['pause', n]);
    assert.equal(status(n), 'paused');
    const frozen = fs.readFileSync(path.join('/sys/fs/cgroup/freezer/libpod_parent', `libpod-${id}`, 'freezer.state'), 'utf8').trim();
    assert.equal(frozen, 'FROZEN');
    ok(['unpause', n]);
    assert.equal(status(n), 'running');
    assert.equal(ok(['exec', n, 'echo', 'thawed']), 'thawed\n');
    assert.match(ok(['top', n, 'pid', 'args']), /sleep 1000/);
    ok(['kill', n]);
    assert.equal(ok(['wait', n]).trim(), '137');
    ok(['rm', n]);
    assert.deepEqual(leftovers(rt.name, id), []);
  });

  t("a missing command fails run with the runtime's words and podman's 127, a non-executable one with 126", () => {
    const r = pm(['run', '--rm', ...runArgs(), PODMAN_IMAGE, '/no/such/binary']);
    assert.equal(r.code, 127, r.stderr);
    assert.match(r.stderr, /no\/such\/binary.*no such file or directory/);
    const r2 = pm(['run', '--rm', ...runArgs(), PODMAN_IMAGE, 'nosuchcommand']);
    assert.equal(r2.code, 127, r2.stderr);
    assert.match(r2.stderr, /executable file not found in \$PATH|no such file or directory/);
    // A file without an execute bit is refused at create (podman's 126), not after start.
    const r3 = pm(['run', '--rm', ...runArgs(), PODMAN_IMAGE, '/etc/passwd']);
    assert.equal(r3.code, 126, r3.stderr);
    assert.match(r3.stderr, /exec: "\/etc\/passwd": permission denied: OCI permission denied/);
  });
}
