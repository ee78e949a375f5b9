// TaskService against a scripted Runtime and a recording event sink: event order when the process
// exits before Start has returned, state transitions and their errors, Wait, Delete, Pids with
// exec ids, Shutdown only when empty. No containerd, no root.
import { test } from 'node:test';
import { RuntimeError } from '../errors/index';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { realShimSys, realSys } from '../native/index';
import type { Logger } from '../log/index';
import type { EventSink } from './events';
import { decode, encode } from './messages';
import type { Exit } from './reaper';
import type { CreateRequest, ExecRequest, Runtime } from './runtime';
import { TaskService } from './task-service';
import type { CallContext } from './ttrpc-server';

const T = 'containerd.task.v2.';
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

/** Exits are delivered by the test: exit(pid, status). */
class ScriptedReaper {
  private waiters = new Map<number, (e: Exit) => void>();
  wait(pid: number): Promise<Exit> {
    return new Promise((r) => this.waiters.set(pid, r));
  }
  exit(pid: number, status: number): void {
    this.waiters.get(pid)?.({ pid, status, exitedAt: new Date(0) });
  }
}

class FakeRuntime implements Runtime {
  readonly name = 'fake';
  calls: string[] = [];
  nextPid = 100;
  onStart?: () => void;
  onKill?: () => void;
  killError?: Error;
  async create(r: CreateRequest) {
    this.calls.push(`create ${r.id}`);
    return this.nextPid++;
  }
  async start(id: string) {
    this.calls.push(`start ${id}`);
    this.onStart?.();
  }
  async exec(r: ExecRequest) {
    this.calls.push(`exec ${r.execId} ${JSON.parse(r.processJson).args.join(' ')}`);
    return this.nextPid++;
  }
  async kill(id: string, sig: number, all: boolean) {
    this.calls.push(`kill ${id} ${sig} ${all}`);
    this.onKill?.();
    if (this.killError) throw this.killError;
  }
  async delete(id: string) {
    this.calls.push(`delete ${id}`);
  }
  async pause(id: string) {
    this.calls.push(`pause ${id}`);
  }
  async resume(id: string) {
    this.calls.push(`resume ${id}`);
  }
  async ps() {
    return [100, 101];
  }
  async update(id: string, json: string) {
    this.calls.push(`update ${id} ${json}`);
  }
}

function setup() {
  const bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-task-'));
  const events: string[] = [];
  const sink: EventSink = {
    async publish(_ns, type, ev) {
      events.push(`${type} ${(ev as { id?: string; execId?: string }).execId ?? (ev as { id?: string }).id ?? ''}`.trim());
    },
  };
  const reaper = new ScriptedReaper();
  const rt = new FakeRuntime();
  let shutdowns = 0;
  const svc = new TaskService({
    namespace: 'ns',
    reaper,
    sys: realSys,
    shimSys: realShimSys,
    events: sink,
    log: quiet,
    version: 'test',
    runtimeFor: () => rt,
    onShutdown: () => shutdowns++,
  });
  const h = svc.handlers();
  const ctx: CallContext = { metadata: new Map([['containerd-namespace-ttrpc', 'ns']]), service: 'containerd.task.v2.Task', method: '' };
  const call = async <R = Record<string, any>>(method: string, req: string, res: string | null, body: object): Promise<R> => {
    const out = await h[method]!(encode(T + req, body), { ...ctx, method });
    return (res ? decode(T + res, out) : {}) as R;
  };
  return { bundle, events, reaper, rt, svc, call, shutdowns: () => shutdowns, done: () => fs.rmSync(bundle, { recursive: true, force: true }) };
}

test('an exit during Start is published after TaskStart; Wait and Delete report it', async () => {
  const s = setup();
  try {
    const { pid } = await s.call<{ pid: number }>('Create', 'CreateTaskRequest', 'CreateTaskResponse', { id: 'c1', bundle: s.bundle });
    assert.equal(pid, 100);
    // The init exits while `start` is still running (ctr run --rm busybox true).
    s.rt.onStart = () => s.reaper.exit(100, 0);
    const waited = s.call<{ exitStatus: number }>('Wait', 'WaitRequest', 'WaitResponse', { id: 'c1' });
    await s.call('Start', 'StartRequest', 'StartResponse', { id: 'c1' });
    assert.equal((await waited).exitStatus, 0);
    const st = await s.call<{ status: number }>('State', 'StateRequest', 'StateResponse', { id: 'c1' });
    assert.equal(st.status, 3);
    const del = await s.call<{ pid: number; exitStatus: number }>('Delete', 'DeleteRequest', 'DeleteResponse', { id: 'c1' });
    assert.deepEqual([del.pid, del.exitStatus], [100, 0]);
    assert.deepEqual(s.events, ['TaskCreate', 'TaskStart', 'TaskExit c1', 'TaskDelete c1']);
    // The launcher prints the file with sh builtins (cmd/shim/containerd-shim-keel-v2.sh): what it
    // prints decodes to the same answer.
    const printed = spawnSync('sh', ['-c', 'IFS= read -r fmt <"$1"; printf "$fmt"', 'sh', path.join(s.bundle, 'keel-delete-response')]);
    assert.equal(printed.status, 0, String(printed.stderr));
    type Del = { pid?: number; exitStatus?: number; exitedAt?: { seconds?: unknown; nanos?: number } | null };
    const fromSh = decode<Del>('containerd.task.v2.DeleteResponse', printed.stdout);
    const fromRpc = del as Del;
    const when = (d: Del) => [Number(d.exitedAt?.seconds ?? 0), d.exitedAt?.nanos ?? 0];
    assert.deepEqual([fromSh.pid, fromSh.exitStatus ?? 0, ...when(fromSh)], [fromRpc.pid, fromRpc.exitStatus ?? 0, ...when(fromRpc)]);
    await assert.rejects(s.call('State', 'StateRequest', 'StateResponse', { id: 'c1' }), /not found/);
  } finally {
    s.done();
  }
});

test('an init without a pid namespace of its own: what is left in its cgroup is killed before TaskExit', async () => {
  const s = setup();
  try {
    fs.writeFileSync(path.join(s.bundle, 'config.json'), JSON.stringify({ linux: { namespaces: [{ type: 'mount' }, { type: 'pid', path: '/proc/1/ns/pid' }] } }));
    await s.call('Create', 'CreateTaskRequest', 'CreateTaskResponse', { id: 'h1', bundle: s.bundle });
    await s.call('Start', 'StartRequest', 'StartResponse', { id: 'h1' });
    s.rt.onKill = () => s.events.push('(kill)');
    s.reaper.exit(100, 0);
    await s.call('Wait', 'WaitRequest', 'WaitResponse', { id: 'h1' });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(s.rt.calls.slice(-1), ['kill h1 9 true']);
    assert.deepEqual(s.events, ['TaskCreate', 'TaskStart', '(kill)', 'TaskExit h1']);
  } finally {
    s.done();
  }
});

test('Kill of an init that died while its exit is still being processed is NotFound, as containerd expects', async () => {
  const s = setup();
  try {
    await s.call('Create', 'CreateTaskRequest', 'CreateTaskResponse', { id: 'k1', bundle: s.bundle });
    await s.call('Start', 'StartRequest', 'StartResponse', { id: 'k1' });
    s.rt.killError = new RuntimeError('FailedPrecondition', 'container not running');
    await assert.rejects(s.call('Kill', 'KillRequest', null, { id: 'k1', signal: 9 }), (e: RuntimeError) => e.kind === 'NotFound' && /process already finished/.test(e.message));
    s.rt.killError = new RuntimeError('PermissionDenied', 'operation not permitted');
    await assert.rejects(s.call('Kill', 'KillRequest', null, { id: 'k1', signal: 9 }), (e: RuntimeError) => e.kind === 'PermissionDenied');
  } finally {
    s.done();
  }
});

test('state transitions: pause/resume, refusals in containerd wording, kill of a stopped process', async () => {
  const s = setup();
  try {
    await s.call('Create', 'CreateTaskRequest', 'CreateTaskResponse', { id: 'c2', bundle: s.bundle });
    await assert.rejects(s.call('Pause', 'PauseRequest', null, { id: 'c2' }), /cannot pause a created process/);
    await s.call('Start', 'StartRequest', 'StartResponse', { id: 'c2' });
    await assert.rejects(s.call('Start', 'StartRequest', 'StartResponse', { id: 'c2' }), /cannot start a running process/);
    await assert.rejects(s.call('Delete', 'DeleteRequest', 'DeleteResponse', { id: 'c2' }), /cannot delete a running process/);
    await s.call('Pause', 'PauseRequest', null, { id: 'c2' });
    assert.equal((await s.call<{ status: number }>('State', 'StateRequest', 'StateResponse', { id: 'c2' })).status, 4);
    await s.call('Resume', 'ResumeRequest', null, { id: 'c2' });
    const resources = { type_url: 'types.containerd.io/opencontainers/runtime-spec/1/LinuxResources', value: Buffer.from('{"memory":{"limit":1048576}}') };
    await s.call('Update', 'UpdateTaskRequest', null, { id: 'c2', resources });
    await s.call('Kill', 'KillRequest', null, { id: 'c2', signal: 9 });
    s.reaper.exit(100, 137);
    const w = await s.call<{ exitStatus: number }>('Wait', 'WaitRequest', 'WaitResponse', { id: 'c2' });
    assert.equal(w.exitStatus, 137);
    await assert.rejects(s.call('Kill', 'KillRequest', null, { id: 'c2', signal: 15 }), /process already finished/);
    assert.deepEqual(s.rt.calls, ['create c2', 'start c2', 'pause c2', 'resume c2', 'update c2 {"memory":{"limit":1048576}}', 'kill c2 9 false']);
    assert.deepEqual(s.events, ['TaskCreate', 'TaskStart', 'TaskPaused', 'TaskResumed', 'TaskExit c2']);
  } finally {
    s.done();
  }
});

test('exec: added, started, exit in order; Pids names the exec; Shutdown only when empty', async () => {
  const s = setup();
  try {
    await s.call('Create', 'CreateTaskRequest', 'CreateTaskResponse', { id: 'c3', bundle: s.bundle });
    await s.call('Start', 'StartRequest', 'StartResponse', { id: 'c3' });
    // containerd sends the OCI Process as JSON inside the Any.
    const spec = { type_url: 'types.containerd.io/opencontainers/runtime-spec/1/Process', value: Buffer.from(JSON.stringify({ args: ['echo', 'hi'], cwd: '/' })) };
    await s.call('Exec', 'ExecProcessRequest', null, { id: 'c3', execId: 'e1', spec });
    await assert.rejects(s.call('Exec', 'ExecProcessRequest', null, { id: 'c3', execId: 'e1', spec }), /already exists/);
    const { pid } = await s.call<{ pid: number }>('Start', 'StartRequest', 'StartResponse', { id: 'c3', execId: 'e1' });
    assert.equal(pid, 101);
    const pids = await s.call<{ processes: { pid: number; info: { type_url: string; value: Uint8Array } | null }[] }>('Pids', 'PidsRequest', 'PidsResponse', { id: 'c3' });
    assert.equal(pids.processes.length, 2);
    const execInfo = pids.processes.find((p) => p.pid === 101)!.info!;
    assert.equal(decode<{ execId: string }>('containerd.runc.v1.ProcessDetails', execInfo.value).execId, 'e1');
    s.reaper.exit(101, 0);
    await s.call('Wait', 'WaitRequest', 'WaitResponse', { id: 'c3', execId: 'e1' });
    await s.call('Delete', 'DeleteRequest', 'DeleteResponse', { id: 'c3', execId: 'e1' });
    await s.call('Shutdown', 'ShutdownRequest', null, { id: 'c3' });
    await new Promise((r) => setImmediate(r));
    assert.equal(s.shutdowns(), 0, 'a shim with a container must ignore Shutdown');
    s.reaper.exit(100, 0);
    await s.call('Wait', 'WaitRequest', 'WaitResponse', { id: 'c3' });
    await s.call('Delete', 'DeleteRequest', 'DeleteResponse', { id: 'c3' });
    await s.call('Shutdown', 'ShutdownRequest', null, { id: 'c3' });
    await new Promise((r) => setImmediate(r));
    assert.equal(s.shutdowns(), 1);
    assert.deepEqual(s.events, ['TaskCreate', 'TaskStart', 'TaskExecAdded e1', 'TaskExecStarted e1', 'TaskExit e1', 'TaskExit c3', 'TaskDelete c3']);
    assert.deepEqual(s.rt.calls, ['create c3', 'start c3', 'exec e1 echo hi', 'delete c3']);
  } finally {
    s.done();
  }
});

test('Checkpoint is Unimplemented; unknown containers are NotFound', async () => {
  const s = setup();
  try {
    await assert.rejects(s.call('Checkpoint', 'CheckpointTaskRequest', null, { id: 'x' }), (e: { kind?: string }) => e.kind === 'NotImplemented');
    await assert.rejects(s.call('State', 'StateRequest', 'StateResponse', { id: 'nope' }), (e: { kind?: string }) => e.kind === 'NotFound');
  } finally {
    s.done();
  }
});
