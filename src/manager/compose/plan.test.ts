import assert from 'node:assert/strict';
import { test } from 'node:test';
import { container, observed, projectOf } from './fixtures';
import { planDown, planResources, planUp } from './plan';

const YAML = `
name: app
services:
  web:
    image: web
    ports: ["80"]
    depends_on:
      db: {condition: service_healthy}
    volumes: [data:/data]
  db:
    image: db
    stop_grace_period: 3s
volumes:
  data: {}
`;

test('a fresh project: network and volume, then db, its health, then web', () => {
  const p = projectOf(YAML);
  const { plan } = planUp(p, observed([]));
  assert.equal(
    plan.toString(),
    [
      '[] -> #1 CreateNetwork network:default (app_default), not found',
      '[] -> #2 CreateVolume volume:data (app_data), not found',
      '[1] -> #3 CreateContainer service:db:1 (app-db-1), not found',
      '[3] -> #4 StartContainer container:app-db-1, created',
      '[1,2,3] -> #5 CreateContainer service:web:1 (app-web-1), not found',
      '[4] -> #6 WaitDependency service:db service_healthy (for web), depends_on service_healthy',
      '[4,5,6] -> #7 StartContainer container:app-web-1, created',
      '',
    ].join('\n'),
  );
});

test('nothing to do when everything runs with the same configuration', () => {
  const p = projectOf(YAML);
  const o = observed([container(p, 'db', 1), container(p, 'web', 1)], ['app_default'], ['app_data'], 'app');
  const { plan } = planUp(p, o);
  assert.equal(plan.toString(), '');
});

test('a stopped container is started; a changed configuration recreates (and only that service)', () => {
  const p = projectOf(YAML);
  const o = observed([container(p, 'db', 1, { state: 'exited' }), container(p, 'web', 1, { hash: 'stale' })], ['app_default'], ['app_data']);
  const web = o.containers[1]!;
  const lines = planUp(p, o).plan.toString().split('\n');
  assert.deepEqual(lines, [
    '[] -> #1 StartContainer container:app-db-1, exited',
    `[] -> #2 CreateContainer service:web:1 (${web.id.slice(0, 12)}_app-web-1), config changed`,
    '[2] -> #3 StopContainer container:app-web-1, replaced',
    '[3] -> #4 RemoveContainer container:app-web-1, replaced',
    '[4] -> #5 RenameContainer container:#2 -> app-web-1, replaced',
    '[1] -> #6 WaitDependency service:db service_healthy (for web), depends_on service_healthy',
    '[1,5,6] -> #7 StartContainer container:app-web-1, recreated',
    '',
  ]);
});

test('--no-recreate keeps a stale container; --force-recreate replaces a current one', () => {
  const p = projectOf(YAML);
  const o = observed([container(p, 'db', 1), container(p, 'web', 1, { hash: 'stale' })], ['app_default'], ['app_data']);
  assert.equal(planUp(p, o, { recreate: 'never' }).plan.toString(), '');
  const forced = planUp(p, o, { recreate: 'force', services: ['db'] }).plan.toString();
  assert.match(forced, /CreateContainer service:db:1 \(\w{12}_app-db-1\), forced/);
  assert.doesNotMatch(forced, /service:web/);
});

test('a changed image recreates', () => {
  const p = projectOf(YAML);
  const o = observed([container(p, 'db', 1, { imageId: 'sha256:old' }), container(p, 'web', 1)], ['app_default'], ['app_data']);
  assert.match(planUp(p, o, { images: { db: 'sha256:new', web: 'sha256:img' } }).plan.toString(), /service:db:1 .*, image changed/);
});

test('scale up numbers new containers after the highest; scale down removes the highest', () => {
  const p = projectOf(YAML);
  const base = [container(p, 'db', 1), container(p, 'web', 1), container(p, 'web', 3)];
  const up = planUp(p, observed(base, ['app_default'], ['app_data']), { scale: { web: 4 }, services: ['web'], noDeps: true }).plan.toString();
  assert.equal(up, ['[] -> #1 CreateContainer service:web:4 (app-web-4), scale up', '[1] -> #2 StartContainer container:app-web-4, created', '[] -> #3 CreateContainer service:web:5 (app-web-5), scale up', '[3] -> #4 StartContainer container:app-web-5, created', ''].join('\n'));
  const down = planUp(p, observed(base, ['app_default'], ['app_data']), { scale: { web: 1 }, services: ['web'], noDeps: true }).plan.toString();
  assert.equal(down, ['[] -> #1 StopContainer container:app-web-3, scale down', '[1] -> #2 RemoveContainer container:app-web-3, scale down', ''].join('\n'));
});

test('orphans are reported, and removed with --remove-orphans; one-off containers are not orphans', () => {
  const p = projectOf(YAML);
  const o = observed([container(p, 'db', 1), container(p, 'web', 1), container(p, 'old', 1, { state: 'exited' }), container(p, 'web', 0, { oneoff: true, name: 'app-web-run-1' })], ['app_default'], ['app_data']);
  const kept = planUp(p, o);
  assert.deepEqual(kept.orphans.map((c) => c.name), ['app-old-1']);
  assert.equal(kept.plan.toString(), '');
  const removed = planUp(p, o, { removeOrphans: true });
  assert.deepEqual(removed.orphans, []);
  assert.equal(removed.plan.toString(), '[] -> #1 RemoveContainer container:app-old-1, orphan\n');
});

test('--no-deps leaves dependencies out; an explicit service pulls them in otherwise', () => {
  const p = projectOf(YAML);
  assert.doesNotMatch(planUp(p, observed([]), { services: ['web'], noDeps: true }).plan.toString(), /db/);
  assert.match(planUp(p, observed([]), { services: ['web'] }).plan.toString(), /service:db:1/);
  assert.throws(() => planUp(p, observed([]), { services: ['nope'] }), /no such service: nope/);
});

test('an external network or volume must exist', () => {
  const p = projectOf('services:\n  a:\n    image: i\n    networks: [ext]\nnetworks:\n  ext: {external: true, name: shared}\n');
  assert.throws(() => planUp(p, observed([])), /network shared declared as external, but could not be found/);
  assert.equal(planUp(p, observed([], ['shared'])).plan.toString(), '[] -> #1 CreateContainer service:a:1 (proj-a-1), not found\n[1] -> #2 StartContainer container:proj-a-1, created\n');
});

test('the v1 layout recreates a container linked to a recreated one', () => {
  const p = projectOf('web: {image: w, links: [db]}\ndb: {image: d, environment: [X=2]}\n');
  const o = observed([container(p, 'db', 1, { hash: 'stale' }), container(p, 'web', 1)]);
  const text = planUp(p, o).plan.toString();
  assert.match(text, /service:db:1 .*config changed/);
  assert.match(text, /service:web:1 .*dependency recreated/);
});

test('down: dependents stop first, then containers go, then networks and (with -v) volumes', () => {
  const p = projectOf(YAML);
  const o = observed([container(p, 'db', 1), container(p, 'web', 1), container(p, 'web', 2, { state: 'exited' })], ['app_default', 'bridge'], ['app_data'], 'app');
  o.networks.get('bridge')!.Labels = {};
  assert.equal(
    planDown(p, o, { volumes: true }).plan.toString(),
    [
      '[] -> #1 StopContainer container:app-web-1, down',
      '[1] -> #2 RemoveContainer container:app-web-1, down',
      '[] -> #3 RemoveContainer container:app-web-2, down',
      '[1] -> #4 StopContainer container:app-db-1, down',
      '[4] -> #5 RemoveContainer container:app-db-1, down',
      '[2,3,5] -> #6 RemoveNetwork network:app_default, down',
      '[2,3,5] -> #7 RemoveVolume volume:app_data, down -v',
      '',
    ].join('\n'),
  );
  assert.equal(planDown(p, o, { services: ['web'], volumes: true }).plan.toString(), ['[] -> #1 StopContainer container:app-web-1, down', '[1] -> #2 RemoveContainer container:app-web-1, down', '[] -> #3 RemoveContainer container:app-web-2, down', ''].join('\n'));
  const byName = planDown('app', o).plan.toString();
  assert.match(byName, /RemoveContainer container:app-db-1/);
  assert.doesNotMatch(byName, /RemoveVolume/);
});

test('planResources: only what a one-off container of a service needs', () => {
  const p = projectOf(YAML);
  assert.equal(planResources(p, observed([]), ['web']).toString(), '[] -> #1 CreateNetwork network:default (app_default), not found\n[] -> #2 CreateVolume volume:data (app_data), not found\n');
  assert.equal(planResources(p, observed([], ['app_default'], ['app_data']), ['web']).toString(), '');
});
