import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { loadProject, type LoadOptions } from './load';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-load-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let seq = 0;

/** A fresh project directory with the given files. */
function dir(files: Record<string, string>, name = `proj${++seq}`): string {
  const d = path.join(root, name);
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
    fs.writeFileSync(path.join(d, f), text);
  }
  return d;
}

const load = (cwd: string, o: LoadOptions = {}) => loadProject({ cwd, env: {}, ...o });

/** Asserts that fn throws an error whose message (one line) matches re. */
function fails(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: Error) => {
    assert.match(e.message, re);
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    return true;
  });
}

test('discovery: compose.yaml is preferred, the override file is merged, parents are searched', () => {
  const d = dir({
    'compose.yaml': 'services:\n  a:\n    image: one\n',
    'docker-compose.yml': 'services:\n  b:\n    image: two\n',
    'compose.override.yaml': 'services:\n  a:\n    environment: [X=1]\n',
    'sub/deeper/.keep': '',
  });
  const p = load(path.join(d, 'sub/deeper'));
  assert.deepEqual(Object.keys(p.services), ['a']);
  assert.deepEqual(p.services.a!.environment, { X: '1' });
  assert.deepEqual(p.configFiles, [path.join(d, 'compose.yaml'), path.join(d, 'compose.override.yaml')]);
  assert.equal(p.workingDir, d);
  assert.equal(p.name, path.basename(d));
});

test('no file anywhere: compose v2 wording', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-none-'));
  try {
    fails(() => load(d), /^no configuration file provided: not found$/);
  } finally {
    fs.rmSync(d, { recursive: true });
  }
});

test('several -f files merge in order with compose rules', () => {
  const d = dir({
    'a.yml': [
      'services:',
      '  web:',
      '    image: web:1',
      '    command: run a',
      '    environment: {A: "1", B: "1"}',
      '    ports: ["80"]',
      '    volumes: ["./x:/data", "/cache"]',
      '    labels: [l1=a]',
      '    depends_on: [db]',
      '  db: {image: db}',
    ].join('\n'),
    'b.yml': [
      'services:',
      '  web:',
      '    image: web:2',
      '    command: [run, b]',
      '    environment: [B=2, C=3]',
      '    ports: ["443"]',
      '    volumes: ["./y:/data"]',
      '    labels: {l2: b}',
      '    depends_on: {db: {condition: service_healthy}}',
    ].join('\n'),
  });
  const p = load(d, { files: ['a.yml', 'b.yml'] });
  const w = p.services.web!;
  assert.equal(w.image, 'web:2');
  assert.deepEqual(w.command, ['run', 'b']);
  assert.deepEqual(w.environment, { A: '1', B: '2', C: '3' });
  assert.deepEqual(w.ports!.map((x) => x.target), [80, 443]);
  assert.deepEqual(w.volumes!.map((v) => `${v.source ?? ''}:${v.target}`), [`${d}/y:/data`, ':/cache']);
  assert.deepEqual(w.labels, { l1: 'a', l2: 'b' });
  assert.equal(w.depends_on!.db!.condition, 'service_healthy');
});

test('project name: -p, then COMPOSE_PROJECT_NAME, then name:, then the directory', () => {
  const d = dir({ 'compose.yaml': 'name: fromfile\nservices:\n  a: {image: x}\n' }, 'My.Dir_Name');
  assert.equal(load(d, { projectName: 'flag' }).name, 'flag');
  assert.equal(load(d, { env: { COMPOSE_PROJECT_NAME: 'envname' } }).name, 'envname');
  assert.equal(load(d).name, 'fromfile');
  const d2 = dir({ 'compose.yaml': 'services:\n  a: {image: x}\n' }, '-My.Dir_Name2');
  assert.equal(load(d2).name, 'mydir_name2');
  fails(() => load(d, { projectName: 'Bad.Name' }), /invalid project name "Bad\.Name": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number/);
});

test('--project-directory moves relative paths and the .env lookup', () => {
  const files = dir({ 'c.yml': 'services:\n  a:\n    image: "img:${TAG}"\n    volumes: [./data:/data]\n' });
  const proj = dir({ '.env': 'TAG=7\n' });
  const p = load(files, { files: ['c.yml'], projectDirectory: proj });
  assert.equal(p.workingDir, proj);
  assert.equal(p.services.a!.image, 'img:7');
  assert.equal(p.services.a!.volumes![0]!.source, path.join(proj, 'data'));
});

test('.env feeds interpolation, the process environment wins, --env-file replaces .env', () => {
  const d = dir({ '.env': 'A=fromdotenv\nB=fromdotenv\n', 'other.env': 'A=fromother\n', 'compose.yaml': 'services:\n  s:\n    image: "i"\n    environment: ["A=${A}", "B=${B-unset}", "C"]\n' });
  assert.deepEqual(load(d, { env: { B: 'fromos', C: 'c-os' } }).services.s!.environment, { A: 'fromdotenv', B: 'fromos', C: 'c-os' });
  assert.deepEqual(load(d, { envFiles: ['other.env'] }).services.s!.environment, { A: 'fromother', B: 'unset', C: null });
  fails(() => load(d, { envFiles: ['nope.env'] }), /couldn't find env file: .*nope\.env/);
});

test('env_file is read relative to the project, environment overrides it', () => {
  const d = dir({ 'vars.env': 'A=file\nB=file\n', 'compose.yaml': 'services:\n  s:\n    image: i\n    env_file: vars.env\n    environment: {B: env}\n' });
  assert.deepEqual(load(d).services.s!.environment, { A: 'file', B: 'env' });
});

test('profiles: services with profiles need an active profile or to be named', () => {
  const d = dir({ 'compose.yaml': 'services:\n  app: {image: a}\n  debug: {image: d, profiles: [dev]}\n  tools: {image: t, profiles: [ops]}\n' });
  assert.deepEqual(Object.keys(load(d).services), ['app']);
  assert.deepEqual(Object.keys(load(d, { profiles: ['dev'] }).services), ['app', 'debug']);
  assert.deepEqual(Object.keys(load(d, { env: { COMPOSE_PROFILES: 'dev,ops' } }).services), ['app', 'debug', 'tools']);
  assert.deepEqual(Object.keys(load(d, { services: ['tools'] }).services), ['app', 'tools']);
  const dep = dir({ 'compose.yaml': 'services:\n  app: {image: a, depends_on: [db]}\n  db: {image: d, profiles: [x]}\n' });
  fails(() => load(dep), /service "db" was pulled in as a dependency of service "app" but is not enabled by the active profiles/);
});

test('the fig / v1 layout: services at the top level, default bridge, links as dependencies', () => {
  const d = dir({ 'fig.yml': 'web:\n  image: busybox\n  links: [db]\n  net: bridge\n  ports: ["80"]\ndb:\n  image: busybox\n  log_driver: json-file\n' });
  const p = load(d, { files: ['fig.yml'] });
  assert.equal(p.legacy, true);
  assert.deepEqual(Object.keys(p.services).sort(), ['db', 'web']);
  assert.equal(p.services.web!.network_mode, 'bridge');
  assert.equal(p.services.db!.network_mode, 'bridge');
  assert.deepEqual(p.services.db!.logging, { driver: 'json-file' });
  assert.deepEqual(p.services.web!.depends_on, { db: { condition: 'service_started', required: true, restart: true } });
  assert.deepEqual(p.networks, {});
});

test('implicit default network and project-prefixed names; unused resources dropped', () => {
  const d = dir({ 'compose.yaml': 'services:\n  a:\n    image: i\n    volumes: [data:/d]\n  b:\n    image: i\n    networks: [back]\nnetworks:\n  back: {}\n  unused: {}\n  ext: {external: true}\nvolumes:\n  data: {}\n  named: {name: exact}\n' }, 'nets');
  const p = load(d);
  assert.deepEqual(p.networks, { back: { name: 'nets_back' }, default: { name: 'nets_default' } });
  assert.deepEqual(p.volumes, { data: { name: 'nets_data' } });
  assert.deepEqual(p.services.a!.networks, { default: null });
});

test('schema errors: path, reason and line', () => {
  const d = dir({ 'compose.yaml': 'services:\n  web:\n    image: x\n    ports:\n      - "not a port"\n' });
  assert.throws(() => load(d), (e: Error) => {
    assert.match(e.message, /^validating .*compose\.yaml: services\.web\.ports\[0\] invalid port "not a port" \(line 5\)$/);
    return true;
  });
  const d2 = dir({ 'compose.yaml': 'services:\n  web:\n    image: x\n    colour: red\n' });
  fails(() => load(d2), /services\.web\.colour additional property colour is not allowed \(line 4\)/);
  const d3 = dir({ 'compose.yaml': 'services:\n  web:\n    image: x\n    depends_on:\n      db: {condition: sometime}\n  db: {image: y}\n' });
  fails(() => load(d3), /services\.web\.depends_on\.db\.condition must be one of service_started, service_healthy, service_completed_successfully, not "sometime"/);
  const d4 = dir({ 'compose.yaml': 'services:\n  web:\n    image: x\n    scale: ${N}\n' });
  fails(() => load(d4, { env: { N: 'three' } }), /services\.web\.scale: invalid integer "three" \(line 4\)/);
  assert.equal(load(d4, { env: { N: '3' } }).services.web!.scale, 3);
});

test('YAML syntax errors name the file and the line', () => {
  const d = dir({ 'compose.yaml': 'services:\n  web:\n    image: [unclosed\n' });
  fails(() => load(d), /^parsing .*compose\.yaml: Flow sequence in block collection must be sufficiently indented and end with a \] \(line 4\)$/);
  const d2 = dir({ 'compose.yaml': 'services:\n  a: {image: x}\n  a: {image: y}\n' });
  fails(() => load(d2), /^parsing .*compose\.yaml: Map keys must be unique \(line 3\)$/);
});

test('semantic errors: one clear line each', () => {
  const cases: [string, RegExp][] = [
    ['services:\n  web: {image: x, depends_on: [nope]}\n', /service "web" depends on undefined service "nope": invalid compose project/],
    ['services:\n  web: {image: x, links: ["nope:alias"]}\n', /service "web" links to undefined service "nope"/],
    ['services:\n  web: {image: x, volumes_from: [nope]}\n', /service "web" takes volumes_from undefined service "nope"/],
    ['services:\n  web: {image: x, network_mode: "service:nope"}\n', /service "web" uses network_mode of undefined service "nope"/],
    ['services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [c]}\n  c: {image: x, depends_on: [a]}\n', /^dependency cycle detected: a -> b -> c -> a$/],
    ['services:\n  web:\n    image: "x:${TAG:?TAG must be set}"\n', /error while interpolating services\.web\.image: required variable TAG is missing a value: TAG must be set \(line 3\)/],
    ['services:\n  web: {image: x, env_file: missing.env}\n', /services\.web\.env_file: env file .*missing\.env not found/],
    ['services:\n  web: {image: x, networks: [nope]}\n', /service "web" refers to undefined network nope/],
    ['services:\n  web: {image: x, volumes: ["data:/d"]}\n', /service "web" refers to undefined volume data/],
    ['services:\n  web: {build: {}, container_name: c, scale: 2}\n', /can't set container_name and web as container name must be unique/],
    ['services:\n  web: {environment: [A=1]}\n', /service "web" has neither an image nor a build context specified/],
  ];
  for (const [text, re] of cases) {
    const d = dir({ 'compose.yaml': text });
    assert.throws(() => load(d), (e: Error) => {
      assert.match(e.message, re);
      assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
      return true;
    });
  }
});

test('an unreadable env_file is refused before anything happens', { skip: process.getuid?.() === 0 ? 'root reads everything' : undefined }, () => {
  const d = dir({ 'secret.env': 'A=1\n', 'compose.yaml': 'services:\n  web: {image: x, env_file: secret.env}\n' });
  fs.chmodSync(path.join(d, 'secret.env'), 0);
  fails(() => load(d), /env file .*secret\.env permission denied/);
});

test('an env_file that is a directory is refused with one line', () => {
  const d = dir({ 'envdir/.keep': '', 'compose.yaml': 'services:\n  web: {image: x, env_file: envdir}\n' });
  fails(() => load(d), /services\.web\.env_file: env file .*envdir is a directory/);
});
