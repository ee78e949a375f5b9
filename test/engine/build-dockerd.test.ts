// dock's builder against the reference dockerd 20.10 (classic builder, DOCKER_BUILDKIT=0): the same
// bad Dockerfiles give the same error text (dock adds the line where dockerd has none), and the same
// Dockerfile and context give the same step text and the same history lines, COPY checksums included.
// The builder side runs through its Executor seam (FakeExecutor), and the last scenario runs the
// same build on the dock engine through the docker CLI (POST /build, the engine executor).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { MemoryBuildCache } from '../../src/manager/build/cache';
import { makeContextTar } from '../../src/manager/build/context-tar';
import { buildImage, type BuildResult } from '../../src/manager/build/driver';
import { FakeExecutor } from '../../src/manager/build/fake-executor';
import { defaultBuildOptions, type BuildOptions } from '../../src/manager/build/request';
import { BUSYBOX_CHANGES, busyboxTar } from './lib/busybox';
import { docker } from './lib/docker-cli';
import { dockSkipReason, startDock } from './lib/dock';
import { dockerdSkipReason, startDockerd } from './lib/dockerd';
import { importBusybox } from './lib/engines';
import type { Engine } from './lib/engine';

const skip = dockerdSkipReason();
let engine: Engine | undefined;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'build-dockerd-'));
const BUSYBOX_ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];

before(async () => {
  if (skip) return;
  engine = await startDockerd();
  const args = ['import'];
  for (const c of BUSYBOX_CHANGES) args.push('-c', c);
  const r = await docker(engine, [...args, busyboxTar(), 'busybox:latest']);
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await engine?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

let seq = 0;
function context(files: Record<string, string>): string {
  const dir = path.join(work, `ctx${++seq}`);
  for (const [p, v] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), v);
    fs.chmodSync(path.join(dir, p), 0o644);
  }
  for (const d of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) if (d.isDirectory()) fs.chmodSync(path.join(d.parentPath, d.name), 0o755);
  return dir;
}

/** dockerd's result: the step text (stdout without the CLI's own first line) and the error line. */
async function dockerBuild(dir: string, argv: string[] = []): Promise<{ code: number; text: string; error: string }> {
  const r = await docker(engine!, ['build', ...argv, dir], { timeoutMs: 120_000 });
  const text = r.stdout
    .split('\n')
    .filter((l) => !l.startsWith('Sending build context'))
    .join('\n');
  const errLines = r.stderr.split('\n').filter((l) => l && !/DEPRECATED|BuildKit is currently disabled|environment-variable/.test(l));
  // In-stream errors go to stderr as they are; errors before any output come as "Error response from daemon: …".
  return { code: r.code, text, error: (errLines.at(-1) ?? '').replace(/^Error response from daemon: /, '') };
}

async function dockBuild(dir: string, ex: FakeExecutor, opts: Partial<BuildOptions> = {}): Promise<{ res?: BuildResult; text: string; error: string }> {
  const t = await makeContextTar(dir);
  const lines: string[] = [];
  const errors: string[] = [];
  try {
    const res = await buildImage({ ...defaultBuildOptions(), dockerfile: t.dockerfile, ...opts }, t.stream, { executor: ex, cache: new MemoryBuildCache(), workDir: fs.mkdtempSync(path.join(work, 'w-')) }, (l) => {
      const m = JSON.parse(l) as { stream?: string; error?: string };
      if (m.stream !== undefined) lines.push(m.stream);
      if (m.error !== undefined) errors.push(m.error);
    });
    return { res, text: lines.join(''), error: errors.join('') };
  } catch (e) {
    return { text: lines.join(''), error: (e as Error).message };
  }
}

async function fake(): Promise<FakeExecutor> {
  const ex = new FakeExecutor(work);
  await ex.addImage('busybox', { 'bin/sh': 'sh', 'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n', 'etc/group': 'root:x:0:\n' }, { Env: BUSYBOX_ENV, Cmd: ['sh'] });
  return ex;
}

const norm = (s: string) => s.replace(/\b[0-9a-f]{12}\b/g, '<id>');

/** [Dockerfile, extra build flags, the line dock adds when dockerd reports "failed to parse Dockerfile: …"] */
const ERRORS: [string, string[], number?][] = [
  ['FROM busybox\nFOO bar', []],
  ['FROM busybox\nONBUILD ONBUILD RUN x', []],
  ['FROM busybox\nONBUILD FROM x', []],
  ['FROM busybox AS 1x', []],
  ['FROM busybox a b c', []],
  ['FROM busybox\nENV', []],
  ['FROM busybox\nENV A', [], 2],
  ['FROM busybox\nENV A=1 B', [], 2],
  ['FROM busybox\nARG', []],
  ['FROM busybox\nUSER', []],
  ['FROM busybox\nHEALTHCHECK --retries=0 CMD x', []],
  ['FROM busybox\nCOPY --bogus=1 a.txt /x', []],
  ['# nothing', []],
  ['FROM busybox', ['--target', 'nope']],
  ['FROM busybox\nRUN --mount=type=cache,target=/x echo', []],
  ['FROM busybox\nCOPY missing.txt /x', []],
  ['FROM busybox\nCOPY *.nomatch /x/', []],
  ['FROM busybox\nCOPY a.txt Dockerfile /x', []],
  ['FROM busybox\nCOPY ../a.txt /x', []],
  ['FROM busybox\nCOPY http://127.0.0.1:1/x /x', []],
  ['FROM busybox\nCOPY --from=3 / /x', []],
  ['FROM busybox\nCOPY --chown=nobodyx a.txt /x', []],
  ['FROM busybox\nSTOPSIGNAL FOO', []],
  ['FROM busybox\nEXPOSE abc', []],
  ['FROM busybox\nEXPOSE 80/xyz', []],
  ['FROM $NOPE', []],
];

test('bad Dockerfiles: dock\'s error is dockerd\'s', { skip }, async () => {
  const ex = await fake();
  try {
    for (const [df, flags, line] of ERRORS) {
      const dir = context({ Dockerfile: `${df}\n`, 'a.txt': 'hi\n' });
      const ref = await dockerBuild(dir, flags);
      assert.notEqual(ref.code, 0, `dockerd accepted ${JSON.stringify(df)}`);
      const opts: Partial<BuildOptions> = flags[0] === '--target' ? { target: flags[1]! } : {};
      const ours = await dockBuild(dir, ex, opts);
      let want = ref.error;
      if (line !== undefined) want = want.replace(/^failed to parse Dockerfile: /, `dockerfile parse error line ${line}: `);
      // dockerd only knows that RUN --mount needs BuildKit when it reaches the step; dock knows it when it parses.
      if (/requires BuildKit/.test(want)) want = `dockerfile parse error line 2: ${want}`;
      if (want === 'no build stage in current context') want = 'dockerfile parse error line 1: no build stage in current context';
      assert.equal(ours.error, want, `for ${JSON.stringify(df)}`);
    }
  } finally {
    await ex.cleanup();
  }
});

const DF = `ARG BASE=busybox
FROM $BASE
ENV A=1 B="two words" C=x$$y
ARG X=5
RUN echo hi $X
LABEL "a b"=c
EXPOSE 80 53/udp
COPY a.txt /a.txt
COPY dir /d/
COPY --chown=1:2 a.txt dir/sub/f /multi/
ADD dir/sub /added
WORKDIR rel
USER 1000
VOLUME /v
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=5s --retries=2 CMD true
SHELL ["/bin/sh", "-ec"]
ENTRYPOINT echo ep
CMD echo hi
MAINTAINER someone
`;

test('the same build gives the same text and the same history as dockerd', { skip }, async () => {
  const dir = context({ Dockerfile: DF, 'a.txt': 'hello\n', 'dir/sub/f': 'x\n' });
  const ref = await dockerBuild(dir, ['-t', 'same:1', '--build-arg', 'X=7', '--build-arg', 'UNUSED=1']);
  assert.equal(ref.code, 0, ref.error);
  const hist = await docker(engine!, ['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'same:1']);
  // Newest first; the oldest (the import) has an empty CreatedBy.
  const refHistory = hist.stdout.replace(/\n$/, '').split('\n').reverse().slice(1);
  const ex = await fake();
  try {
    const ours = await dockBuild(dir, ex, { tags: ['same:1'], buildArgs: { X: '7', UNUSED: '1' } });
    assert.ok(ours.res && 'imageId' in ours.res, ours.error);
    assert.equal(norm(ours.text), norm(ref.text));
    const id = ours.res.imageId;
    assert.deepEqual(ex.images.get(id)!.config.history!.slice(1).map((h) => h.created_by), refHistory);
    const inspect = await docker(engine!, ['image', 'inspect', '--format', '{{json .Config}}', 'same:1']);
    const refCfg = JSON.parse(inspect.stdout) as Record<string, unknown>;
    const cfg = ex.images.get(id)!.config.config as Record<string, unknown>;
    for (const k of ['Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'User', 'ExposedPorts', 'Volumes', 'Labels', 'StopSignal', 'Healthcheck', 'Shell', 'OnBuild']) {
      assert.deepEqual(cfg[k] ?? null, refCfg[k] ?? null, k);
    }
  } finally {
    await ex.cleanup();
  }
});

test('multi-stage, ONBUILD and a failing RUN read the same and exit the same', { skip }, async () => {
  const ex = await fake();
  try {
    const parent = context({ Dockerfile: 'FROM busybox\nONBUILD RUN echo trig1\nONBUILD ENV T=2\n' });
    assert.equal((await dockerBuild(parent, ['-t', 'onb:1'])).code, 0);
    assert.ok('imageId' in (await dockBuild(parent, ex, { tags: ['onb:1'] })).res!);
    const multi = context({ Dockerfile: 'FROM busybox AS build\nRUN echo built > /out\nFROM onb:1\nCOPY --from=build /out /got\nRUN echo before\nRUN exit 3\n' });
    const ref = await dockerBuild(multi);
    assert.equal(ref.code, 3);
    const ours = await dockBuild(multi, ex);
    assert.deepEqual(ours.res, { error: ref.error, code: 3 });
    assert.equal(norm(ours.text), norm(ref.text));
  } finally {
    await ex.cleanup();
  }
});

test('the dock engine gives dockerd\'s text, history and config for the same build (docker CLI, POST /build)', { skip: skip ?? dockSkipReason() }, async () => {
  const dock = await startDock();
  try {
    await importBusybox(dock);
    const dir = context({ Dockerfile: DF, 'a.txt': 'hello\n', 'dir/sub/f': 'x\n' });
    const argv = ['--no-cache', '-t', 'same:2', '--build-arg', 'X=7', '--build-arg', 'UNUSED=1'];
    const ref = await dockerBuild(dir, argv);
    assert.equal(ref.code, 0, ref.error);
    const r = await docker(dock, ['build', ...argv, dir], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const text = r.stdout.split('\n').filter((l) => !l.startsWith('Sending build context')).join('\n');
    assert.equal(norm(text), norm(ref.text));
    const hist = async (e: Engine) => (await docker(e, ['history', '--no-trunc', '--format', '{{.CreatedBy}}', 'same:2'])).stdout;
    assert.equal(await hist(dock), await hist(engine!));
    const cfg = async (e: Engine) => JSON.parse((await docker(e, ['image', 'inspect', '--format', '{{json .Config}}', 'same:2'])).stdout) as Record<string, unknown>;
    const [ours, theirs] = [await cfg(dock), await cfg(engine!)];
    for (const k of ['Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'User', 'ExposedPorts', 'Volumes', 'Labels', 'StopSignal', 'Healthcheck', 'Shell', 'OnBuild']) assert.deepEqual(ours[k] ?? null, theirs[k] ?? null, k);
    // Failures read the same and exit the same through the docker CLI (dockerd with --force-rm: it keeps failed containers).
    const fail = context({ Dockerfile: 'FROM busybox\nRUN echo before\nRUN exit 3\n' });
    const rf = await dockerBuild(fail, ['--force-rm']);
    const df = await docker(dock, ['build', fail], { timeoutMs: 120_000 });
    assert.equal(df.code, rf.code);
    assert.equal(df.stderr.split('\n').filter((l) => l && !/DEPRECATED|BuildKit is currently disabled|environment-variable/.test(l)).at(-1), rf.error);
    assert.equal((await docker(dock, ['ps', '-a', '-q'])).stdout, '');
  } finally {
    await dock.stop();
  }
});
