// keel as a containerd CRI runtime handler, driven through containerd 1.6's CRI like the kubelet
// does: every scenario runs with the `keel` handler and with `runc`, with the same assertions
// (a scenario that fails on runc is a test bug), and checks what each leaves behind.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureContainerd, pidsMatching, unmountUnder } from '../shim/containerd-fixture';
import { channelText, openStream } from './cri-client';
import { CriEnv, HANDLERS, run } from './cri-fixture';

const skip = process.getuid?.() !== 0 ? 'needs root' : !ensureContainerd() ? 'containerd not installed' : !fs.existsSync('/usr/lib/cni/bridge') ? 'CNI plugins not installed' : false;

const env = new CriEnv();
before(async () => {
  if (!skip) await env.start();
});
after(async () => {
  if (!skip) await env.stop();
});

/** Lines of a CRI log file: "<time> <stream> <F|P> <text>" → [stream, text]. */
function logEntries(file: string): [string, string][] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [, stream, , ...rest] = l.split(' ');
      return [stream!, rest.join(' ')];
    });
}

function comm(pid: number): string {
  return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
}

function cmdline(pid: number): string[] {
  return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

/** Pids of host processes whose cmdline is exactly argv. */
function pidsWithCmdline(argv: string[]): number[] {
  return pidsMatching(argv[argv.length - 1]!).filter((p) => {
    try {
      return cmdline(p).join(' ') === argv.join(' ');
    } catch {
      return false;
    }
  });
}

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The pids cgroup (v1) path of a process, or '' once it is gone. */
function pidsCgroup(pid: number): string {
  try {
    return /^\d+:pids:(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1] ?? '';
  } catch {
    return '';
  }
}

const initCgroups = new Map<number, string>();
/** Whether p lives in the cgroup the container init `init` had when first asked. */
function isInCgroupOf(p: number, init: number): boolean {
  if (!initCgroups.has(init)) initCgroups.set(init, pidsCgroup(init));
  const cg = initCgroups.get(init)!;
  return cg !== '' && pidsCgroup(p) === cg;
}

/**
 * Nothing of removed pods is left: no cgroup below our parent, no keel container state. runc's
 * shim sometimes removes a privileged pod's cgroups a moment after RemovePodSandbox answered, so
 * both handlers get a few seconds.
 */
async function assertClean(): Promise<void> {
  await waitFor(() => env.leftoverCgroups().length === 0 && env.leftoverKeelState().length === 0, 5000).catch(() => undefined);
  assert.deepEqual(env.leftoverCgroups(), []);
  assert.deepEqual(env.leftoverKeelState(), []);
}

for (const handler of HANDLERS) {
  describe(`CRI with the ${handler} handler`, { skip }, () => {
    test('pod and container lifecycle: IP, ExecSync, stats right after start, logs, stop, remove, nothing left', async () => {
      const podCfg = env.podConfig(`life-${handler}`);
      const pod = await env.runPod(handler, podCfg);
      const st = await env.client.call<{ status: { state: string; network: { ip: string }; runtimeHandler: string } }>('PodSandboxStatus', { podSandboxId: pod });
      assert.equal(st.status.state, 'SANDBOX_READY');
      assert.equal(st.status.runtimeHandler, handler);
      assert.match(st.status.network.ip, /^10\.213\.79\.\d+$/);
      const id = await env.runContainer(pod, podCfg, {
        metadata: { name: 'life' },
        command: ['sh', '-c', 'echo to-stdout; echo to-stderr >&2; exec sleep 1000'],
        envs: [{ key: 'KEEL_TEST', value: 'v1' }],
      });
      // Stats at once: the shim must not answer before it knows the cgroup.
      const stats = await env.client.call<{ stats: { attributes: { id: string }; memory: { workingSetBytes: { value: number } }; cpu: { usageCoreNanoSeconds: { value: number } } } }>('ContainerStats', { containerId: id });
      assert.equal(stats.stats.attributes.id, id);
      assert.ok(stats.stats.memory.workingSetBytes.value > 0);
      assert.equal((await env.status(id)).state, 'CONTAINER_RUNNING');
      const ex = await env.execSync(id, ['sh', '-c', 'echo $KEEL_TEST; hostname; ip -4 -o addr show eth0 | wc -l; exit 3']);
      assert.deepEqual([ex.stdout, ex.exitCode], [`v1\nlife-${handler}\n1\n`, 3]);
      await env.client.call('StopContainer', { containerId: id, timeout: 2 });
      const exited = await env.waitExited(id);
      assert.equal(exited.exitCode, 143);
      assert.deepEqual(logEntries(exited.logPath).sort(), [['stderr', 'to-stderr'], ['stdout', 'to-stdout']]);
      await env.client.call('RemoveContainer', { containerId: id });
      await env.removePod(pod);
      await assertClean();
    });

    test('the last line of a log is written before the exit is reported (several short-lived containers)', async () => {
      const podCfg = env.podConfig(`logs-${handler}`);
      const pod = await env.runPod(handler, podCfg);
      const before = env.logLines(/Failed to pipe/).length;
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        ids.push(
          await env.runContainer(pod, podCfg, {
            metadata: { name: `burst${i}` },
            command: ['sh', '-c', 'i=0; while [ $i -lt 3000 ]; do echo line-$i; i=$((i+1)); done; echo last-err >&2'],
          }),
        );
      }
      for (const id of ids) {
        const { exitCode, logPath } = await env.waitExited(id);
        assert.equal(exitCode, 0);
        const out = logEntries(logPath).filter(([s]) => s === 'stdout');
        assert.equal(out.length, 3000);
        assert.equal(out[2999]![1], 'line-2999');
        assert.deepEqual(logEntries(logPath).filter(([s]) => s === 'stderr'), [['stderr', 'last-err']]);
        await env.client.call('RemoveContainer', { containerId: id });
      }
      await env.removePod(pod);
      assert.deepEqual(env.logLines(/Failed to pipe/).slice(before), []);
    });

    test('Exec and Attach streams, PortForward', async () => {
      const podCfg = env.podConfig(`stream-${handler}`);
      const pod = await env.runPod(handler, podCfg);
      const id = await env.runContainer(pod, podCfg, {
        metadata: { name: 'echoer' },
        command: ['sh', '-c', 'httpd -p 8080 -h /www; while read l; do echo got:$l; done'],
        stdin: true,
      });
      const { url } = await env.client.call<{ url: string }>('Exec', { containerId: id, cmd: ['sh', '-c', 'read x; echo out:$x; echo err >&2; exit 7'], stdin: true, stdout: true, stderr: true });
      const ex = await openStream(url, env.streamSocket, (send) => send(0, 'hello\n'));
      assert.equal(channelText(ex, 1), 'out:hello\n');
      assert.equal(channelText(ex, 2), 'err\n');
      assert.match(channelText(ex, 3), /"reason":"NonZeroExitCode".*"message":"7"/);
      const at = await env.client.call<{ url: string }>('Attach', { containerId: id, stdin: true, stdout: true, stderr: true });
      const att = await openStream(at.url, env.streamSocket, (send) => send(0, 'ping\n'), (ch) => (ch.get(1)?.toString() ?? '').includes('got:ping'));
      assert.equal(channelText(att, 1), 'got:ping\n');
      const pf = await env.client.call<{ url: string }>('PortForward', { podSandboxId: pod, port: [8080] });
      const fw = await openStream(`${pf.url}?port=8080`, env.streamSocket, (send) => send(0, 'GET /index.html HTTP/1.0\r\n\r\n'), (ch) => (ch.get(0)?.toString() ?? '').includes('keel port-forward page'));
      assert.match(channelText(fw, 0), /HTTP\/1\.[01] 200[\s\S]*keel port-forward page/);
      await env.removePod(pod);
      await assertClean();
    });

    test('privileged container: every host device; mount propagation rshared both ways, rslave host to container', async () => {
      const host = path.join(env.dir, `prop-${handler}`);
      const shared = path.join(host, 'shared');
      const slave = path.join(host, 'slave');
      for (const d of [shared, slave]) {
        fs.mkdirSync(path.join(d, 'from-host'), { recursive: true });
        fs.mkdirSync(path.join(d, 'from-ctr'), { recursive: true });
        run(['mount', '--bind', d, d]);
        run(['mount', '--make-rshared', d]);
      }
      try {
        const podCfg = env.podConfig(`priv-${handler}`, { privileged: true });
        const pod = await env.runPod(handler, podCfg);
        const id = await env.runContainer(pod, podCfg, {
          metadata: { name: 'priv' },
          command: ['sleep', '1000'],
          mounts: [
            { containerPath: shared, hostPath: shared, propagation: 'PROPAGATION_BIDIRECTIONAL' },
            { containerPath: slave, hostPath: slave, propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
          ],
          linux: { securityContext: { privileged: true } },
        });
        const hostDevs = fs.readdirSync('/dev', { withFileTypes: true }).filter((e) => e.isCharacterDevice() || e.isBlockDevice()).length;
        const devs = await env.execSync(id, ['sh', '-c', 'find /dev -maxdepth 1 \\( -type c -o -type b \\) | wc -l']);
        assert.ok(Number(devs.stdout) > 64 && Number(devs.stdout) >= hostDevs - 8, `container /dev has ${devs.stdout.trim()} devices, host ${hostDevs}`);
        for (const d of [shared, slave]) {
          run(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'keel-host', path.join(d, 'from-host')]);
          fs.writeFileSync(path.join(d, 'from-host', 'flag'), 'x');
          assert.equal((await env.execSync(id, ['ls', path.join(d, 'from-host')])).stdout, 'flag\n');
          assert.equal((await env.execSync(id, ['mount', '-t', 'tmpfs', 'keel-ctr', path.join(d, 'from-ctr')])).exitCode, 0);
          assert.equal((await env.execSync(id, ['touch', path.join(d, 'from-ctr', 'mark')])).exitCode, 0);
        }
        assert.ok(fs.existsSync(path.join(shared, 'from-ctr', 'mark')), 'a mount made in the container reaches the host (rshared)');
        assert.ok(!fs.existsSync(path.join(slave, 'from-ctr', 'mark')), 'a mount made in the container stays there (rslave)');
        await env.removePod(pod);
        await assertClean();
      } finally {
        unmountUnder(host);
      }
    });

    test('host pid namespace: a script init and exec\'d applets are named as by execve; its children go with it', async () => {
      const podCfg = env.podConfig(`hostpid-${handler}`, { pid: 'NODE' });
      const pod = await env.runPod(handler, podCfg);
      const id = await env.runContainer(pod, podCfg, { metadata: { name: 'script' }, command: ['/bin/keel-init.sh'] });
      const { pid } = await env.status(id);
      // StartContainer answers once the init is released; its last execve (after keel's sealed
      // exec stub, memfd:keel-exec) can come a moment later on a busy machine.
      await waitFor(() => comm(pid) !== 'memfd:keel-exec', 5000);
      assert.equal(comm(pid), 'keel-init.sh');
      assert.deepEqual(cmdline(pid), ['/bin/sh', '/bin/keel-init.sh']);
      assert.equal((await env.execSync(id, ['cat', '/proc/self/comm'])).stdout, 'cat\n');
      assert.equal((await env.execSync(id, ['sh', '-c', 'cat /proc/$$/comm; true'])).stdout, 'sh\n');
      assert.equal((await env.execSync(id, ['pidof', 'keel-init.sh'])).stdout.trim(), String(pid));
      const child = ['sleep', '7654321'];
      await waitFor(() => pidsWithCmdline(child).some((p) => isInCgroupOf(p, pid)));
      await env.client.call('StopContainer', { containerId: id, timeout: 1 });
      await env.waitExited(id);
      await env.client.call('RemoveContainer', { containerId: id });
      assert.deepEqual(pidsWithCmdline(child).filter((p) => isInCgroupOf(p, pid)), []);
      await env.removePod(pod);
      await assertClean();
    });
  });
}

describe('CRI: one keel shim daemon per pod', { skip }, () => {
  test('a new pod adopts a spare daemon, and a finished pod\'s daemon waits as a spare for the next', async () => {
    const sockDir = path.join(env.dir, 's');
    // Announced spares (earlier tests' pods may have left up to two).
    const spares = () => fs.readdirSync(sockDir).filter((n) => /^keel-spare-[0-9a-f]{64}\.\d+$/.test(n)).map((n) => Number(n.split('.')[1]));
    const shimOf = (id: string) => {
      const addr = fs.readFileSync(path.join(env.containerd.bundle(id, 'k8s.io'), 'address'), 'utf8').replace(/^unix:\/\//, '');
      return Number(fs.readFileSync(`${addr}.pid`, 'utf8'));
    };
    const cfgA = env.podConfig('spare-a');
    const podA = await env.runPod('keel', cfgA);
    await waitFor(() => spares().length >= 1, 20_000);
    const before = spares();
    for (const p of before) assert.match(comm(p), /^keel-spare/);
    const cfgB = env.podConfig('spare-b');
    const podB = await env.runPod('keel', cfgB);
    const shimB = shimOf(podB);
    assert.ok(before.includes(shimB), 'pod B is served by a former spare');
    assert.notEqual(shimB, shimOf(podA));
    assert.match(comm(shimB), /^keel-shim/);
    const b = await env.runContainer(podB, cfgB, { metadata: { name: 'b' }, command: ['sleep', '1000'] });
    assert.equal((await env.execSync(b, ['echo', 'adopted'])).stdout, 'adopted\n');
    // The spare pod B took is replaced (by a new one, or by one already waiting).
    await waitFor(() => spares().length >= 1 && !spares().includes(shimB), 20_000);
    assert.equal(spares().length, 1);
    await env.removePod(podB);
    // Fewer than two spares: pod B's daemon, its pod gone, waits as a spare itself.
    await waitFor(() => spares().includes(shimB), 20_000);
    assert.match(comm(shimB), /^keel-spare/);
    const waiting = spares();
    const cfgC = env.podConfig('spare-c');
    const podC = await env.runPod('keel', cfgC);
    const shimC = shimOf(podC);
    assert.ok(waiting.includes(shimC), 'pod C is served by a spare');
    const c = await env.runContainer(podC, cfgC, { metadata: { name: 'c' }, command: ['sleep', '1000'] });
    assert.equal((await env.execSync(c, ['echo', 'reused'])).stdout, 'reused\n');
    assert.deepEqual(env.leftoverKeelState().sort(), [podA, podC, c].sort(), 'nothing of pod B is left in the state root');
    await env.removePod(podA);
    await env.removePod(podC);
    await assertClean();
  });

  test('a shim killed with SIGKILL takes only its own pod with it', async () => {
    const cfgA = env.podConfig('blast-a');
    const cfgB = env.podConfig('blast-b');
    const podA = await env.runPod('keel', cfgA);
    const podB = await env.runPod('keel', cfgB);
    const a = await env.runContainer(podA, cfgA, { metadata: { name: 'a' }, command: ['sleep', '1000'] });
    const b = await env.runContainer(podB, cfgB, { metadata: { name: 'b' }, command: ['sleep', '1000'] });
    const address = (id: string) => fs.readFileSync(path.join(env.containerd.bundle(id, 'k8s.io'), 'address'), 'utf8');
    assert.equal(address(a), address(podA), 'a pod and its containers share one shim');
    assert.notEqual(address(podA), address(podB), 'two pods have two shims');
    const shimA = Number(fs.readFileSync(`${address(podA).replace(/^unix:\/\//, '')}.pid`, 'utf8'));
    assert.match(comm(shimA), /^keel-shim/);
    process.kill(shimA, 'SIGKILL');
    await waitFor(() => !fs.existsSync(`/proc/${shimA}`));
    const exitedA = await env.waitExited(a);
    assert.notEqual(exitedA.exitCode, 0);
    assert.equal((await env.status(b)).state, 'CONTAINER_RUNNING');
    assert.equal((await env.execSync(b, ['echo', 'still here'])).stdout, 'still here\n');
    await env.removePod(podA);
    await env.removePod(podB);
    await assertClean();
  });
});
