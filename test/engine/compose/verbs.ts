// The remaining dock compose verbs against the engine under test: build (POST /build), push and
// pull through a registry in the test netns; then, on the host network and without the builder,
// top, images, ls, pause/unpause, restart, kill, rm, run variants, events, orphans and
// down --rmi local. Registered inside scenarios.ts's describe.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { dockBundle, ok, resources, startRegistry, states, type Env } from './harness';
import type { Todo } from './scenarios';

const BUILD_YML = `name: builds
services:
  app:
    build:
      context: ./app
      args: {MSG: built-by-compose}
    command: cat /msg
  pub:
    image: 127.0.0.1:5000/builds/pub:1
    build: ./app
`;

const DOCKERFILE = 'FROM busybox\nARG MSG=default\nRUN echo "$MSG" > /msg\n';

// app has no image: key, so it runs <project>-<service> ("verbs-app"), which down --rmi local
// removes; the test tags busybox with that name instead of building it.
const VERBS_YML = `name: verbs
services:
  app:
    build: ./app
    network_mode: host
    command: sh -c 'echo app up; exec httpd -f -p 127.0.0.1:8190 -h /etc'
    stop_signal: SIGKILL
  side:
    image: busybox
    network_mode: host
    command: sleep 100000
    stop_signal: SIGKILL
`;

export function verbScenarios(getEnv: () => Env, todo: Todo): void {
  test('build through POST /build, push and pull through a registry', { todo: todo('build') }, async () => {
    const env = getEnv();
    const d = env.project('builds', { 'compose.yaml': BUILD_YML, 'app/Dockerfile': DOCKERFILE });
    const c = (args: string[]) => env.compose(d, args);
    const registry = await startRegistry(env);
    try {
      ok(await c(['build']), 'build');
      assert.equal(ok(await env.docker(['run', '--rm', 'builds-app', 'cat', '/msg']), 'docker run built image'), 'built-by-compose\n');
      assert.equal(ok(await c(['run', '--rm', '-T', 'app']), 'run the built service'), 'built-by-compose\n');
      ok(await c(['push', 'pub']), 'push pub');
      ok(await env.docker(['rmi', '127.0.0.1:5000/builds/pub:1']), 'rmi');
      ok(await c(['pull', 'pub']), 'pull pub');
      ok(await env.docker(['image', 'inspect', '127.0.0.1:5000/builds/pub:1']), 'pulled image');
      ok(await c(['down', '--rmi', 'all']), 'down --rmi all');
      for (const img of ['builds-app', '127.0.0.1:5000/builds/pub:1']) assert.notEqual((await env.docker(['image', 'inspect', img])).code, 0, `${img} removed`);
    } finally {
      await registry.stop();
    }
  });

  test('top, images, ls, pause, restart, kill, rm, run, events, orphans, down --rmi local', async () => {
    const env = getEnv();
    const d = env.project('verbs', { 'compose.yaml': VERBS_YML, 'only-side.yml': VERBS_YML.replace(/ {2}app:[\s\S]*?(?= {2}side:)/, '') });
    const c = (args: string[], o?: { env?: NodeJS.ProcessEnv }) => env.compose(d, args, o);
    ok(await env.docker(['tag', 'busybox', 'verbs-app']), 'tag verbs-app');

    // Events of the project while it comes up (the events process is stopped by pid).
    const ev = spawn(process.execPath, [dockBundle(), 'compose', 'events', '--json'], { cwd: d, env: { ...process.env, DOCKER_HOST: env.engine.host } });
    let events = '';
    ev.stdout.on('data', (b: Buffer) => (events += b.toString()));
    try {
      await new Promise((r) => setTimeout(r, 500));
      ok(await c(['up', '-d']), 'up -d');
      for (let i = 0; i < 200 && (events.match(/"action":"start"/g) ?? []).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    } finally {
      ev.kill('SIGTERM');
    }
    const starts = events.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { action: string; service: string; type: string }).filter((e) => e.action === 'start');
    assert.deepEqual([...new Set(starts.map((e) => `${e.type} ${e.service}`))].sort(), ['container app', 'container side']);

    assert.match(ok(await c(['logs', 'app']), 'logs'), /app-1 +\| app up/);
    assert.match(ok(await c(['top', 'app']), 'top'), /^verbs-app-1\nUID +PID +PPID +C +STIME +TTY +TIME +CMD\n.*httpd -f -p 127\.0\.0\.1:8190 -h \/etc/m);
    assert.match(ok(await c(['images']), 'images'), /^verbs-app-1 +verbs-app +latest +[0-9a-f]{12} +\S+B$/m);
    assert.match(ok(await c(['ls']), 'ls'), new RegExp(`^verbs +running\\(2\\) +${d}/compose\\.yaml$`, 'm'));

    ok(await c(['pause', 'app']), 'pause');
    assert.equal(states(ok(await c(['ps', '--format', 'json']), 'ps'))['verbs-app-1'], 'paused');
    ok(await c(['unpause', 'app']), 'unpause');
    const started = async () => ok(await env.docker(['inspect', '-f', '{{.State.StartedAt}}', 'verbs-app-1']), 'inspect');
    const before = await started();
    ok(await c(['restart', 'app']), 'restart');
    assert.notEqual(await started(), before);
    assert.equal(env.fetch('http://127.0.0.1:8190/hostname').length > 0, true);
    ok(await c(['kill', '-s', 'SIGKILL', 'app']), 'kill');
    assert.equal(states(ok(await c(['ps', '-a', '--format', 'json']), 'ps -a'))['verbs-app-1'], 'exited');
    ok(await c(['rm', '-f', 'app']), 'rm -f');
    assert.deepEqual(Object.keys(states(ok(await c(['ps', '-a', '--format', 'json']), 'ps -a'))), ['verbs-side-1']);

    // Orphans: a file without app leaves app's container as an orphan until --remove-orphans.
    ok(await c(['up', '-d']), 'up -d app again');
    assert.equal(states(ok(await c(['ps', '--format', 'json']), 'ps'))['verbs-app-1'], 'running');
    const warn = await c(['-f', 'only-side.yml', 'up', '-d']);
    ok(warn, 'up -d only-side');
    assert.match(warn.stderr, /Found orphan containers \(verbs-app-1\) for this project/);
    ok(await c(['-f', 'only-side.yml', 'up', '-d', '--remove-orphans']), 'up --remove-orphans');
    assert.ok(!Object.keys(states(ok(await c(['ps', '-a', '--format', 'json']), 'ps'))).includes('verbs-app-1'));

    // One-off containers: entrypoint and environment overrides, --rm, an exit status, -d.
    assert.equal(ok(await c(['run', '--rm', '-T', '-e', 'X=from-run', '--entrypoint', 'sh -c', 'app', 'echo $X']), 'run --entrypoint'), 'from-run\n');
    const r = await c(['run', '-T', 'app', 'sh', '-c', 'exit 7']);
    assert.equal(r.code, 7, r.stderr);
    const name = ok(await c(['run', '-d', 'app']), 'run -d').trim();
    assert.match(name, /^verbs-app-run-[0-9a-f]{12}$/);
    const ps = states(ok(await c(['ps', '-a', '--format', 'json']), 'ps -a'));
    assert.equal(ps[name], 'running');
    assert.equal(Object.keys(ps).filter((n) => n.startsWith('verbs-app-run-')).length, 2);

    ok(await c(['down', '--rmi', 'local', '-v']), 'down --rmi local');
    assert.deepEqual(await resources(env, 'verbs'), { containers: [], networks: [], volumes: [] });
    assert.notEqual((await env.docker(['image', 'inspect', 'verbs-app'])).code, 0, 'local image removed');
    ok(await env.docker(['image', 'inspect', 'busybox']), 'busybox kept');
  });
}
