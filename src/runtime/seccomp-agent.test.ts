// The listenerPath hand-off end to end: a probe installs a notify filter and passes its listener fd up
// (as the child does), we forward it with sendSeccompListener, and native/test/seccomp/agent.c answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { State } from '../../spec/types/runtime';
import { realSys } from '../native/index';
import { compileSeccomp } from './seccomp';
import { containerProcessState, sendSeccompListener } from './seccomp-agent';

const EXDEV = 18;
const NR_MKDIR = 83;
let dir = '';

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-seccomp-agent-'));
  for (const name of ['probe', 'agent']) {
    const src = path.join(__dirname, '..', '..', 'native', 'test', 'seccomp', `${name}.c`);
    const cc = spawnSync('cc', ['-O1', '-Wall', '-o', path.join(dir, name), src], { encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
  }
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

const state: State = {
  ociVersion: '1.2.0',
  id: 'seccomp-agent-test',
  status: 'creating',
  pid: 4242,
  bundle: '/bundles/x',
  annotations: { a: 'b' },
};

test('containerProcessState has runc\'s shape: one fd named seccompFd, metadata only when set', () => {
  assert.equal(
    JSON.stringify(containerProcessState(state, 4242, 'meta')),
    '{"ociVersion":"1.2.0","fds":["seccompFd"],"pid":4242,"state":{"ociVersion":"1.2.0","id":"seccomp-agent-test",' +
      '"status":"creating","pid":4242,"bundle":"/bundles/x","annotations":{"a":"b"}},"metadata":"meta"}',
  );
  assert.equal('metadata' in containerProcessState(state, 1), false);
});

/** Collects a child's stdout and resolves on exit. */
function watch(child: ChildProcess): { out: () => string; exit: Promise<unknown[]> } {
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  return { out: () => out, exit: once(child, 'exit') };
}

test('the agent receives the state and the listener fd, and answers the container\'s syscall', { skip: process.arch !== 'x64' }, async () => {
  const sock = path.join(dir, 'agent.sock');
  const target = path.join(dir, 'notified');
  const profile = {
    defaultAction: 'SCMP_ACT_ALLOW' as const,
    listenerPath: sock,
    listenerMetadata: 'hello-agent',
    syscalls: [{ names: ['mkdir'] as [string], action: 'SCMP_ACT_NOTIFY' as const }],
  };
  const c = compileSeccomp(profile);
  const progFile = path.join(dir, 'prog.bin');
  fs.writeFileSync(progFile, c.program);

  const agent = spawn(path.join(dir, 'agent'), [sock], { stdio: ['ignore', 'pipe', 'pipe'] });
  const a = watch(agent);
  let probe: ChildProcess | undefined;
  const [parentEnd, childEnd] = realSys.socketpair();
  try {
    await new Promise<void>((resolve, reject) => {
      agent.stdout!.on('data', () => a.out().includes('ready') && resolve());
      agent.on('exit', () => reject(new Error(`agent exited: ${a.out()}`)));
    });
    probe = spawn(path.join(dir, 'probe'), [progFile, String(c.flags), 'send:3', `mkdir:${target}`], {
      stdio: ['ignore', 'pipe', 'pipe', childEnd],
    });
    const p = watch(probe);
    fs.closeSync(childEnd);
    // What launch.ts does once the child reports its listener fd.
    const msg = realSys.recvMsg(parentEnd, 16, 10_000);
    assert.ok(msg.fd >= 0, 'no listener fd from the probe');
    try {
      sendSeccompListener(sock, containerProcessState(state, 4242, profile.listenerMetadata), msg.fd);
    } finally {
      fs.closeSync(msg.fd);
    }
    const [[agentCode], [probeCode]] = await Promise.all([a.exit, p.exit]);
    assert.equal(agentCode, 0, a.out());
    assert.equal(probeCode, 0, p.out());
    const line = a.out().split('\n').find((l) => l.startsWith('state '))!;
    assert.deepEqual(JSON.parse(line.slice(6)), {
      ociVersion: '1.2.0',
      fds: ['seccompFd'],
      pid: 4242,
      metadata: 'hello-agent',
      state,
    });
    assert.match(a.out(), new RegExp(`^nr=${NR_MKDIR} pid=${probe.pid}$`, 'm'));
    assert.match(p.out(), new RegExp(`^mkdir errno=${EXDEV}$`, 'm'));
    assert.equal(fs.existsSync(target), false);
  } finally {
    fs.closeSync(parentEnd);
    if (agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
    if (probe && probe.exitCode === null && probe.signalCode === null) probe.kill('SIGKILL');
  }
});

test('a missing agent is an error naming the listener path', () => {
  const fd = fs.openSync(dir, 'r');
  try {
    assert.throws(
      () => sendSeccompListener(path.join(dir, 'nobody.sock'), containerProcessState(state, 1), fd),
      (e: Error & { kind?: string }) => {
        assert.match(e.message, /^send seccomp listener fd to .*nobody\.sock: .*ENOENT/);
        assert.equal(e.kind, 'NotFound');
        return true;
      },
    );
  } finally {
    fs.closeSync(fd);
  }
});
