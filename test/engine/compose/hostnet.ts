// A compose-spec project on the host network (the test netns the engine runs in), so it needs no
// bridge networking: healthy dependencies, exec options, recreation only on change with named and
// anonymous volumes kept, scale, logs, stop/start, run, attached up. Registered inside
// scenarios.ts's describe.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ok, resources, states, type Env } from './harness';

const HOSTNET_YML = `name: hostnet
services:
  web:
    image: busybox
    network_mode: host
    command: sh -c 'echo "$$GREETING" > /www/index.html; echo web up; exec httpd -f -p 127.0.0.1:8180 -h /www'
    environment: ["GREETING=\${GREETING:-hello}"]
    depends_on:
      db: {condition: service_healthy}
    volumes: [content:/www, /anon]
    stop_signal: SIGKILL
  db:
    image: busybox
    network_mode: host
    command: sh -c 'echo ok > /tmp/index.html; echo db ready; exec httpd -f -p 127.0.0.1:8181 -h /tmp'
    healthcheck: {test: [CMD, wget, -qO-, "http://127.0.0.1:8181/"], interval: 1s, retries: 30}
    stop_signal: SIGKILL
  worker:
    image: busybox
    network_mode: host
    command: sh -c 'echo worker started; exec sleep 100000'
    stop_signal: SIGKILL
  client:
    image: busybox
    network_mode: host
    profiles: [tools]
    command: wget -qO- http://127.0.0.1:8181/
    depends_on:
      db: {condition: service_healthy}
  fail:
    image: busybox
    network_mode: host
    profiles: [tools]
    command: sh -c 'echo bye; exit 3'
volumes:
  content: {}
`;

async function ids(env: Env, project: string): Promise<Record<string, string>> {
  const r = ok(await env.docker(['ps', '-a', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Names}} {{.ID}}']), 'docker ps');
  return Object.fromEntries(r.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
}

export function hostnetScenarios(getEnv: () => Env): void {
  test('host-network project: healthy dependency, exec, recreate only on change, volumes kept, scale, logs, run', async () => {
    const env = getEnv();
    const d = env.project('hostnet', { 'compose.yaml': HOSTNET_YML });
    const c = (args: string[], o?: { env?: NodeJS.ProcessEnv }) => env.compose(d, args, o);
    assert.equal(ok(await c(['config', '--services']), 'config --services'), 'web\ndb\nworker\n');
    const up = await c(['up', '-d']);
    ok(up, 'up -d');
    const lines = up.stderr.split('\n');
    assert.ok(lines.indexOf(' Container hostnet-db-1  Healthy') >= 0 && lines.indexOf(' Container hostnet-db-1  Healthy') < lines.indexOf(' Container hostnet-web-1  Started'), up.stderr);
    assert.deepEqual((await resources(env, 'hostnet')).volumes, ['hostnet_content']);
    assert.equal(env.fetch('http://127.0.0.1:8180/'), 'hello\n');
    ok(await c(['exec', '-T', 'web', 'sh', '-c', 'echo kept > /www/marker']), 'exec marker');
    assert.equal(ok(await c(['exec', '-T', '-e', 'X=1', '-u', 'nobody', '-w', '/tmp', 'web', 'sh', '-c', 'echo $X $(id -u) $(pwd)']), 'exec -e -u -w'), '1 65534 /tmp\n');
    const anon = async () => ok(await env.docker(['inspect', '-f', '{{range .Mounts}}{{if eq .Destination "/anon"}}{{.Name}}{{end}}{{end}}', 'hostnet-web-1']), 'inspect').trim();
    const anon1 = await anon();
    assert.ok(anon1, 'an anonymous volume is mounted on /anon');
    const first = await ids(env, 'hostnet');

    const again = await c(['up', '-d']);
    ok(again, 'up -d (unchanged)');
    assert.deepEqual(await ids(env, 'hostnet'), first);
    assert.match(again.stderr, / Container hostnet-web-1 {2}Running/);

    ok(await c(['up', '-d'], { env: { GREETING: 'changed' } }), 'up -d (changed)');
    const second = await ids(env, 'hostnet');
    assert.equal(second['hostnet-db-1'], first['hostnet-db-1'], 'db kept');
    assert.equal(second['hostnet-worker-1'], first['hostnet-worker-1'], 'worker kept');
    assert.notEqual(second['hostnet-web-1'], first['hostnet-web-1'], 'web recreated');
    assert.equal(env.fetch('http://127.0.0.1:8180/'), 'changed\n');
    assert.equal(ok(await c(['exec', '-T', 'web', 'cat', '/www/marker']), 'named volume'), 'kept\n');
    assert.equal(await anon(), anon1, 'the anonymous volume follows the recreated container');

    ok(await c(['up', '-d', '--scale', 'worker=3', 'worker']), 'up --scale worker=3');
    const logs = ok(await c(['logs', '--no-color', 'worker']), 'logs worker');
    for (const n of [1, 2, 3]) assert.match(logs, new RegExp(`^worker-${n} +\\| worker started$`, 'm'));
    ok(await c(['stop', 'worker']), 'stop worker');
    assert.deepEqual(Object.values(states(ok(await c(['ps', '-a', '--format', 'json', 'worker']), 'ps'))), ['exited', 'exited', 'exited']);
    ok(await c(['start', 'worker']), 'start worker');
    assert.deepEqual(Object.values(states(ok(await c(['ps', '--format', 'json', 'worker']), 'ps'))), ['running', 'running', 'running']);

    assert.equal(ok(await c(['run', '--rm', '-T', 'client']), 'run --rm client'), 'ok\n');
    assert.deepEqual(Object.keys(states(ok(await c(['ps', '-a', '--format', 'json']), 'ps -a'))).sort(), ['hostnet-db-1', 'hostnet-web-1', 'hostnet-worker-1', 'hostnet-worker-2', 'hostnet-worker-3']);

    ok(await c(['down', '-v']), 'down -v');
    assert.deepEqual(await resources(env, 'hostnet'), { containers: [], networks: [], volumes: [] });
  });

  test('attached up: coloured prefixes, --exit-code-from, --abort-on-container-exit', async () => {
    const env = getEnv();
    const d = env.project('attached', { 'compose.yaml': HOSTNET_YML.replace('name: hostnet', 'name: att') });
    const r = await env.compose(d, ['--ansi', 'always', '--profile', 'tools', 'up', '--exit-code-from', 'client', 'client', 'db']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Attaching to client-1, db-1\n/);
    assert.match(r.stdout, /\x1b\[\d+(;1)?mclient-1 +\| \x1b\[0mok\n/);
    assert.match(r.stdout, /\x1b\[\d+(;1)?mdb-1 +\| \x1b\[0mdb ready\n/);
    assert.match(r.stdout, /client-1 exited with code 0/);
    assert.match(r.stderr, /Aborting on container exit\.\.\./);
    const f = await env.compose(d, ['--profile', 'tools', 'up', '--abort-on-container-exit', 'fail']);
    assert.equal(f.code, 3, f.stderr);
    assert.match(f.stdout, /^fail-1 +\| bye$/m);
    ok(await env.compose(d, ['--profile', 'tools', 'down', '-v']), 'down');
    assert.deepEqual(await resources(env, 'att'), { containers: [], networks: [], volumes: [] });
  });
}
