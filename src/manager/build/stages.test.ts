// Stage graph and ARG scoping: target, skipped stages, dependency layers, COPY --from resolution,
// meta ARGs, build-arg overrides, ENV over ARG, proxies, the unused-arg warning.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BuildArgs } from './build-args';
import { toDockerfile } from './instructions';
import { parseDockerfile } from './parser';
import { findStage, planStages } from './stages';

const df = (s: string) => toDockerfile(parseDockerfile(s));

const MULTI = `ARG BASE=busybox
FROM $BASE AS a
RUN a
FROM busybox AS b
RUN b
FROM a AS c
COPY --from=b /x /x
FROM busybox AS unused
RUN never
FROM scratch
COPY --from=c /x /x
COPY --from=1 /y /y
`;

test('the default target is the last stage; unneeded stages are skipped; layers allow parallel builds', () => {
  const p = planStages(df(MULTI), '', {});
  assert.equal(p.target, 4);
  assert.deepEqual(p.build, [0, 1, 2, 4]);
  assert.deepEqual(p.layers, [[0, 1], [2], [4]]);
  assert.deepEqual(p.nodes.map((n) => n.deps), [[], [], [0, 1], [], [1, 2]]);
  assert.deepEqual(p.nodes[0]!.base, { kind: 'image', name: 'busybox' });
  assert.deepEqual(p.nodes[2]!.base, { kind: 'stage', index: 0 });
  assert.deepEqual(p.nodes[4]!.base, { kind: 'scratch' });
});

test('--target stops at a stage, case-insensitively; a missing one is an error in dockerd\'s words', () => {
  assert.deepEqual(planStages(df(MULTI), 'B', {}).build, [1]);
  assert.deepEqual(planStages(df(MULTI), 'c', {}).build, [0, 1, 2]);
  assert.throws(() => planStages(df(MULTI), 'nope', {}), { message: 'failed to reach build target nope in Dockerfile' });
});

test('meta ARGs and build-args decide what FROM names', () => {
  const d = df('ARG V=a\nFROM busybox AS a\nFROM busybox AS b\nFROM $V\n');
  assert.deepEqual(planStages(d, '', {}).build, [0, 2]);
  assert.deepEqual(planStages(d, '', { V: 'b' }).build, [1, 2]);
  assert.deepEqual(planStages(d, '', { V: 'alpine' }).nodes[2]!.base, { kind: 'image', name: 'alpine' });
});

test('COPY --from with ARG/ENV of the stage, by index, and an image', () => {
  const d = df('FROM busybox AS one\nFROM busybox AS two\nFROM busybox\nARG S=one\nCOPY --from=$S / /\nENV T=1\nCOPY --from=$T / /\nCOPY --from=alpine / /\n');
  assert.deepEqual(planStages(d, '', {}).nodes[2]!.deps, [0, 1]);
  assert.deepEqual(planStages(d, '', { S: 'two' }).nodes[2]!.deps, [1]);
});

test('findStage: names before the current stage only; index rules and errors', () => {
  const { stages } = df('FROM x AS a\nFROM y AS b\nFROM z\n');
  assert.equal(findStage(stages, 'A', 2, false), 0);
  assert.equal(findStage(stages, 'b', 1, true), undefined);
  assert.equal(findStage(stages, '1', 2, true), 1);
  assert.equal(findStage(stages, '1', 2, false), undefined);
  assert.throws(() => findStage(stages, '2', 2, true), { message: 'invalid from flag value 2: refers to current build stage' });
  assert.throws(() => findStage(stages, '3', 2, true), { message: 'invalid from flag value 3: index out of bounds' });
});

test('BuildArgs: stage declarations, meta defaults, overrides, ENV beats ARG', () => {
  const g = new BuildArgs({ B: 'given', P: null });
  g.addArg('M', 'meta');
  g.addMetaArg('M', 'meta');
  const s = g.forStage();
  assert.deepEqual([...s.allAllowed()], []);
  s.addArg('M', undefined);
  s.addArg('B', 'default');
  s.addArg('C', undefined);
  s.addArg('D', 'd');
  assert.deepEqual(Object.fromEntries(s.allAllowed()), { M: 'meta', B: 'given', D: 'd' });
  assert.deepEqual(s.filterAllowed(['D=env', 'PATH=/bin']).sort(), ['B=given', 'M=meta']);
  assert.deepEqual(Object.fromEntries(g.allMeta()), { M: 'meta' });
});

test('BuildArgs: proxies are predefined and kept out of history unless declared', () => {
  const s = new BuildArgs({ HTTP_PROXY: 'http://p:1', no_proxy: 'x' }).forStage();
  assert.deepEqual(Object.fromEntries(s.allAllowed()), { HTTP_PROXY: 'http://p:1', no_proxy: 'x' });
  assert.equal(s.isReferencedOrNotBuiltin('HTTP_PROXY'), false);
  assert.equal(s.isReferencedOrNotBuiltin('OTHER'), true);
  s.addArg('HTTP_PROXY', undefined);
  assert.equal(s.isReferencedOrNotBuiltin('HTTP_PROXY'), true);
});

test('BuildArgs: the unused warning lists, sorted, what no ARG declared (proxies never)', () => {
  const g = new BuildArgs({ ZZ: null, AA: '2', UNUSED: '1', USED: 'x', HTTP_PROXY: 'p' });
  const s = g.forStage();
  s.addArg('USED', undefined);
  g.mergeReferenced(s);
  assert.equal(g.unusedWarning(), '[Warning] One or more build-args [AA UNUSED ZZ] were not consumed\n');
  g.reference('AA');
  g.reference('UNUSED');
  g.reference('ZZ');
  assert.equal(g.unusedWarning(), undefined);
});
