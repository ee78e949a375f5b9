// create/delete cycles leak nothing: through bin/keel (state dirs, cgroups, mounts, processes) and
// in one Node process through the library (createContainer + ContainerRuntime.delete), where the
// fd table must come back to its size. KEEL_LEAK_CYCLES / KEEL_LEAK_INPROC_CYCLES set the counts
// (defaults fit the suite's budget on a 2-core VM; README "Security" records a 1,000-cycle run).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { createLogger } from '../../src/log/index';
import { realSys } from '../../src/native';
import { ContainerRuntime } from '../../src/runtime/container';
import { createContainer } from '../../src/runtime/create';
import { cgroupDirsNamed, cleanupTemplate, makeBundle, mountsUnder } from '../helpers/bundle';
import { isRoot, keel, tempDir } from '../helpers/keel';

const skip = !isRoot && 'needs root';
const tmp = tempDir('keel-leak-');
const root = path.join(tmp.dir, 'root');
const CLI_CYCLES = Number(process.env.KEEL_LEAK_CYCLES ?? 60);
const INPROC_CYCLES = Number(process.env.KEEL_LEAK_INPROC_CYCLES ?? 300);
const prefix = `sleak-${process.pid}-`;
const k = (args: string[]) => keel(['--root', root, ...args]);

after(() => {
  for (const id of k(['list', '-q']).stdout.split('\n').filter(Boolean)) k(['delete', '--force', id]);
  cleanupTemplate();
  tmp.cleanup();
});

/** Processes whose root or cwd lies in our temp dir (an init left behind). */
function ourProcesses(): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    for (const link of ['root', 'cwd']) {
      try {
        if (fs.readlinkSync(`/proc/${e}/${link}`).startsWith(tmp.dir)) out.push(`${e} ${fs.readFileSync(`/proc/${e}/comm`, 'utf8').trim()}`);
      } catch {
        /* gone */
      }
    }
  }
  return out;
}

/** cgroup directories at depth 1-3 of every hierarchy whose name carries our prefix. */
function ourCgroups(): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let ents: fs.Dirent[];
    try {
      ents = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of ents) {
      if (!d.isDirectory()) continue;
      if (d.name.includes(prefix)) out.push(path.join(dir, d.name));
      else if (depth < 3) walk(path.join(dir, d.name), depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return out;
}

function assertNothingLeft(ids: string[]): void {
  assert.deepEqual(fs.existsSync(root) ? fs.readdirSync(root).filter((e) => e.startsWith(prefix)) : [], [], 'state dirs');
  for (const id of ids) assert.deepEqual(cgroupDirsNamed(id), [], `cgroup of ${id}`);
  assert.deepEqual(ourCgroups(), [], 'cgroups anywhere');
  assert.deepEqual(mountsUnder(tmp.dir), [], 'mounts');
  assert.deepEqual(ourProcesses(), [], 'processes');
}

test(`${CLI_CYCLES} create/delete cycles through bin/keel leave nothing`, { skip, timeout: 30 * 60_000 }, () => {
  const b = makeBundle(path.join(tmp.dir, 'bundle'), (s) => (s.process!.args = ['sleep', '600']));
  const ids: string[] = [];
  for (let i = 0; i < CLI_CYCLES; i++) {
    const id = `${prefix}cli-${i}`;
    ids.push(id);
    const c = k(['create', '--bundle', b, id]);
    assert.equal(c.code, 0, c.stderr);
    // Alternate the ways a container ends: deleted while created, killed then deleted, started.
    if (i % 3 === 1) assert.equal(k(['kill', id, 'KILL']).code, 0);
    if (i % 3 === 2) assert.equal(k(['start', id]).code, 0);
    const d = k(['delete', '--force', id]);
    assert.equal(d.code, 0, d.stderr);
  }
  assertNothingLeft(ids);
});

test(`${INPROC_CYCLES} createContainer/delete cycles in one process: fd table, children and state unchanged`, { skip, timeout: 30 * 60_000 }, async () => {
  const b = makeBundle(path.join(tmp.dir, 'bundle-lib'), (s) => (s.process!.args = ['sleep', '600']));
  const log = createLogger({ path: path.join(tmp.dir, 'lib.log') });
  const rt = new ContainerRuntime({ root: path.join(tmp.dir, 'lib-root'), sys: realSys, log, systemdCgroup: false, rootless: false });
  const fds = (): string[] =>
    fs.readdirSync('/proc/self/fd').flatMap((fd) => {
      try {
        return [`${fd} ${fs.readlinkSync(`/proc/self/fd/${fd}`)}`];
      } catch {
        return []; // the fd of readdir itself, closed by now
      }
    });
  const cycle = async (i: number): Promise<string> => {
    const id = `${prefix}lib-${i}`;
    const rec = await createContainer(rt, id, { bundle: b, stdio: [-1, -1, -1] });
    if (i % 2 === 1) rt.start(id);
    await rt.delete(id, true);
    // The init is our child here: reaping is the embedder's job (the shim's Reaper does it).
    realSys.waitid(1 /* P_PID */, rec.pid, 1 /* WNOHANG */);
    return id;
  };
  // Warm up: lazily opened things (the logger's file, libuv's signal pipe, the addon) open once.
  for (let i = 0; i < 3; i++) await cycle(-1 - i);
  const before = fds();
  const ids: string[] = [];
  for (let i = 0; i < INPROC_CYCLES; i++) ids.push(await cycle(i));
  const after = fds();
  assert.deepEqual(after.filter((f) => !before.includes(f)), [], 'fds opened and not closed');
  assert.equal(after.length, before.length);
  assert.deepEqual(fs.existsSync(rt.cfg.root) ? fs.readdirSync(rt.cfg.root) : [], [], 'state dirs');
  assertNothingLeft(ids);
  const children = fs.readdirSync(`/proc/${process.pid}/task`).flatMap((t) => fs.readFileSync(`/proc/${process.pid}/task/${t}/children`, 'utf8').trim().split(' ').filter(Boolean));
  assert.deepEqual(children.filter((c) => fs.existsSync(`/proc/${c}`) && fs.readFileSync(`/proc/${c}/comm`, 'utf8').startsWith('rt:')), [], 'no rt:* child left (zombie or live)');
});
