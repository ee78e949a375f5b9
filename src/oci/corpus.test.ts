// Runs the spec's own schema test corpus (runtime-spec schema/test/<document>/{good,bad}/*.json, the files its
// schema/Makefile feeds to its validator) through our validators: every good file passes, every bad one fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RuntimeError } from '../errors/index';
import { parseJson } from './bundle';
import { validateFeatures, validateSpec, validateState } from './validate';

const specDir = path.resolve(__dirname, '../../spec');
const runtimeCorpus = path.join(specDir, 'runtime-spec/schema/test');

/** Which schema each corpus directory targets (runtime-spec schema/Makefile: config-schema.json for test/config, ...). */
const validators: Record<string, (v: unknown, file: string) => unknown> = {
  config: validateSpec,
  state: validateState,
  features: validateFeatures,
};

/** Where the bad files must fail: the pointer our error picker must land on (parse errors have none). */
const expectedBad: Record<string, string> = {
  'config/bad/freebsd-vnet-disable.json':
    'config/bad/freebsd-vnet-disable.json: /freebsd/jail/vnet: must be one of "new", "inherit"',
  'config/bad/invalid-json.json': 'config/bad/invalid-json.json: invalid JSON',
  'config/bad/linux-hugepage.json':
    'config/bad/linux-hugepage.json: /linux/resources/hugepageLimits/0/pageSize: must match pattern',
  'config/bad/linux-netdevice.json': 'config/bad/linux-netdevice.json: /linux/netDevices/eth0/name: must be string',
  'config/bad/linux-rdma.json': 'config/bad/linux-rdma.json: /linux/resources/rdma/mlx5_1/hcaHandles: must be integer',
  'features/bad/missing-ociVersionMax.json':
    "features/bad/missing-ociVersionMax.json: /: must have required property 'ociVersionMax'",
  'state/bad/invalid-json.json': 'state/bad/invalid-json.json: invalid JSON',
};

function corpusFiles(): Array<{ doc: string; verdict: 'good' | 'bad'; rel: string }> {
  const out: Array<{ doc: string; verdict: 'good' | 'bad'; rel: string }> = [];
  for (const doc of fs.readdirSync(runtimeCorpus).sort()) {
    for (const verdict of fs.readdirSync(path.join(runtimeCorpus, doc)).sort()) {
      assert.ok(verdict === 'good' || verdict === 'bad', `unexpected corpus directory ${doc}/${verdict}`);
      for (const f of fs.readdirSync(path.join(runtimeCorpus, doc, verdict)).sort()) {
        if (f.endsWith('.json')) out.push({ doc, verdict, rel: `${doc}/${verdict}/${f}` });
      }
    }
  }
  return out;
}

test('every corpus directory maps onto one of our validators', () => {
  const docs = fs.readdirSync(runtimeCorpus).sort();
  assert.deepEqual(docs, Object.keys(validators).sort());
});

test('runtime-spec corpus: good files pass, bad files fail with a precise message', () => {
  const files = corpusFiles();
  assert.ok(files.length >= 18, `corpus unexpectedly small: ${files.length} files`);
  const badSeen: string[] = [];
  for (const { doc, verdict, rel } of files) {
    const run = () => validators[doc]!(parseJson(fs.readFileSync(path.join(runtimeCorpus, rel), 'utf8'), rel), rel);
    if (verdict === 'good') {
      assert.doesNotThrow(run, `${rel} should be valid`);
      continue;
    }
    badSeen.push(rel);
    assert.throws(
      run,
      (err: unknown) => {
        assert.ok(err instanceof RuntimeError, `${rel}: ${String(err)}`);
        assert.equal(err.kind, 'InvalidArgument');
        const want = expectedBad[rel];
        assert.ok(want, `no expectation recorded for ${rel} (got "${err.message}")`);
        assert.ok(err.message.startsWith(want), `${rel}: got "${err.message}", want prefix "${want}"`);
        return true;
      },
      `${rel} should be rejected`,
    );
  }
  assert.deepEqual(badSeen.sort(), Object.keys(expectedBad).sort());
});

test('image-spec v1.1.1 ships no JSON corpus beside its schemas (its cases live in Go tests)', () => {
  // If a corpus directory ever appears in the copied schema dir, this test asks for it to be wired up above.
  const entries = fs.readdirSync(path.join(specDir, 'image-spec/schema'));
  assert.deepEqual(
    entries.filter((e) => !e.endsWith('.json')),
    [],
  );
});
