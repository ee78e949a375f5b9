// keel as a containerd CRI runtime handler, driven through containerd 1.6's CRI like the kubelet
// does: every scenario runs with the `keel` handler and with `runc`, with the same assertions
// (a scenario that fails on runc is a test bug), and checks what each leaves behind.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureContainerd, pidsMatching } from '../shim/containerd-fixture';
import { channelText, openStream } from './cri-client';
import { CriEnv, HANDLERS, type Handler } from './cri-fixture';

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
      assert.deepEqual(env.leftoverCgroups(), []);
      assert.deepEqual(env.leftoverKeelState(), []);
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
      assert.deepEqual(env.leftoverCgroups(), []);
      assert.deepEqual(env.leftoverKeelState(), []);
    });
  });
}
