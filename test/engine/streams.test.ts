// Streams and the rest of the container verbs through the docker CLI: logs -f/--since/--until,
// exec variants, run -it and attach through a real terminal (script(1)), stats, update, ps flags,
// prune and system df; the same assertions against dock and dockerd 20.10.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, afterEach, before, describe, test } from 'node:test';
import { DOCKER_CLI, docker, type CliResult } from './lib/docker-cli';
import type { Engine } from './lib/engine';
import { ENGINE_KINDS, engineSkipReason, importBusybox, startEngine } from './lib/engines';

const ok = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs a docker command in a pseudo-terminal (script -q). Each key waits for its pattern in the
 * output so far (the shell's prompt), then for `after` ms, and is typed.
 */
function inTerminal(e: Engine, cmd: string, keys: { waitFor?: RegExp; after: number; data: string }[], timeoutMs = 20_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('script', ['-qfec', `stty cols 80 rows 24; ${DOCKER_CLI} ${cmd}`, '/dev/null'], {
      env: { ...process.env, DOCKER_HOST: e.host, DOCKER_CONFIG: e.configDir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let seen = 0;
    let next = 0;
    let typing: { timer: NodeJS.Timeout; type: () => void; after: number } | undefined;
    const pump = () => {
      const k = keys[next];
      if (!k) return;
      const m = k.waitFor ? k.waitFor.exec(out.slice(seen)) : { index: 0, 0: '' };
      if (!m) return;
      seen += (m.index ?? 0) + m[0]!.length;
      next++;
      // Typed once the screen has been quiet for `after` ms, as a person types after the shell
      // settles (busybox redraws its prompt after the terminal's answer and after a resize).
      const type = () => {
        child.stdin.write(k.data);
        typing = undefined;
        pump();
      };
      typing = { timer: setTimeout(type, k.after), type, after: k.after };
    };
    child.stdout.on('data', (d: Buffer) => {
      const text = d.toString();
      out += text;
      if (typing) {
        clearTimeout(typing.timer);
        typing.timer = setTimeout(typing.type, typing.after);
      }
      // busybox ash asks the terminal where the cursor is (ESC [6n) and reads the answer from
      // stdin: answer as a terminal would, or the next keys are taken for it.
      for (let i = text.indexOf('\x1b[6n'); i >= 0; i = text.indexOf('\x1b[6n', i + 1)) child.stdin.write('\x1b[1;5R');
      if (!typing) pump();
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    pump();
    const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code: code ?? -1, out });
    });
  });
}

const PROMPT = /\/ # /;

for (const kind of ENGINE_KINDS) {
  describe(`streams and verbs on ${kind}`, { skip: engineSkipReason(kind) }, () => {
    let e: Engine;
    const d = (args: string[], o: { input?: string; timeoutMs?: number } = {}) => docker(e, args, o);
    before(async () => {
      e = await startEngine(kind);
      await importBusybox(e);
    });
    after(async () => {
      await e?.stop();
    });
    // Each scenario starts with no container, whatever the previous one left after a failure.
    afterEach(async () => {
      const ids = (await d(['ps', '-aq'])).stdout.trim();
      if (ids) await d(['rm', '-f', ...ids.split('\n')]);
    });

    test('logs -f follows until the container exits; --since and --until cut by time', async () => {
      ok(await d(['run', '-d', '--name', 'lf', '--network', 'none', 'busybox', 'sh', '-c', 'echo one; sleep 1.2; echo two; sleep 0.3']), 'run');
      const f = await d(['logs', '-f', 'lf'], { timeoutMs: 15_000 });
      ok(f, 'logs -f');
      assert.equal(f.stdout, 'one\ntwo\n');
      const ts = (await d(['logs', '-t', 'lf'])).stdout.trim().split('\n').map((l) => l.split(' ')[0]!);
      const mid = new Date((Date.parse(ts[0]!) + Date.parse(ts[1]!)) / 2).toISOString();
      assert.equal((await d(['logs', '--since', mid, 'lf'])).stdout, 'two\n');
      assert.equal((await d(['logs', '--until', mid, 'lf'])).stdout, 'one\n');
      ok(await d(['rm', 'lf']), 'rm');
    });

    test('exec: -d, -e, -u, -w, --privileged, stdin, and exit codes', async () => {
      ok(await d(['run', '-d', '--name', 'ex', '--network', 'none', 'busybox', 'sleep', '60']), 'run');
      const r = await d(['exec', '-e', 'V=x', '-u', '65534', '-w', '/tmp', 'ex', 'sh', '-c', 'echo $V $(id -u) $(pwd)']);
      assert.equal(r.stdout, 'x 65534 /tmp\n');
      ok(await d(['exec', '-d', 'ex', 'sh', '-c', 'echo detached > /tmp/d']), 'exec -d');
      await sleep(300);
      assert.equal((await d(['exec', 'ex', 'cat', '/tmp/d'])).stdout, 'detached\n');
      // runc cannot grant CAP_SYS_RESOURCE, which this machine withholds (dockerd's exec
      // --privileged fails here); dock grants its whole bounding set.
      if (kind === 'dock') {
        const p = await d(['exec', '--privileged', 'ex', 'sh', '-c', 'grep CapEff /proc/self/status']);
        const bnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8') as string)![1]!;
        assert.equal(p.stdout, `CapEff:\t${bnd}\n`);
      }
      const i = await d(['exec', '-i', 'ex', 'sh', '-c', 'cat; exit 9'], { input: 'piped\n' });
      assert.equal(i.code, 9);
      assert.equal(i.stdout, 'piped\n');
      const nf = await d(['exec', 'ex', 'nonexistent']);
      assert.equal(nf.code, 126);
      assert.match(nf.stdout + nf.stderr, /executable file not found/);
      ok(await d(['rm', '-f', 'ex']), 'rm');
    });

    test('run -it: a real terminal with its size, and the exit status', async () => {
      const r = await inTerminal(e, 'run -it --rm --network none busybox sh', [
        { waitFor: PROMPT, after: 300, data: 'stty size; tty\r' },
        { waitFor: PROMPT, after: 100, data: 'exit 4\r' },
      ]);
      assert.equal(r.code, 4, r.out);
      assert.match(r.out, /24 80/);
      assert.match(r.out, /\/dev\/pts\/\d+/);
    });

    test('ctrl-p ctrl-q detaches; attach reconnects to the same shell', async () => {
      const first = await inTerminal(e, 'run -it --name at --network none busybox sh', [
        { waitFor: PROMPT, after: 300, data: 'echo first-session\r' },
        { waitFor: /first-session\r?\n[^]*\/ # /, after: 200, data: '\x10\x11' },
      ]);
      assert.equal(first.code, 0, first.out);
      assert.equal((await d(['inspect', '-f', '{{.State.Running}}', 'at'])).stdout, 'true\n');
      const second = await inTerminal(e, 'attach at', [
        { after: 1000, data: 'echo second-session\r' },
        { waitFor: /second-session\r?\n[^]*\/ # /, after: 100, data: 'exit 6\r' },
      ]);
      assert.equal(second.code, 6, second.out);
      assert.match(second.out, /second-session/);
      ok(await d(['rm', 'at']), 'rm');
    });

    test('stats, update, top with ps options', async () => {
      ok(await d(['run', '-d', '--name', 'st', '--network', 'none', '-m', '32m', 'busybox', 'sleep', '60']), 'run');
      const s = await d(['stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}} {{.PIDs}}', 'st']);
      ok(s, 'stats');
      assert.match(s.stdout, /^st [\d.]+[KMG]iB \/ 32MiB 1\n$/);
      ok(await d(['update', '-m', '48m', '--memory-swap', '96m', 'st']), 'update');
      const m = await d(['exec', 'st', 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']);
      assert.equal(m.stdout, `${48 * 1024 * 1024}\n`);
      assert.equal((await d(['inspect', '-f', '{{.HostConfig.Memory}}', 'st'])).stdout, `${48 * 1024 * 1024}\n`);
      const top = await d(['top', 'st', '-o', 'pid,comm']);
      assert.match(top.stdout, /^PID\s+COMMAND\n\d+\s+sleep\n$/);
      ok(await d(['rm', '-f', 'st']), 'rm');
    });

    test('ps: -a, -q, -n, -l, -s, --no-trunc, filters and table formats', async () => {
      ok(await d(['create', '--name', 'p1', '--label', 'tier=a', '--network', 'none', 'busybox', 'true']), 'create');
      assert.equal((await d(['run', '--name', 'p2', '--network', 'none', 'busybox', 'sh', '-c', 'exit 3'])).code, 3);
      ok(await d(['run', '-d', '--name', 'p3', '--network', 'none', 'busybox', 'sleep', '60']), 'run -d');
      assert.equal((await d(['ps', '--format', '{{.Names}}'])).stdout, 'p3\n');
      assert.equal((await d(['ps', '-a', '--format', '{{.Names}}'])).stdout, 'p3\np2\np1\n');
      assert.equal((await d(['ps', '-n', '2', '--format', '{{.Names}}'])).stdout, 'p3\np2\n');
      assert.equal((await d(['ps', '-l', '--format', '{{.Names}}'])).stdout, 'p3\n');
      assert.match((await d(['ps', '--filter', 'status=exited', '--format', '{{.Names}} {{.Status}}'])).stdout, /^p2 Exited \(3\) .+ ago\n$/);
      assert.equal((await d(['ps', '-a', '--filter', 'exited=3', '--format', '{{.Names}}'])).stdout, 'p2\n');
      assert.equal((await d(['ps', '-a', '--filter', 'label=tier=a', '--format', '{{.Names}}'])).stdout, 'p1\n');
      assert.equal((await d(['ps', '-a', '--filter', 'name=p[12]', '--format', '{{.Names}}'])).stdout, 'p2\np1\n');
      assert.equal((await d(['ps', '-a', '--filter', 'ancestor=busybox', '-q'])).stdout.trim().split('\n').length, 3);
      const full = (await d(['ps', '--no-trunc', '-q'])).stdout.trim();
      assert.match(full, /^[a-f0-9]{64}$/);
      const table = (await d(['ps', '-a', '--format', 'table {{.Names}}\t{{.Image}}'])).stdout.split('\n');
      assert.match(table[0]!, /^NAMES\s+IMAGE$/);
      const size = (await d(['ps', '-s', '--format', '{{.Size}}'])).stdout;
      assert.match(size, /^\d+(\.\d+)?[kMG]?B \(virtual [\d.]+[kMG]?B\)\n$/);
      ok(await d(['rm', '-f', 'p1', 'p2', 'p3']), 'rm');
    });

    test('container prune and system df', async () => {
      ok(await d(['create', '--name', 'pr1', '--network', 'none', 'busybox', 'true']), 'create');
      ok(await d(['run', '-d', '--name', 'pr2', '--network', 'none', 'busybox', 'sleep', '60']), 'run');
      const pr = await d(['container', 'prune', '-f']);
      ok(pr, 'prune');
      assert.match(pr.stdout, /Deleted Containers:\n[a-f0-9]{64}\n/);
      assert.match(pr.stdout, /Total reclaimed space: /);
      assert.equal((await d(['ps', '-a', '--format', '{{.Names}}'])).stdout, 'pr2\n');
      const df = await d(['system', 'df']);
      ok(df, 'system df');
      assert.match(df.stdout, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\nImages\s+1\s+1\s/);
      assert.match(df.stdout, /\nContainers\s+1\s+1\s/);
      ok(await d(['rm', '-f', 'pr2']), 'rm');
    });
  });
}
