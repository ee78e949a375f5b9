// The compose scenarios, parametrized over the engine (dockerd as the reference, dock when it
// lands): the seeds' fig project driven by `dock compose` and by docker-compose 1.29.2, and a
// compose-spec project on bridge networks, a host-network project (hostnet.ts), the other verbs
// (verbs.ts) and refusals.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ok, resources, setUp, states, type Env, type StartEngine } from './harness';
import { hostnetScenarios } from './hostnet';
import { verbScenarios } from './verbs';

/** The seeds' fig.yml: web linked to db, a bind-mounted directory, a published port. */
export const FIG_YML = `web:
  image: busybox
  command: sh -c 'echo web up; exec httpd -f -p 80 -h /www'
  links:
    - db
  volumes:
    - ./www:/www:ro
  ports:
    - "80"
  stop_signal: SIGKILL
db:
  image: busybox
  command: sh -c 'mkdir -p /srv && echo db-content > /srv/index.html && echo db ready && exec httpd -f -p 80 -h /srv'
  stop_signal: SIGKILL
`;

const FIG_FILES = { 'fig.yml': FIG_YML, 'www/index.html': 'hello from the bind mount\n' };

const SHOP_YML = `name: shop
services:
  web:
    image: busybox
    command: sh -c 'echo "$$GREETING" > /www/index.html; exec httpd -f -p 80 -h /www'
    environment: ["GREETING=\${GREETING:-hello}"]
    ports: ["8080:80"]
    depends_on:
      db: {condition: service_healthy}
    volumes: [content:/www, /anon]
    networks: [default, back]
    stop_signal: SIGKILL
  db:
    image: busybox
    command: sh -c 'echo ok > /tmp/index.html; exec httpd -f -p 80 -h /tmp'
    healthcheck: {test: [CMD, wget, -qO-, "http://localhost/"], interval: 1s, retries: 20}
    networks:
      back: {aliases: [database]}
    stop_signal: SIGKILL
  client:
    image: busybox
    profiles: [tools]
    command: wget -qO- http://database/
    networks: [back]
    depends_on: [db]
volumes:
  content: {}
networks:
  back: {}
`;

async function hostPort(env: Env, cwd: string, args: string[]): Promise<number> {
  const out = ok(await env.compose(cwd, [...args]), `port ${args.join(' ')}`).trim();
  const m = /^0\.0\.0\.0:(\d+)$/.exec(out);
  assert.ok(m, `port output: ${out}`);
  return Number(m[1]);
}

/** Why an engine cannot pass scenarios that need a feature yet (node:test runs them as TODO). */
export type Todo = (feature: 'bridge' | 'build') => string | undefined;

export function composeScenarios(kind: string, start: StartEngine, skip?: string, todo: Todo = () => undefined): void {
  describe(`compose on ${kind}`, { skip }, () => {
    let env: Env;
    before(async () => {
      env = await setUp(start);
    });
    after(async () => {
      await env?.close();
    });

    test('the fig project with dock compose: up -d, stop web, start web, scale web=3, ps, logs, down', { todo: todo('bridge') }, async () => {
      const d = env.project('fig', FIG_FILES);
      const c = (args: string[]) => env.compose(d, ['-f', 'fig.yml', '-p', 'fig', ...args]);
      ok(await c(['up', '-d']), 'up -d');
      assert.deepEqual(states(ok(await c(['ps', '--format', 'json']), 'ps')), { 'fig-db-1': 'running', 'fig-web-1': 'running' });
      assert.equal(env.fetch(`http://127.0.0.1:${await hostPort(env, d, ['-f', 'fig.yml', '-p', 'fig', 'port', 'web', '80'])}/`), 'hello from the bind mount\n');
      // web reaches db by its link name.
      assert.equal(ok(await c(['exec', '-T', 'web', 'wget', '-qO-', 'http://db/']), 'exec'), 'db-content\n');

      ok(await c(['stop', 'web']), 'stop web');
      assert.deepEqual(states(ok(await c(['ps', '-a', '--format', 'json']), 'ps -a')), { 'fig-db-1': 'running', 'fig-web-1': 'exited' });
      assert.deepEqual(ok(await c(['ps', '--services']), 'ps --services'), 'db\n');
      ok(await c(['start', 'web']), 'start web');
      assert.equal(env.fetch(`http://127.0.0.1:${await hostPort(env, d, ['-f', 'fig.yml', '-p', 'fig', 'port', 'web', '80'])}/`), 'hello from the bind mount\n');

      ok(await c(['scale', 'web=3']), 'scale web=3');
      assert.deepEqual(states(ok(await c(['ps', '--format', 'json']), 'ps')), { 'fig-db-1': 'running', 'fig-web-1': 'running', 'fig-web-2': 'running', 'fig-web-3': 'running' });
      const port3 = await hostPort(env, d, ['-f', 'fig.yml', '-p', 'fig', 'port', '--index', '3', 'web', '80']);
      assert.equal(env.fetch(`http://127.0.0.1:${port3}/`), 'hello from the bind mount\n');
      assert.equal(ok(await c(['exec', '-T', '--index', '2', 'web', 'wget', '-qO-', 'http://db/']), 'exec --index 2'), 'db-content\n');
      const table = ok(await c(['ps']), 'ps').split('\n');
      assert.match(table[0]!, /^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS$/);
      assert.equal(table.filter((l) => /^fig-web-\d\s+busybox\s+"sh -c 'echo web up;…"\s+web\s/.test(l)).length, 3);
      assert.match(table.find((l) => l.startsWith('fig-web-3'))!, new RegExp(`0\\.0\\.0\\.0:${port3}->80/tcp`));

      const logs = ok(await c(['logs', '--no-color']), 'logs');
      assert.match(logs, /^db-1 +\| db ready$/m);
      for (const n of [1, 2, 3]) assert.match(logs, new RegExp(`^web-${n} +\\| web up$`, 'm'));
      assert.equal(ok(await c(['logs', '--no-log-prefix', 'db']), 'logs db'), 'db ready\n');

      ok(await c(['down']), 'down');
      assert.deepEqual(await resources(env, 'fig'), { containers: [], networks: [], volumes: [] });
    });

    test('a compose-spec project on bridge networks: default and extra network, aliases, published port, down -v', { todo: todo('bridge') }, async () => {
      const d = env.project('shop', { 'compose.yaml': SHOP_YML });
      ok(await env.compose(d, ['up', '-d']), 'up -d');
      assert.deepEqual(await resources(env, 'shop'), { containers: ['shop-db-1 running', 'shop-web-1 running'], networks: ['shop_back', 'shop_default'], volumes: ['shop_content'] });
      assert.equal(env.fetch('http://127.0.0.1:8080/'), 'hello\n');
      // web reaches db by service name on the shared network; a one-off container by its alias.
      assert.equal(ok(await env.compose(d, ['exec', '-T', 'web', 'wget', '-qO-', 'http://db/']), 'exec web to db'), 'ok\n');
      assert.equal(ok(await env.compose(d, ['run', '--rm', '-T', 'client']), 'run --rm client'), 'ok\n');
      assert.deepEqual((await resources(env, 'shop')).containers, ['shop-db-1 running', 'shop-web-1 running']);
      ok(await env.compose(d, ['down', '-v']), 'down -v');
      assert.deepEqual(await resources(env, 'shop'), { containers: [], networks: [], volumes: [] });
    });

    hostnetScenarios(() => env);
    verbScenarios(() => env, todo);

    test('invalid projects are refused before anything is created', async () => {
      const d = env.project('broken', {
        'ports.yml': 'services:\n  web:\n    image: busybox\n    ports:\n      - "eighty"\n',
        'cycle.yml': 'services:\n  a: {image: busybox, depends_on: [b]}\n  b: {image: busybox, depends_on: [a]}\n',
        'required.yml': 'services:\n  a: {image: "busybox:${TAG:?TAG must be set}"}\n',
        'unknown.yml': 'services:\n  a: {image: busybox, links: [ghost]}\n',
        'envfile.yml': 'services:\n  a: {image: busybox, env_file: ./missing.env}\n',
      });
      const cases: [string, RegExp][] = [
        ['ports.yml', /^validating .*ports\.yml: services\.web\.ports\[0\] invalid port "eighty" \(line 5\)\n$/],
        ['cycle.yml', /^dependency cycle detected: a -> b -> a\n$/],
        ['required.yml', /^.*required\.yml: error while interpolating services\.a\.image: required variable TAG is missing a value: TAG must be set \(line 2\)\n$/],
        ['unknown.yml', /^service "a" links to undefined service "ghost": invalid compose project\n$/],
        ['envfile.yml', /^services\.a\.env_file: env file .*missing\.env not found\n$/],
      ];
      for (const [file, re] of cases) {
        const r = await env.compose(d, ['-f', file, '-p', 'broken', 'up', '-d']);
        assert.equal(r.code, 1, `${file}: ${r.stderr}`);
        assert.match(r.stderr, re);
      }
      assert.deepEqual(await resources(env, 'broken'), { containers: [], networks: [], volumes: [] });
    });

    test('the fig project with docker-compose 1.29.2 on the same engine', { todo: todo('bridge') }, async () => {
      const d = env.project('figv1', FIG_FILES);
      const c = (args: string[]) => env.composeV1(d, ['-f', 'fig.yml', '-p', 'figv1', ...args]);
      ok(await c(['up', '-d']), 'docker-compose up -d');
      const ps = ok(await c(['ps']), 'docker-compose ps');
      assert.match(ps, /^figv1_db_1 .* Up/m);
      assert.match(ps, /^figv1_web_1 .* Up .*->80\/tcp/m);
      const port = ok(await c(['port', 'web', '80']), 'docker-compose port').trim();
      assert.equal(env.fetch(`http://127.0.0.1:${port.split(':').pop()}/`), 'hello from the bind mount\n');
      assert.match(ok(await c(['logs', '--no-color', 'db']), 'docker-compose logs'), /db_1 +\| db ready/);
      ok(await c(['up', '-d', '--scale', 'web=3']), 'docker-compose up -d --scale web=3');
      ok(await c(['stop', 'web']), 'docker-compose stop web');
      // dock compose reads the same labels.
      assert.deepEqual(states(ok(await env.compose(d, ['-p', 'figv1', '-f', 'fig.yml', 'ps', '-a', '--format', 'json']), 'dock compose ps')), {
        figv1_db_1: 'running',
        figv1_web_1: 'exited',
        figv1_web_2: 'exited',
        figv1_web_3: 'exited',
      });
      ok(await c(['start', 'web']), 'docker-compose start web');
      assert.equal((ok(await c(['ps']), 'ps').match(/^figv1_web_\d .* Up /gm) ?? []).length, 3);
      ok(await c(['down', '-v']), 'docker-compose down -v');
      assert.deepEqual(await resources(env, 'figv1'), { containers: [], networks: [], volumes: [] });
    });
  });
}
