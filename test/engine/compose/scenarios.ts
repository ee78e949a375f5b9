// The compose scenarios, parametrized over the engine (dockerd as the reference, dock when it
// lands): the seeds' fig project driven by `dock compose` and by docker-compose 1.29.2, and a
// compose-spec project for networks, volumes, recreation, profiles, run/exec and errors.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ok, resources, setUp, states, type Env, type StartEngine } from './harness';
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
  fail:
    image: busybox
    profiles: [tools]
    command: sh -c 'echo bye; exit 3'
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

async function ids(env: Env, project: string): Promise<Record<string, string>> {
  const r = ok(await env.docker(['ps', '-a', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Names}} {{.ID}}']), 'docker ps');
  return Object.fromEntries(r.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
}

export function composeScenarios(kind: string, start: StartEngine, skip?: string): void {
  describe(`compose on ${kind}`, { skip }, () => {
    let env: Env;
    before(async () => {
      env = await setUp(start);
    });
    after(async () => {
      await env?.close();
    });

    test('the fig project with dock compose: up -d, stop web, start web, scale web=3, ps, logs, down', async () => {
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

    test('a compose-spec project: networks, aliases, healthy dependency, recreate only on change, named volume survives', async () => {
      const d = env.project('shop', { 'compose.yaml': SHOP_YML });
      assert.equal(ok(await env.compose(d, ['config', '--services']), 'config --services'), 'web\ndb\n');
      const up = await env.compose(d, ['up', '-d']);
      ok(up, 'up -d');
      // db was healthy before web started (compose's progress lines, in order).
      const lines = up.stderr.split('\n');
      assert.ok(lines.indexOf(' Container shop-db-1  Healthy') < lines.indexOf(' Container shop-web-1  Started'), up.stderr);
      assert.deepEqual(await resources(env, 'shop'), { containers: ['shop-db-1 running', 'shop-web-1 running'], networks: ['shop_back', 'shop_default'], volumes: ['shop_content'] });
      assert.equal(env.fetch('http://127.0.0.1:8080/'), 'hello\n');
      ok(await env.compose(d, ['exec', '-T', 'web', 'sh', '-c', 'echo kept > /www/marker']), 'exec marker');
      assert.equal(ok(await env.compose(d, ['exec', '-T', '-e', 'X=1', '-u', 'nobody', '-w', '/tmp', 'web', 'sh', '-c', 'echo $X $(id -u) $(pwd)']), 'exec -e -u -w'), '1 65534 /tmp\n');
      const anon = async () => ok(await env.docker(['inspect', '-f', '{{range .Mounts}}{{if eq .Destination "/anon"}}{{.Name}}{{end}}{{end}}', 'shop-web-1']), 'inspect').trim();
      const anon1 = await anon();
      const first = await ids(env, 'shop');

      const again = await env.compose(d, ['up', '-d']);
      ok(again, 'up -d (unchanged)');
      assert.deepEqual(await ids(env, 'shop'), first);
      assert.match(again.stderr, / Container shop-web-1 {2}Running/);

      ok(await env.compose(d, ['up', '-d'], { env: { GREETING: 'changed' } }), 'up -d (changed)');
      const second = await ids(env, 'shop');
      assert.equal(second['shop-db-1'], first['shop-db-1'], 'db kept');
      assert.notEqual(second['shop-web-1'], first['shop-web-1'], 'web recreated');
      assert.equal(env.fetch('http://127.0.0.1:8080/'), 'changed\n');
      assert.equal(ok(await env.compose(d, ['exec', '-T', 'web', 'cat', '/www/marker']), 'named volume'), 'kept\n');
      assert.equal(await anon(), anon1, 'the anonymous volume follows the recreated container');

      // A one-off container reaches db by its alias on the back network, and --rm removes it.
      const run = await env.compose(d, ['run', '--rm', '-T', 'client']);
      assert.equal(ok(run, 'run --rm client'), 'ok\n');
      assert.deepEqual((await resources(env, 'shop')).containers, ['shop-db-1 running', 'shop-web-1 running']);

      ok(await env.compose(d, ['down', '-v']), 'down -v');
      assert.deepEqual(await resources(env, 'shop'), { containers: [], networks: [], volumes: [] });
    });

    test('attached up: coloured prefixes, --exit-code-from, --abort-on-container-exit', async () => {
      const d = env.project('attached', { 'compose.yaml': SHOP_YML.replace('name: shop', 'name: att').replace('"8080:80"', '"8081:80"') });
      const r = await env.compose(d, ['--ansi', 'always', '--profile', 'tools', 'up', '--exit-code-from', 'client', 'client']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Attaching to client-1\n/);
      assert.match(r.stdout, /\x1b\[36mclient-1 +\| \x1b\[0mok\n/);
      assert.match(r.stdout, /client-1 exited with code 0/);
      const f = await env.compose(d, ['--profile', 'tools', 'up', '--abort-on-container-exit', 'fail']);
      assert.equal(f.code, 3, f.stderr);
      assert.match(f.stdout, /^fail-1 +\| bye$/m);
      assert.match(f.stderr, /Aborting on container exit\.\.\./);
      ok(await env.compose(d, ['--profile', 'tools', 'down', '-v']), 'down');
      assert.deepEqual(await resources(env, 'att'), { containers: [], networks: [], volumes: [] });
    });

    verbScenarios(() => env);

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

    test('the fig project with docker-compose 1.29.2 on the same engine', async () => {
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
