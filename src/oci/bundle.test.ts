// Tests of src/oci/bundle.ts: loadBundle's happy path and each of its error messages, and the JSON error
// locator against V8's own JSON.parse. Private temp bundles; needs no root.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RuntimeError } from '../errors/index';
import { findJsonError, loadBundle, parseJson } from './bundle';

let tmp: string;
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-bundle-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let n = 0;
function makeBundle(config: unknown | string, rootfs = true): string {
  const dir = path.join(tmp, `b${n++}`);
  fs.mkdirSync(dir);
  if (rootfs) fs.mkdirSync(path.join(dir, 'rootfs'));
  if (config !== undefined) {
    fs.writeFileSync(
      path.join(dir, 'config.json'),
      typeof config === 'string' ? config : JSON.stringify(config, null, 2),
    );
  }
  return dir;
}

const good = {
  ociVersion: '1.0.2-dev',
  root: { path: 'rootfs', readonly: true },
  process: { cwd: '/', args: ['sh'], env: ['PATH=/bin'] },
  hostname: 'box',
  linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }] },
};

function rejects(fn: () => unknown, kind: string, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RuntimeError, String(err));
    assert.equal(err.kind, kind);
    assert.equal(err.message, message);
    return true;
  });
}

test('loadBundle returns absolute bundle and rootfs paths and the spec', () => {
  const dir = makeBundle(good);
  const rel = path.relative(process.cwd(), dir);
  const b = loadBundle(rel);
  assert.equal(b.bundle, dir);
  assert.equal(b.rootfs, path.join(dir, 'rootfs'));
  assert.deepEqual(b.spec, good);
});

test('loadBundle keeps an absolute root.path as it is', () => {
  const other = fs.mkdtempSync(path.join(tmp, 'rootfs-'));
  const dir = makeBundle({ ...good, root: { path: other } }, false);
  assert.equal(loadBundle(dir).rootfs, other);
});

test('missing config.json is NotFound with the absolute path', () => {
  const dir = makeBundle(undefined);
  rejects(() => loadBundle(dir), 'NotFound', `open ${dir}/config.json: no such file or directory`);
  rejects(
    () => loadBundle(path.join(tmp, 'no-such-bundle')),
    'NotFound',
    `open ${tmp}/no-such-bundle/config.json: no such file or directory`,
  );
});

test('config.json that is a directory is InvalidArgument', () => {
  const dir = makeBundle(undefined);
  fs.mkdirSync(path.join(dir, 'config.json'));
  rejects(() => loadBundle(dir), 'InvalidArgument', `open ${dir}/config.json: is a directory`);
});

test('invalid JSON is located by line and column', () => {
  rejects(
    () => loadBundle(makeBundle('{\n  "ociVersion": "1.0.0",\n  "root": }\n')),
    'InvalidArgument',
    'config.json: invalid JSON: unexpected character "}" at line 3 column 11',
  );
  rejects(
    () => loadBundle(makeBundle('{\n  "ociVersion": "1.0.0"\n  "root": {}\n}')),
    'InvalidArgument',
    `config.json: invalid JSON: expected ',' or '}' after property value, got character "\\"" at line 3 column 3`,
  );
  rejects(
    () => loadBundle(makeBundle('')),
    'InvalidArgument',
    'config.json: invalid JSON: unexpected end of input at line 1 column 1',
  );
});

test('schema errors come from validateSpec', () => {
  rejects(
    () => loadBundle(makeBundle({ ...good, process: { cwd: '/', args: 'sh' } })),
    'InvalidArgument',
    'config.json: /process/args: must be array',
  );
});

test('semantic errors come from checkSpec, and options reach it', () => {
  rejects(
    () =>
      loadBundle(
        makeBundle({ ...good, linux: { namespaces: [{ type: 'pid' }, { type: 'pid' }] }, hostname: undefined }),
      ),
    'InvalidArgument',
    'config.json: /linux/namespaces/1: duplicate namespace "pid"',
  );
  const dir = makeBundle({ ...good, linux: { ...good.linux, cgroupsPath: 'system.slice:keel:x' } });
  rejects(
    () => loadBundle(dir),
    'InvalidArgument',
    'config.json: /linux/cgroupsPath: "system.slice:keel:x" is a systemd "slice:prefix:name" path, which needs --systemd-cgroup',
  );
  assert.equal(loadBundle(dir, { systemdCgroup: true }).spec.linux?.cgroupsPath, 'system.slice:keel:x');
  const warnings: string[] = [];
  loadBundle(makeBundle({ ...good, mounts: [{ destination: 'tmp', type: 'tmpfs', source: 'tmpfs' }] }), {
    warn: (m) => warnings.push(m),
  });
  assert.equal(warnings.length, 1);
  const noRootfs = makeBundle(good, false);
  rejects(
    () => loadBundle(noRootfs),
    'InvalidArgument',
    `config.json: /root/path: rootfs ${noRootfs}/rootfs does not exist`,
  );
});

test('findJsonError agrees with JSON.parse on what is valid', () => {
  const cases = [
    '{}',
    '[]',
    '0',
    '-0.5e+3',
    '"a\\u00e9\\n"',
    'true',
    ' null ',
    '{"a":[1,{"b":false}]}',
    '',
    ' ',
    '{',
    '{"a"}',
    '{"a":1,}',
    '[1,]',
    '[1 2]',
    '01',
    '1.',
    '.5',
    '+1',
    '"a',
    '"\\x"',
    '"\\u12"',
    '"a\tb"',
    "{'a':1}",
    '{a:1}',
    'tru',
    'nul',
    '{} {}',
    '[',
    '{"a":1}}',
    'NaN',
    '-',
    '1e',
    '"\u2028"',
  ];
  for (const c of cases) {
    let valid = true;
    try {
      JSON.parse(c);
    } catch {
      valid = false;
    }
    assert.equal(findJsonError(c) === null, valid, `disagreement on ${JSON.stringify(c)}`);
  }
  assert.deepEqual(findJsonError('[1,\n 2 x]'), {
    offset: 7,
    reason: "expected ',' or ']' after array element, got character \"x\"",
  });
  assert.deepEqual(findJsonError('{"a":"\\q"}'), { offset: 7, reason: 'bad escape in string' });
  assert.deepEqual(findJsonError('{} x'), { offset: 3, reason: 'unexpected character "x" after the document' });
});

test('parseJson names the file it parses', () => {
  assert.deepEqual(parseJson('{"a":1}', 'x.json'), { a: 1 });
  assert.throws(() => parseJson('{"a":\n\n  nope}', 'state.json'), {
    message: 'state.json: invalid JSON: unexpected character "n" at line 3 column 3',
  });
});
