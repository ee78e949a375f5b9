// buildImage against the FakeExecutor seam: dockerd's text and history for the same Dockerfile, the
// cache (hits, touch vs chmod vs content, explanations), multi-stage (target, skipped and parallel
// stages, sequential text), failures (exit code, nothing left open), ONBUILD, labels, build args.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { MemoryBuildCache } from './cache';
import { makeContextTar } from './context-tar';
import { buildImage, type BuildResult } from './driver';
import { FakeExecutor } from './fake-executor';
import { defaultBuildOptions, type BuildOptions } from './request';

const BUSYBOX_ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];

type Rig = { dir: string; ctx: string; ex: FakeExecutor; cache: MemoryBuildCache; base: string };

async function rig(files: Record<string, string>): Promise<Rig> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'build-driver-test-'));
  const ctx = path.join(dir, 'ctx');
  for (const [p, v] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(ctx, p)), { recursive: true });
    fs.writeFileSync(path.join(ctx, p), v);
  }
  const ex = new FakeExecutor(dir);
  const base = await ex.addImage('busybox', { 'bin/sh': 'sh', 'etc/passwd': 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n', 'etc/group': 'root:x:0:\napp:x:1000:\n' }, { Env: BUSYBOX_ENV, Cmd: ['sh'] });
  return { dir, ctx, ex, cache: new MemoryBuildCache(), base };
}

async function build(r: Rig, opts: Partial<BuildOptions> = {}): Promise<{ res: BuildResult; text: string; messages: Record<string, unknown>[] }> {
  const t = await makeContextTar(r.ctx);
  const messages: Record<string, unknown>[] = [];
  const res = await buildImage({ ...defaultBuildOptions(), dockerfile: t.dockerfile, ...opts }, t.stream, { executor: r.ex, cache: r.cache, workDir: fs.mkdtempSync(path.join(r.dir, 'work-')) }, (l) => {
    assert.ok(l.endsWith('\r\n'));
    messages.push(JSON.parse(l) as Record<string, unknown>);
  });
  const text = messages.map((m) => (m.stream as string | undefined) ?? (m.error ? `ERROR ${m.error as string}\n` : '')).join('');
  return { res, text, messages };
}

/** Replaces 12-hex ids by <id>, as ids differ between engines. */
const norm = (s: string) => s.replace(/\b[0-9a-f]{12}\b/g, '<id>');
const history = (r: Rig, id: string) => r.ex.images.get(id)!.config.history!.map((h) => h.created_by);

const DOCKERFILE = `ARG BASE=busybox
FROM $BASE
ENV A=1 B="two words"
ARG X=5
RUN echo hi $X && echo err >&2
COPY a.txt /a.txt
COPY dir /d/
WORKDIR /w
CMD ["sh"]
`;

test('the text and history of dockerd 20.10 for the same Dockerfile', async () => {
  const r = await rig({ Dockerfile: DOCKERFILE, 'a.txt': 'hello\n', 'dir/sub/f': 'x\n' });
  try {
    fs.chmodSync(path.join(r.ctx, 'a.txt'), 0o644);
    fs.chmodSync(path.join(r.ctx, 'dir/sub/f'), 0o644);
    fs.chmodSync(path.join(r.ctx, 'dir'), 0o755);
    fs.chmodSync(path.join(r.ctx, 'dir/sub'), 0o755);
    const { res, text, messages } = await build(r, { tags: ['t1'] });
    assert.ok('imageId' in res);
    // dockerd's output for this Dockerfile (ids aside), stderr in red as its StderrFormatter writes it.
    assert.equal(
      norm(text),
      [
        'Step 1/9 : ARG BASE=busybox',
        'Step 2/9 : FROM $BASE',
        ' ---> <id>',
        'Step 3/9 : ENV A=1 B="two words"',
        ' ---> Running in <id>',
        'Removing intermediate container <id>',
        ' ---> <id>',
        'Step 4/9 : ARG X=5',
        ' ---> Running in <id>',
        'Removing intermediate container <id>',
        ' ---> <id>',
        'Step 5/9 : RUN echo hi $X && echo err >&2',
        ' ---> Running in <id>',
        'hi 5',
        '\u001b[91merr',
        '\u001b[0mRemoving intermediate container <id>',
        ' ---> <id>',
        'Step 6/9 : COPY a.txt /a.txt',
        ' ---> <id>',
        'Step 7/9 : COPY dir /d/',
        ' ---> <id>',
        'Step 8/9 : WORKDIR /w',
        ' ---> Running in <id>',
        'Removing intermediate container <id>',
        ' ---> <id>',
        'Step 9/9 : CMD ["sh"]',
        ' ---> Running in <id>',
        'Removing intermediate container <id>',
        ' ---> <id>',
        'Successfully built <id>',
        'Successfully tagged t1:latest',
        '',
      ].join('\n'),
    );
    const id = (res as { imageId: string }).imageId;
    assert.deepEqual(messages.filter((m) => m.aux), [{ aux: { ID: id } }]);
    assert.equal(r.ex.names.get('docker.io/library/t1:latest'), id);
    // dockerd's history for the same context, byte for byte (its checksums included).
    assert.deepEqual(history(r, id).slice(1), [
      '/bin/sh -c #(nop)  ENV A=1 B=two words',
      '/bin/sh -c #(nop)  ARG X=5',
      '|1 X=5 /bin/sh -c echo hi $X && echo err >&2',
      '/bin/sh -c #(nop) COPY file:00ec16333078d287782d462baefc8bb9eb0231dc3aefba3ca3e2f7e5cf0cadda in /a.txt ',
      '/bin/sh -c #(nop) COPY dir:cb1f76532748ed0a412bf0602ae859daf1120b3a4101b8cee7b85d78d2bd7384 in /d/ ',
      '/bin/sh -c #(nop) WORKDIR /w',
      '/bin/sh -c #(nop)  CMD ["sh"]',
    ]);
    const cfg = r.ex.images.get(id)!.config.config!;
    assert.deepEqual(cfg.Env, [...BUSYBOX_ENV, 'A=1', 'B=two words']);
    assert.equal(cfg.WorkingDir, '/w');
    assert.deepEqual(cfg.Cmd, ['sh']);
    const run = r.ex.runs[0]!;
    assert.deepEqual(run.cmd, ['/bin/sh', '-c', 'echo hi $X && echo err >&2']);
    assert.deepEqual(run.env, [...BUSYBOX_ENV, 'A=1', 'B=two words', 'X=5']);
    assert.equal(r.ex.openLayers, 0);
  } finally {
    await r.ex.cleanup();
    fs.rmSync(r.dir, { recursive: true, force: true });
  }
});

test('cache: a second build hits every step; touch hits, chmod and content miss with a reason', async () => {
  const r = await rig({ Dockerfile: 'FROM busybox\nCOPY a.txt /a.txt\nRUN echo after\n', 'a.txt': 'hello\n' });
  try {
    const first = await build(r);
    const second = await build(r, { explainCache: true });
    assert.deepEqual((second.res as { imageId: string }).imageId, (first.res as { imageId: string }).imageId);
    assert.equal((second.text.match(/ ---> Using cache/g) ?? []).length, 2);
    assert.equal(r.ex.runs.length, 1, 'RUN ran once');
    const f = path.join(r.ctx, 'a.txt');
    fs.utimesSync(f, 12345, 12345);
    assert.equal(((await build(r)).text.match(/Using cache/g) ?? []).length, 2, 'mtime does not count');
    fs.chmodSync(f, 0o600);
    const chm = await build(r, { explainCache: true });
    assert.match(chm.text, /Step 2\/3 : COPY a.txt \/a.txt\n ---> Cache miss: file a.txt changed \(mode 0644 → 0600\)\n/);
    assert.match(chm.text, /Step 3\/3 : RUN echo after\n ---> Running in/, 'every later step misses');
    fs.chmodSync(f, 0o644);
    fs.writeFileSync(f, 'changed\n');
    // Explained against the newest earlier build of the step (the 0600 one).
    assert.match((await build(r, { explainCache: true })).text, /Cache miss: file a.txt changed \(content, mode 0600 → 0644\)/);
    const nc = await build(r, { noCache: true });
    assert.equal((nc.text.match(/Using cache/g) ?? []).length, 0);
  } finally {
    await r.ex.cleanup();
    fs.rmSync(r.dir, { recursive: true, force: true });
  }
});

test('build args: history keeps the referenced ones, proxies stay out, the unused warning', async () => {
  const r = await rig({ Dockerfile: 'FROM busybox\nARG V\nARG W=dflt\nRUN echo $V $W $HTTP_PROXY\n' });
  try {
    const { res, text } = await build(r, { buildArgs: { V: 'one', HTTP_PROXY: 'http://p:1', UNUSED: 'x', NOVALUE: null }, explainCache: true });
    assert.match(text, /one dflt http:\/\/p:1\n/);
    assert.match(text, /\[Warning\] One or more build-args \[NOVALUE UNUSED\] were not consumed\nSuccessfully built/);
    assert.equal(history(r, (res as { imageId: string }).imageId).at(-1), '|2 V=one W=dflt /bin/sh -c echo $V $W $HTTP_PROXY');
    assert.ok(r.ex.runs[0]!.env.includes('HTTP_PROXY=http://p:1'));
    const again = await build(r, { buildArgs: { V: 'two' }, explainCache: true });
    assert.match(again.text, /Cache miss: build arg V changed/);
  } finally {
    await r.ex.cleanup();
    fs.rmSync(r.dir, { recursive: true, force: true });
  }
});

test('multi-stage: skipped stages, --target, COPY --from, parallel stages with sequential text', async () => {
  const df = 'FROM busybox AS a\nRUN echo a > /a\nFROM busybox AS b\nRUN echo b > /b\nFROM busybox AS unused\nRUN echo never\nFROM busybox\nCOPY --from=a /a /a\nCOPY --from=1 /b /b\n';
  const r = await rig({ Dockerfile: df });
  try {
    let inFlight = 0;
    let peak = 0;
    let release!: () => void;
    const both = new Promise<void>((resolve) => (release = resolve));
    const shell = r.ex.handler;
    r.ex.handler = async (spec, rootfs, io, signal) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      if (peak === 2) release();
      // Stage a and b must be in their RUN at the same time; a sequential driver never gets here twice.
      await Promise.race([both, new Promise((_, reject) => setTimeout(() => reject(new Error('stages a and b did not run concurrently')), 20_000).unref())]);
      inFlight--;
      return shell(spec, rootfs, io, signal);
    };
    const { res, text } = await build(r);
    assert.ok('imageId' in res, text);
    assert.equal(peak, 2);
    assert.ok(!r.ex.runs.some((s) => s.cmd.includes('echo never')), 'the unused stage is skipped');
    assert.deepEqual(
      text.split('\n').filter((l) => l.startsWith('Step')),
      ['Step 1/7 : FROM busybox AS a', 'Step 2/7 : RUN echo a > /a', 'Step 3/7 : FROM busybox AS b', 'Step 4/7 : RUN echo b > /b', 'Step 5/7 : FROM busybox', 'Step 6/7 : COPY --from=a /a /a', 'Step 7/7 : COPY --from=1 /b /b'],
    );
    // Stage b ran alongside a, yet its text comes after a's, as in a sequential build.
    assert.match(text, /\n ---> [0-9a-f]{12}\nStep 3\/7 : FROM busybox AS b\n ---> [0-9a-f]{12}\nStep 4\/7 : RUN echo b > \/b\n ---> Running in [0-9a-f]{12}\nRemoving intermediate container [0-9a-f]{12}\n ---> [0-9a-f]{12}\nStep 5\/7/);
    const root = r.ex.images.get((res as { imageId: string }).imageId)!.rootfs;
    assert.equal(fs.readFileSync(path.join(root, 'a'), 'utf8'), 'a\n');
    assert.equal(fs.readFileSync(path.join(root, 'b'), 'utf8'), 'b\n');
    r.ex.handler = shell;
    const t = await build(r, { target: 'b' });
    assert.deepEqual(t.text.split('\n').filter((l) => l.startsWith('Step')), ['Step 1/2 : FROM busybox AS b', 'Step 2/2 : RUN echo b > /b']);
    const missing = await build(r, { target: 'nope' }).catch((e: Error) => e);
    assert.ok(missing instanceof Error && missing.message === 'failed to reach build target nope in Dockerfile');
  } finally {
    await r.ex.cleanup();
    fs.rmSync(r.dir, { recursive: true, force: true });
  }
});

test('a failing RUN: dockerd\'s message and exit code, later stages cancelled, nothing left open', async () => {
  const r = await rig({ Dockerfile: 'FROM busybox\nRUN echo before\nRUN exit 3\nRUN echo not reached\n' });
  try {
    const { res, text, messages } = await build(r);
    assert.deepEqual(res, { error: "The command '/bin/sh -c exit 3' returned a non-zero code: 3", code: 3 });
    assert.deepEqual(messages.at(-1), { errorDetail: { code: 3, message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" }, error: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" });
    assert.match(text, /Step 3\/4 : RUN exit 3\n ---> Running in [0-9a-f]{12}\nERROR/);
    assert.ok(!text.includes('not reached'));
    assert.equal(r.ex.openLayers, 0);
    const forced = await build(r, { forceRemove: true });
    assert.match(forced.text, /RUN exit 3\n ---> Running in ([0-9a-f]{12})\nRemoving intermediate container \1\nERROR/);
  } finally {
    await r.ex.cleanup();
    fs.rmSync(r.dir, { recursive: true, force: true });
  }
});

test('errors before any output reject; errors after it end the stream', async () => {
  const r = await rig({ Dockerfile: 'FROM busybox\nFOO bar\n' });
  try {
    await assert.rejects(build(r), { message: 'dockerfile parse error line 2: unknown instruction: FOO' });
    fs.writeFileSync(path.join(r.ctx, 'Dockerfile'), '');
    await assert.rejects(build(r), { message: 'the Dockerfile (Dockerfile) cannot be empty' });
    fs.writeFileSync(path.join(r.ctx, 'Dockerfile'), 'FROM busybox\nENV A\n');
    // dockerd reports this one without a line ("failed to parse Dockerfile: …"); dock adds it.
    await assert.rejects(build(r), { message: 'dockerfile parse error line 2: ENV must have two arguments' });
    await assert.rejects(build(r, { dockerfile: 'Missing' }), { message: 'Cannot locate specified Dockerfile: Missing' });
    await assert.rejects(build(r, { tags: ['x@sha256:' + 'a'.repeat(64)] }), { message: 'build tag cannot contain a digest' });
    fs.writeFileSync(path.join(r.ctx, 'Dockerfile'), 'FROM nosuchimage\n');
    const { res, text } = await build(r);
    assert.equal(text, "Step 1/1 : FROM nosuchimage\nERROR pull access denied for nosuchimage, repository does not exist or may require 'docker login'\n");
    assert.ok('error' in res);
    fs.writeFileSync(path.join(r.ctx, 'Dockerfile'), 'FROM busybox\nCOPY missing /x\n');
    assert.match((await build(r)).text, /ERROR COPY failed: file not found in build context or excluded by \.dockerignore: stat missing: file does not exist\n$/);
  } finally {
    await r.ex.cleanup();
    fs.rmSync(r.dir, { recursive: true, force: true });
  }
});

test('ONBUILD triggers run after FROM; --label becomes LABEL steps; metadata in the config', async () => {
  const r = await rig({ Dockerfile: 'FROM busybox\nONBUILD RUN echo trig1\nONBUILD ENV T=2\nLABEL a=b\nEXPOSE 80 53/udp 8000-8001\nHEALTHCHECK --interval=5s CMD true\nHEALTHCHECK NONE\nSTOPSIGNAL SIGQUIT\nVOLUME /v\nUSER app\nSHELL ["/bin/sh", "-ec"]\nENTRYPOINT echo ep\nMAINTAINER me\n' });
  try {
    const parent = await build(r, { tags: ['onb'], labels: { z: '1', y: '2' } });
    assert.match(parent.text, /Step 14\/15 : LABEL y=2\n.*\n.*\n.*\nStep 15\/15 : LABEL z=1\n/);
    assert.match(parent.text, /Step 7\/15 : HEALTHCHECK NONE\nNote: overriding previous HEALTHCHECK: \[CMD-SHELL true\]\n/);
    const img = r.ex.images.get((parent.res as { imageId: string }).imageId)!.config;
    assert.deepEqual(img.config!.ExposedPorts, { '80/tcp': {}, '53/udp': {}, '8000/tcp': {}, '8001/tcp': {} });
    assert.deepEqual(img.config!.Healthcheck, { Test: ['NONE'], Interval: 5e9 });
    assert.deepEqual(img.config!.Entrypoint, ['/bin/sh', '-ec', 'echo ep']);
    assert.equal(img.config!.Cmd, null);
    assert.deepEqual(img.config!.OnBuild, ['RUN echo trig1', 'ENV T=2']);
    assert.deepEqual(img.config!.Labels, { a: 'b', y: '2', z: '1' });
    assert.equal(img.author, 'me');
    assert.ok(img.history!.some((h) => h.created_by === '/bin/sh -c #(nop)  HEALTHCHECK &{["NONE"] "0s" "0s" "0s" \'\\x00\'}'));
    assert.ok(img.history!.some((h) => h.created_by === '/bin/sh -ec #(nop)  ENTRYPOINT ["/bin/sh" "-ec" "echo ep"]'));
    fs.writeFileSync(path.join(r.ctx, 'Dockerfile'), 'FROM onb\nRUN echo child\n');
    const child = await build(r);
    assert.match(child.text, /^Step 1\/2 : FROM onb\n# Executing 2 build triggers\n ---> Running in [0-9a-f]{12}\ntrig1\nRemoving intermediate container [0-9a-f]{12}\n ---> Running in [0-9a-f]{12}\nRemoving intermediate container [0-9a-f]{12}\n ---> [0-9a-f]{12}\nStep 2\/2 : RUN echo child\n/);
    const c = r.ex.images.get((child.res as { imageId: string }).imageId)!.config.config!;
    assert.equal(c.OnBuild, null);
    assert.ok(c.Env!.includes('T=2'));
    assert.equal(r.ex.runs.at(-1)!.user, 'app');
    assert.deepEqual(r.ex.runs.at(-1)!.volumes, ['/v']);
  } finally {
    await r.ex.cleanup();
    fs.rmSync(r.dir, { recursive: true, force: true });
  }
});

test('heredocs: COPY <<EOF makes a file, RUN <<EOF runs the body (a #! body as a script)', async () => {
  const r = await rig({ Dockerfile: 'FROM busybox\nARG NAME=world\nCOPY <<EOF /greeting\nhello $NAME\nEOF\nCOPY <<"RAW" /raw\n$NAME\nRAW\nRUN <<EOF\necho from heredoc\nEOF\nRUN <<EOF\n#!/bin/sh\necho script\nEOF\n' });
  try {
    const { res, text } = await build(r);
    assert.ok('imageId' in res, text);
    const root = r.ex.images.get(res.imageId)!.rootfs;
    assert.equal(fs.readFileSync(path.join(root, 'greeting'), 'utf8'), 'hello world\n');
    assert.equal(fs.readFileSync(path.join(root, 'raw'), 'utf8'), '$NAME\n');
    assert.deepEqual(r.ex.runs[0]!.cmd, ['/bin/sh', '-c', 'echo from heredoc\n']);
    assert.deepEqual(r.ex.runs[1]!.cmd, ['/bin/sh', '-c', '/dev/pipes/EOF']);
    assert.deepEqual(r.ex.runs[1]!.files, [{ path: '/dev/pipes/EOF', data: '#!/bin/sh\necho script\n', mode: 0o755 }]);
  } finally {
    await r.ex.cleanup();
    fs.rmSync(r.dir, { recursive: true, force: true });
  }
});

test('quiet builds print only the id; an excluded Dockerfile is gone from the context', async () => {
  const r = await rig({ Dockerfile: 'FROM busybox\nCOPY . /ctx/\n', '.dockerignore': 'Dockerfile\n.dockerignore\n', 'keep.txt': 'k' });
  try {
    const { res, messages } = await build(r, { quiet: true });
    assert.ok('imageId' in res);
    assert.deepEqual(messages, [{ stream: `${res.imageId}\n` }]);
    assert.deepEqual(fs.readdirSync(path.join(r.ex.images.get(res.imageId)!.rootfs, 'ctx')), ['keep.txt']);
  } finally {
    await r.ex.cleanup();
    fs.rmSync(r.dir, { recursive: true, force: true });
  }
});

test('ADD <url>: fetched each build, never extracted, cached by content', async () => {
  const payload = Buffer.from('not really a tarball\n');
  let body = payload;
  const server = http.createServer((req, res) => res.end(req.url === '/files/app.tar.gz' ? body : ''));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/files/app.tar.gz`;
  const r = await rig({ Dockerfile: `FROM busybox\nADD ${url} /dl/\nADD ${url} /named\n` });
  try {
    const first = await build(r);
    assert.ok('imageId' in first.res, first.text);
    const root = r.ex.images.get(first.res.imageId)!.rootfs;
    assert.deepEqual(fs.readFileSync(path.join(root, 'dl/app.tar.gz')), payload);
    assert.equal(fs.statSync(path.join(root, 'dl/app.tar.gz')).mode & 0o777, 0o600);
    assert.deepEqual(fs.readFileSync(path.join(root, 'named')), payload);
    assert.equal((await build(r)).text.match(/Using cache/g)?.length, 2);
    body = Buffer.from('changed\n');
    assert.match((await build(r, { explainCache: true })).text, /Step 2\/3 : ADD .*\n ---> Cache miss: file http:\/\/127\.0\.0\.1:\d+\/files\/app\.tar\.gz changed \(content\)/);
  } finally {
    server.close();
    await r.ex.cleanup();
    fs.rmSync(r.dir, { recursive: true, force: true });
  }
});
