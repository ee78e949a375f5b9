// Round trips of the shim's protobuf messages, checked against hand-encoded wire bytes so a wrong
// field number cannot pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode, toAny, timestamp } from './messages';

test('ttrpc.Request field numbers: service 1, method 2, payload 3, metadata 5', () => {
  const b = encode('ttrpc.Request', { service: 'S', method: 'M', payload: Buffer.from([7]), metadata: [{ key: 'k', value: 'v' }] });
  assert.deepEqual([...b], [0x0a, 1, 0x53, 0x12, 1, 0x4d, 0x1a, 1, 7, 0x2a, 6, 0x0a, 1, 0x6b, 0x12, 1, 0x76]);
});

test('CreateTaskRequest round trip with rootfs mounts and an options Any', () => {
  const msg = {
    id: 'c1',
    bundle: '/b',
    rootfs: [{ type: 'overlay', source: 'overlay', target: '', options: ['lowerdir=/l', 'upperdir=/u'] }],
    terminal: true,
    stdin: '/fifo/in',
    options: toAny('containerd.runc.v1.Options', { binaryName: '/usr/sbin/runc', root: '/r' }),
  };
  const d = decode<Record<string, any>>('containerd.task.v2.CreateTaskRequest', encode('containerd.task.v2.CreateTaskRequest', msg));
  assert.equal(d.id, 'c1');
  assert.deepEqual(d.rootfs[0].options, ['lowerdir=/l', 'upperdir=/u']);
  assert.equal(d.terminal, true);
  assert.equal(d.options.type_url, 'containerd.runc.v1.Options');
  const o = decode<Record<string, any>>('containerd.runc.v1.Options', d.options.value);
  assert.equal(o.binaryName, '/usr/sbin/runc');
  assert.equal(o.root, '/r');
});

test('DeleteResponse: pid 1, exit_status 2, exited_at 3', () => {
  const b = encode('containerd.task.v2.DeleteResponse', { pid: 5, exitStatus: 137, exitedAt: { seconds: 1 } });
  assert.deepEqual([...b], [0x08, 5, 0x10, 137, 1, 0x1a, 2, 0x08, 1]);
});

test('TaskExit event fields and Envelope', () => {
  const ev = { containerId: 'c', id: 'c', pid: 42, exitStatus: 3, exitedAt: timestamp(new Date(1500)) };
  const env = encode('containerd.events.ForwardRequest', { envelope: { namespace: 'ns', topic: '/tasks/exit', event: toAny('containerd.events.TaskExit', ev) } });
  const d = decode<Record<string, any>>('containerd.events.ForwardRequest', env);
  assert.equal(d.envelope.topic, '/tasks/exit');
  assert.equal(d.envelope.event.type_url, 'containerd.events.TaskExit');
  const e = decode<Record<string, any>>('containerd.events.TaskExit', d.envelope.event.value);
  assert.equal(e.pid, 42);
  assert.equal(e.exitStatus, 3);
  assert.deepEqual(e.exitedAt, { seconds: 1, nanos: 500000000 });
});

test('cgroups metrics carry 64-bit counters', () => {
  const v1 = decode<Record<string, any>>('io.containerd.cgroups.v1.Metrics', encode('io.containerd.cgroups.v1.Metrics', { memory: { usage: { usage: 2 ** 40 } }, pids: { current: 3 } }));
  assert.equal(v1.memory.usage.usage, 2 ** 40);
  assert.equal(v1.pids.current, 3);
  const v2 = decode<Record<string, any>>('io.containerd.cgroups.v2.Metrics', encode('io.containerd.cgroups.v2.Metrics', { cpu: { usageUsec: 12 }, memory: { usage: 99 } }));
  assert.equal(v2.cpu.usageUsec, 12);
  assert.equal(v2.memory.usage, 99);
});
