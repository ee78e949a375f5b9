// The JSON-message framing and text of the classic builder's output, stage ordering and quiet mode.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BuildOutput, errorMessage, goJson } from './output';

const ID = 'sha256:6649598a94d12a7a3d2440103c7a46bf41b757ee2f0ffeb02997851a189cca12';

test('messages are framed as dockerd writes them (Go escaping, \\r\\n, one write per message)', () => {
  const lines: string[] = [];
  const out = new BuildOutput((l) => lines.push(l));
  const w = out.writer(0);
  w.step(5, 9, 'RUN echo hi $X && echo err >&2');
  w.runningIn('c09c9fd56a45aaaa');
  w.stdout('hi 5\n');
  w.stderr('err\n');
  w.removing('c09c9fd56a45aaaa');
  w.result(ID);
  w.aux(ID);
  out.finish({ imageId: ID });
  // Captured from dockerd 20.10 (POST /build, see manager-interfaces.md §3.8).
  assert.deepEqual(lines, [
    '{"stream":"Step 5/9 : RUN echo hi $X \\u0026\\u0026 echo err \\u003e\\u00262"}\r\n',
    '{"stream":"\\n"}\r\n',
    '{"stream":" ---\\u003e Running in c09c9fd56a45\\n"}\r\n',
    '{"stream":"hi 5\\n"}\r\n',
    '{"stream":"\\u001b[91merr\\n\\u001b[0m"}\r\n',
    '{"stream":"Removing intermediate container c09c9fd56a45\\n"}\r\n',
    '{"stream":" ---\\u003e 6649598a94d1\\n"}\r\n',
    `{"aux":{"ID":"${ID}"}}\r\n`,
  ]);
  assert.equal(goJson({ stream: ' ---> \n' }), '{"stream":" ---\\u003e \\n"}');
});

test('a failing RUN ends the stream with errorDetail.code', () => {
  assert.equal(
    errorMessage("The command '/bin/sh -c false' returned a non-zero code: 1", 1),
    '{"errorDetail":{"code":1,"message":"The command \'/bin/sh -c false\' returned a non-zero code: 1"},"error":"The command \'/bin/sh -c false\' returned a non-zero code: 1"}\r\n',
  );
  assert.equal(errorMessage('boom'), '{"errorDetail":{"message":"boom"},"error":"boom"}\r\n');
});

test('text of later segments is held until the earlier ones end', () => {
  const lines: string[] = [];
  const out = new BuildOutput((l) => lines.push(JSON.parse(l).stream as string));
  const a = out.writer(1);
  const b = out.writer(2);
  out.writer(0).text('meta\n');
  b.text('b1\n');
  a.text('a1\n');
  assert.deepEqual(lines, ['meta\n']);
  out.end(0);
  assert.deepEqual(lines, ['meta\n', 'a1\n']);
  b.text('b2\n');
  a.text('a2\n');
  out.end(1);
  assert.deepEqual(lines, ['meta\n', 'a1\n', 'a2\n', 'b1\n', 'b2\n']);
  b.text('b3\n');
  assert.equal(lines.at(-1), 'b3\n');
});

test('finish drops segments after the failing one', () => {
  const lines: string[] = [];
  const out = new BuildOutput((l) => lines.push(l));
  out.end(0);
  out.writer(1).text('one\n');
  out.writer(2).text('two\n');
  out.writer(3).text('three\n');
  out.finish({ error: 'failed in two' }, 2);
  assert.deepEqual(
    lines.map((l) => JSON.parse(l) as Record<string, unknown>).map((m) => m.stream ?? m.error),
    ['one\n', 'two\n', 'failed in two'],
  );
});

test('quiet: only the id on success; everything held, then the error, on failure', () => {
  const ok: string[] = [];
  const q = new BuildOutput((l) => ok.push(l), { quiet: true });
  q.writer(0).step(1, 1, 'FROM x');
  q.writer(0).aux(ID);
  q.finish({ imageId: ID });
  assert.deepEqual(ok, [`{"stream":"${ID}\\n"}\r\n`]);
  const bad: string[] = [];
  const f = new BuildOutput((l) => bad.push(l), { quiet: true });
  f.writer(0).step(1, 1, 'RUN false');
  f.finish({ error: 'x', code: 1 });
  assert.equal(bad.length, 3);
  assert.match(bad[2]!, /"code":1/);
});
