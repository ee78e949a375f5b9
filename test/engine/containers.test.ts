// Container scenarios through the real docker CLI 28, with the same assertions against dock and
// against the reference dockerd 20.10 (a scenario that fails on dockerd is a test bug).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { docker, type CliResult } from './lib/docker-cli';
import type { Engine } from './lib/engine';
import { ENGINE_KINDS, engineSkipReason, importBusybox, startEngine } from './lib/engines';

const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}`);

for (const kind of ENGINE_KINDS) {
  describe(`containers on ${kind}`, { skip: engineSkipReason(kind) }, () => {
    let e: Engine;
    const d = (args: string[], o: { input?: string; timeoutMs?: number } = {}) => docker(e, args, o);
    before(async () => {
      e = await startEngine(kind);
      await importBusybox(e);
    });
    after(async () => {
      await e?.stop();
    });

    test('run prints output and exits with the container status, --rm included', async () => {
      const r = await d(['run', '--rm', '--network', 'none', 'busybox', 'echo', 'hello']);
      ok(r, 'run');
      assert.equal(r.stdout, 'hello\n');
      const x = await d(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
      assert.equal(x.code, 3);
      assert.equal(x.stdout, 'out\n');
      assert.equal(x.stderr, 'err\n');
      const ps = await d(['ps', '-aq']);
      assert.equal(ps.stdout, '', '--rm containers are gone');
    });

    test('a missing command exits 127 and a non-executable one 126', async () => {
      const r = await d(['run', '--rm', '--network', 'none', 'busybox', 'nonexistent-cmd']);
      assert.equal(r.code, 127, r.stderr);
      assert.match(r.stderr, /executable file not found/);
      const p = await d(['run', '--rm', '--network', 'none', 'busybox', '/etc/passwd']);
      assert.equal(p.code, 126, p.stderr);
      assert.match(p.stderr, /permission denied/i);
    });

    test('environment, workdir, user, hostname, entrypoint and stdin', async () => {
      const r = await d(['run', '--rm', '--network', 'none', '-e', 'A=1', '-w', '/tmp', '-u', '65534', '--hostname', 'box', 'busybox', 'sh', '-c', 'echo $A $(pwd) $(id -u) $(hostname)']);
      ok(r, 'run');
      assert.equal(r.stdout, '1 /tmp 65534 box\n');
      const ep = await d(['run', '--rm', '--network', 'none', '--entrypoint', 'echo', 'busybox', 'via', 'entrypoint']);
      assert.equal(ep.stdout, 'via entrypoint\n');
      const cat = await d(['run', '-i', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'cat; echo done'], { input: 'line1\nline2\n' });
      ok(cat, 'run -i');
      assert.equal(cat.stdout, 'line1\nline2\ndone\n');
    });

    test('detached container: ps, exec, logs, top, stop, start, rm', async () => {
      const r = await d(['run', '-d', '--name', 'web', '--network', 'none', 'busybox', 'sh', '-c', 'trap "exit 0" TERM; echo started; while true; do sleep 0.1; done']);
      ok(r, 'run -d');
      const id = r.stdout.trim();
      assert.match(id, /^[a-f0-9]{64}$/);
      const ps = await d(['ps', '--format', '{{.ID}} {{.Names}} {{.Image}} {{.Command}}']);
      assert.match(ps.stdout, new RegExp(`^${id.slice(0, 12)} web busybox `));
      const ex = await d(['exec', 'web', 'sh', '-c', 'echo in; exit 5']);
      assert.equal(ex.code, 5);
      assert.equal(ex.stdout, 'in\n');
      const top = await d(['top', 'web']);
      ok(top, 'top');
      assert.match(top.stdout.split('\n')[0]!, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
      await new Promise((res) => setTimeout(res, 300));
      const logs = await d(['logs', 'web']);
      assert.equal(logs.stdout, 'started\n');
      const stop = await d(['stop', 'web']);
      ok(stop, 'stop');
      assert.equal(stop.stdout, 'web\n');
      const insp = await d(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}', 'web']);
      assert.equal(insp.stdout, 'exited 0 false\n');
      const again = await d(['stop', 'web']);
      ok(again, 'stop of a stopped container');
      ok(await d(['start', 'web']), 'start');
      const running = await d(['inspect', '-f', '{{.State.Running}}', 'web']);
      assert.equal(running.stdout, 'true\n');
      const rm = await d(['rm', 'web']);
      assert.equal(rm.code, 1);
      assert.match(rm.stderr, /You cannot remove a running container/);
      ok(await d(['rm', '-f', 'web']), 'rm -f');
      const gone = await d(['inspect', 'web']);
      assert.equal(gone.code, 1);
      assert.match(gone.stderr, /No such object: web/);
    });

    test("Docker's errors: unknown container, name in use, kill of a stopped container", async () => {
      const u = await d(['stop', 'nosuch']);
      assert.equal(u.code, 1);
      assert.match(u.stderr, /No such container: nosuch/);
      ok(await d(['create', '--name', 'dup', '--network', 'none', 'busybox', 'true']), 'create');
      const dup = await d(['create', '--name', 'dup', '--network', 'none', 'busybox', 'true']);
      assert.equal(dup.code, 1);
      assert.match(dup.stderr, /The container name "\/dup" is already in use by container "[a-f0-9]{64}"/);
      const k = await d(['kill', 'dup']);
      assert.equal(k.code, 1);
      assert.match(k.stderr, /is not running/);
      ok(await d(['rm', 'dup']), 'rm');
    });

    test('named volumes persist, and removing one in use is refused', async () => {
      ok(await d(['run', '--rm', '--network', 'none', '-v', 'vol1:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f']), 'write');
      const r = await d(['run', '--rm', '--network', 'none', '-v', 'vol1:/data:ro', 'busybox', 'cat', '/data/f']);
      assert.equal(r.stdout, 'kept\n');
      ok(await d(['create', '--name', 'holder', '--network', 'none', '-v', 'vol1:/data', 'busybox', 'true']), 'create');
      const rm = await d(['volume', 'rm', 'vol1']);
      assert.equal(rm.code, 1);
      assert.match(rm.stderr, /volume is in use/);
      ok(await d(['rm', 'holder']), 'rm holder');
      ok(await d(['volume', 'rm', 'vol1']), 'volume rm');
      const ls = await d(['volume', 'ls', '-q']);
      assert.doesNotMatch(ls.stdout, /vol1/);
    });

    test('restart policy on-failure:2 restarts twice, then the container stays exited', async () => {
      ok(await d(['run', '-d', '--name', 'flaky', '--network', 'none', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 4']), 'run');
      let out = '';
      for (let i = 0; i < 100; i++) {
        out = (await d(['inspect', '-f', '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}', 'flaky'])).stdout.trim();
        if (out === 'exited 2 4') break;
        await new Promise((res) => setTimeout(res, 100));
      }
      assert.equal(out, 'exited 2 4');
      ok(await d(['rm', 'flaky']), 'rm');
    });

    test('wait, rename, pause and unpause', async () => {
      ok(await d(['run', '-d', '--name', 'w1', '--network', 'none', 'busybox', 'sleep', '60']), 'run');
      ok(await d(['rename', 'w1', 'w2']), 'rename');
      ok(await d(['pause', 'w2']), 'pause');
      const st = await d(['inspect', '-f', '{{.State.Status}}', 'w2']);
      assert.equal(st.stdout, 'paused\n');
      const ex = await d(['exec', 'w2', 'true']);
      assert.notEqual(ex.code, 0);
      assert.match(ex.stderr, /is paused/);
      ok(await d(['unpause', 'w2']), 'unpause');
      ok(await d(['kill', '-s', 'KILL', 'w2']), 'kill');
      const w = await d(['wait', 'w2']);
      assert.equal(w.stdout, '137\n');
      ok(await d(['rm', 'w2']), 'rm');
    });
  });
}
