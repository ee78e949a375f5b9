// Unit tests of src/oci/validate.ts: message shape (file: /pointer: reason), the error picker, and the image
// validators on hand-written documents modelled on the examples of image-spec manifest.md, image-index.md,
// config.md, descriptor.md and image-layout.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ErrorObject } from 'ajv';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { RuntimeError } from '../errors/index';
import {
  pickSchemaError,
  validateDescriptor,
  validateFeatures,
  validateImageConfig,
  validateImageIndex,
  validateImageLayout,
  validateImageManifest,
  validateSpec,
  validateState,
} from './validate';

function rejects(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RuntimeError);
    assert.equal(err.kind, 'InvalidArgument');
    assert.equal(err.message, message);
    return true;
  });
}

const minimal = () => ({ ociVersion: '1.0.0', root: { path: 'rootfs' }, process: { cwd: '/', args: ['sh'] } });

test('validateSpec returns the document when it is valid', () => {
  const doc = minimal();
  assert.equal(validateSpec(doc), doc);
});

test('validateSpec reports the JSON pointer of the offending value and ajv reason', () => {
  rejects(
    () => validateSpec({ ...minimal(), process: { cwd: '/', args: 'sh' } }),
    'config.json: /process/args: must be array',
  );
  rejects(
    () => validateSpec({ ...minimal(), process: { args: ['sh'] } }),
    "config.json: /process: must have required property 'cwd'",
  );
  rejects(() => validateSpec({ root: { path: 'r' } }), "config.json: /: must have required property 'ociVersion'");
  rejects(() => validateSpec([]), 'config.json: /: must be object');
  rejects(() => validateSpec(null, 'bundle/config.json'), 'bundle/config.json: /: must be object');
});

test('validateSpec sees through anyOf to the specific reason', () => {
  // linux.namespaces items are an anyOf of one $ref: the summary "must match a schema in anyOf" is skipped.
  rejects(
    () => validateSpec({ ...minimal(), linux: { namespaces: [{ type: 'pid' }, { type: 'bogus' }] } }),
    'config.json: /linux/namespaces/1/type: must be one of "mount", "pid", "network", "uts", "ipc", "user", "cgroup", "time"',
  );
  rejects(
    () => validateSpec({ ...minimal(), linux: { uidMappings: [{ containerID: 0, hostID: -1, size: 1 }] } }),
    'config.json: /linux/uidMappings/0/hostID: must be >= 0',
  );
});

test('pickSchemaError: summaries lose to specific errors, deepest wins, sibling type errors merge', () => {
  const e = (
    instancePath: string,
    keyword: string,
    message: string,
    params: Record<string, unknown> = {},
  ): ErrorObject => ({ instancePath, keyword, message, params, schemaPath: '#' }) as ErrorObject;
  assert.deepEqual(pickSchemaError([e('/a', 'anyOf', 'must match a schema in anyOf')]), {
    pointer: '/a',
    reason: 'must match a schema in anyOf',
  });
  assert.deepEqual(
    pickSchemaError([
      e('/a', 'type', 'must be string', { type: 'string' }),
      e('/a', 'type', 'must be object', { type: 'object' }),
      e('/a', 'anyOf', 'must match a schema in anyOf'),
    ]),
    { pointer: '/a', reason: 'must be string or object' },
  );
  assert.deepEqual(
    pickSchemaError([e('', 'required', "must have required property 'x'"), e('/b/0/c', 'minimum', 'must be >= 0')]),
    { pointer: '/b/0/c', reason: 'must be >= 0' },
  );
  assert.deepEqual(pickSchemaError([]), { pointer: '/', reason: 'is invalid' });
});

test('validateState and validateFeatures', () => {
  const state = { ociVersion: '1.3.0', id: 'c1', status: 'running', pid: 42, bundle: '/b' };
  assert.equal(validateState(state), state);
  rejects(
    () => validateState({ ...state, status: 'paused' }),
    'state.json: /status: must be one of "creating", "created", "running", "stopped"',
  );
  rejects(() => validateState({ ...state, pid: -1 }), 'state.json: /pid: must be >= 0');
  const features = { ociVersionMin: '1.0.0', ociVersionMax: '1.3.0', linux: { namespaces: ['pid', 'user'] } };
  assert.equal(validateFeatures(features), features);
  rejects(
    () => validateFeatures({ ...features, linux: { namespaces: ['pid', 'users'] } }),
    'features.json: /linux/namespaces/1: must be one of "mount", "pid", "network", "uts", "ipc", "user", "cgroup", "time"',
  );
});

const digest = 'sha256:' + 'a'.repeat(64);
const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 32654, digest };
const manifest = () => ({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: 7023, digest },
  layers: [layer],
  annotations: { 'com.example.key1': 'value1' },
});

test('validateImageManifest', () => {
  const m = manifest();
  assert.equal(validateImageManifest(m), m);
  rejects(() => validateImageManifest({ ...m, schemaVersion: 1 }), 'manifest: /schemaVersion: must be >= 2');
  rejects(() => validateImageManifest({ ...m, layers: [] }), 'manifest: /layers: must NOT have fewer than 1 items');
  rejects(
    () => validateImageManifest({ ...m, config: { ...m.config, digest: 'sha256:' } }),
    'manifest: /config/digest: must match pattern "^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$"',
  );
  rejects(
    () => validateImageManifest({ ...m, layers: [{ ...layer, size: '1' }] }),
    'manifest: /layers/0/size: must be integer',
  );
  const { config: _config, ...noConfig } = m;
  rejects(() => validateImageManifest(noConfig), "manifest: /: must have required property 'config'");
  rejects(() => validateImageManifest({ ...m, annotations: { k: 1 } }), 'manifest: /annotations/k: must be string');
});

test('validateImageIndex', () => {
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        size: 7143,
        digest,
        platform: { architecture: 'amd64', os: 'linux' },
      },
    ],
  };
  assert.equal(validateImageIndex(index), index);
  rejects(
    () => validateImageIndex({ ...index, manifests: [{ ...index.manifests[0]!, platform: { os: 'linux' } }] }),
    "index.json: /manifests/0/platform: must have required property 'architecture'",
  );
  rejects(() => validateImageIndex({ schemaVersion: 2 }), "index.json: /: must have required property 'manifests'");
  rejects(
    () => validateImageIndex({ ...index, manifests: [{ ...index.manifests[0]!, mediaType: 'not a media type' }] }),
    'index.json: /manifests/0/mediaType: must match pattern "^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$"',
  );
});

test('validateImageConfig checks date-time formats', () => {
  const config = {
    created: '2015-10-31T22:22:56.015925234Z',
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/bin'], Cmd: ['sh'], ExposedPorts: { '8080/tcp': {} } },
    rootfs: { type: 'layers', diff_ids: [digest] },
    history: [{ created: '2015-10-31T22:22:54.690851953Z', created_by: 'ADD file' }],
  };
  assert.equal(validateImageConfig(config), config);
  rejects(
    () => validateImageConfig({ ...config, created: 'yesterday' }),
    'config: /created: must match format "date-time"',
  );
  rejects(
    () => validateImageConfig({ ...config, rootfs: { type: 'tarball', diff_ids: [] } }),
    'config: /rootfs/type: must be one of "layers"',
  );
  rejects(
    () => validateImageConfig({ os: 'linux', rootfs: config.rootfs }),
    "config: /: must have required property 'architecture'",
  );
});

test('validateDescriptor checks url formats', () => {
  const d = { ...layer, urls: ['https://example.com/blob'] };
  assert.equal(validateDescriptor(d), d);
  rejects(() => validateDescriptor({ ...layer, urls: ['not a uri'] }), 'descriptor: /urls/0: must match format "uri"');
  rejects(
    () => validateDescriptor({ mediaType: layer.mediaType, size: 1 }),
    "descriptor: /: must have required property 'digest'",
  );
});

test('validateImageLayout', () => {
  assert.deepEqual(validateImageLayout({ imageLayoutVersion: '1.0.0' }), { imageLayoutVersion: '1.0.0' });
  rejects(
    () => validateImageLayout({ imageLayoutVersion: '2.0.0' }),
    'oci-layout: /imageLayoutVersion: must be one of "1.0.0"',
  );
  rejects(() => validateImageLayout({}), "oci-layout: /: must have required property 'imageLayoutVersion'");
});

test('a bundle of validate.ts carries no schema compiler and works on its own', () => {
  // The shipped binaries are esbuild bundles: prove that validate.ts pulls in only generated code plus
  // ajv's tiny runtime helpers, never ajv's compiler (ajv/dist/core, ajv/dist/compile) or ajv-draft-04.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-validate-bundle-'));
  try {
    const outfile = path.join(tmp, 'validate.js');
    const r = buildSync({
      entryPoints: [path.join(__dirname, 'validate.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile,
      metafile: true,
      logLevel: 'silent',
    });
    const modules = Object.keys(r.metafile.inputs).filter((k) => k.includes('node_modules/'));
    for (const m of modules) {
      assert.match(m, /node_modules\/(ajv\/dist\/runtime\/|ajv-formats\/dist\/formats\.js$|fast-deep-equal\/|fast-uri\/)/, m);
    }
    const loaded = require(outfile) as typeof import('./validate');
    assert.throws(() => loaded.validateSpec({ ociVersion: 1 }), { message: 'config.json: /ociVersion: must be string' });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('linux.rootfsPropagation: runc\'s recursive spellings are accepted as they are, anything else is refused', () => {
  for (const v of ['rshared', 'rslave', 'rprivate', 'runbindable', 'shared', 'private']) {
    const doc = { ...minimal(), linux: { rootfsPropagation: v } };
    assert.equal(validateSpec(doc).linux?.rootfsPropagation, v);
  }
  rejects(() => validateSpec({ ...minimal(), linux: { rootfsPropagation: 'rshard' } }), 'config.json: /linux/rootfsPropagation: must be one of "private", "shared", "slave", "unbindable"');
});
