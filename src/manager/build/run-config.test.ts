// Small pure pieces: Go formatting, ports, signals, WORKDIR, the healthcheck history text, the
// POST /build query, -t validation, and ADD's downloader against a local HTTP server.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { httpDownloader } from './download';
import { formatDuration, goQuote, goQuoteRune, goQuoteSlice, parseDuration } from './go-format';
import { parseBuildQuery, sanitizeTags } from './request';
import { applyChanges } from './changes';
import { healthText, mergeHealth, normalizeWorkdir, parsePorts, parseSignal } from './run-config';

test('Go formatting: strconv.Quote, QuoteRune, %q of a slice, Duration', () => {
  assert.equal(goQuote('a"b\\c\n\u001b\u00e9'), '"a\\"b\\\\c\\n\\x1bé"');
  assert.equal(goQuoteRune(2), "'\\x02'");
  assert.equal(goQuoteRune(65), "'A'");
  assert.equal(goQuoteSlice(['/bin/sh', '-c', 'echo "hi"']), '["/bin/sh" "-c" "echo \\"hi\\""]');
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(5e9), '5s');
  assert.equal(formatDuration(1.5e9), '1.5s');
  assert.equal(formatDuration(90e9), '1m30s');
  assert.equal(formatDuration(3600e9), '1h0m0s');
  assert.equal(formatDuration(1e6), '1ms');
  assert.equal(formatDuration(1500), '1.5µs');
  assert.equal(parseDuration('1h30m'), 5400_000_000_000n);
  assert.equal(parseDuration('1.5s'), 1_500_000_000n);
  assert.equal(parseDuration('250us'), 250_000n);
  assert.throws(() => parseDuration('5'), { message: 'time: missing unit in duration "5"' });
  assert.throws(() => parseDuration('5x'), { message: 'time: unknown unit "x" in duration "5x"' });
  assert.throws(() => parseDuration(''), { message: 'time: invalid duration ""' });
});

test('EXPOSE specs, STOPSIGNAL names, WORKDIR joins', () => {
  assert.deepEqual(parsePorts(['80', '53/udp', '8000-8002/TCP', '1.2.3.4:8080:90']), ['80/tcp', '53/udp', '8000/tcp', '8001/tcp', '8002/tcp', '90/tcp']);
  assert.throws(() => parsePorts(['abc']), { message: 'Invalid containerPort: abc' });
  assert.throws(() => parsePorts(['80/xyz']), { message: 'Invalid proto: xyz' });
  assert.throws(() => parsePorts(['9-8']), { message: 'Invalid containerPort: 9-8' });
  assert.equal(parseSignal('SIGQUIT'), 3);
  assert.equal(parseSignal('term'), 15);
  assert.equal(parseSignal('9'), 9);
  assert.equal(parseSignal('RTMIN+3'), 37);
  assert.throws(() => parseSignal('FOO'), { message: 'Invalid signal: FOO' });
  assert.throws(() => parseSignal('0'), { message: 'Invalid signal: 0' });
  assert.equal(normalizeWorkdir('', 'rel'), '/rel');
  assert.equal(normalizeWorkdir('/a', 'b/../c'), '/a/c');
  assert.equal(normalizeWorkdir('/a', '/x/../y'), '/x/../y');
});

test('the healthcheck as history prints it, and the merge with the parent\'s', () => {
  assert.equal(healthText({ Test: ['CMD-SHELL', 'wget -q localhost || exit 1'], Interval: 5e9, Timeout: 3e9, StartPeriod: 1e9, Retries: 2 }), '&{["CMD-SHELL" "wget -q localhost || exit 1"] "5s" "3s" "1s" \'\\x02\'}');
  assert.equal(healthText({ Test: ['NONE'] }), '&{["NONE"] "0s" "0s" "0s" \'\\x00\'}');
  assert.deepEqual(mergeHealth({ Test: ['NONE'] }, { Test: ['CMD', 'x'], Interval: 5e9, Retries: 2 }), { Test: ['NONE'], Interval: 5e9, Retries: 2 });
});

test('POST /build query as the docker CLI 28 sends it', () => {
  const q = new URLSearchParams(
    'dockerfile=sub%2FDockerfile&t=a%3A1&t=b&version=1&q=1&nocache=1&pull=1&rm=0&buildargs=%7B%22X%22%3A%2242%22%2C%22Y%22%3Anull%7D&labels=%7B%22l%22%3A%22v%22%7D&target=t1&platform=linux%2Famd64&networkmode=host&extrahosts=h%3A1.2.3.4&shmsize=67108864&memory=1000&cachefrom=%5B%22x%22%5D',
  );
  const o = parseBuildQuery(q);
  assert.deepEqual(
    [o.dockerfile, o.tags, o.quiet, o.noCache, o.pull, o.remove, o.forceRemove, o.buildArgs, o.labels, o.target, o.platform, o.networkMode, o.extraHosts, o.shmSize, o.resources, o.cacheFrom],
    ['sub/Dockerfile', ['a:1', 'b'], true, true, true, false, false, { X: '42', Y: null }, { l: 'v' }, 't1', 'linux/amd64', 'host', ['h:1.2.3.4'], 67108864, { memory: 1000 }, ['x']],
  );
  const d = parseBuildQuery(new URLSearchParams(''));
  assert.deepEqual([d.dockerfile, d.remove, d.forceRemove], ['Dockerfile', true, false]);
  assert.equal(parseBuildQuery(new URLSearchParams('forcerm=1&rm=0')).remove, true);
  assert.throws(() => parseBuildQuery(new URLSearchParams('version=2')), /BuildKit builder \(version=2\) is not supported/);
  assert.throws(() => parseBuildQuery(new URLSearchParams('buildargs=%7Bx')), /^.*error reading build args/);
  assert.throws(() => parseBuildQuery(new URLSearchParams('squash=1')), { message: 'squash is only supported with experimental mode' });
});

test('-t: normalised, deduplicated, digests refused', () => {
  assert.deepEqual(sanitizeTags(['x', 'x:latest', 'docker.io/library/x', 'reg:5000/y:2', '']).map((r) => `${r.domain}/${r.path}:${r.tag}`), ['docker.io/library/x:latest', 'reg:5000/y:2']);
  assert.throws(() => sanitizeTags([`x@sha256:${'a'.repeat(64)}`]), { message: 'build tag cannot contain a digest' });
  assert.throws(() => sanitizeTags(['UPPER']), { message: 'invalid reference format: repository name (library/UPPER) must be lowercase' });
});

test('ADD <url>: name from the path or Content-Disposition, mode 0600, mtime from Last-Modified, dockerd\'s HTTP errors', async () => {
  const server = http.createServer((req, res) => {
    if (req.url === '/files/app.tgz') {
      res.setHeader('Last-Modified', 'Wed, 21 Oct 2015 07:28:00 GMT');
      res.end('payload');
    } else if (req.url === '/download/') {
      res.setHeader('Content-Disposition', 'attachment; filename="named.txt"');
      res.end('named');
    } else if (req.url === '/bare/') res.end('bare');
    else {
      res.statusCode = 404;
      res.end('no such file\n');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'build-dl-test-'));
  try {
    const dl = httpDownloader(dir);
    const a = await dl(`http://127.0.0.1:${port}/files/app.tgz`);
    assert.equal(a.filename, 'app.tgz');
    const file = path.join(a.source.root, a.path);
    assert.equal(fs.readFileSync(file, 'utf8'), 'payload');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(file).mtime.toISOString(), '2015-10-21T07:28:00.000Z');
    assert.equal((await dl(`http://127.0.0.1:${port}/download/`)).filename, 'named.txt');
    const bare = await dl(`http://127.0.0.1:${port}/bare/`);
    assert.deepEqual([bare.filename, bare.path], ['', '__unnamed__']);
    await assert.rejects(dl(`http://127.0.0.1:${port}/missing`), { message: `failed to GET http://127.0.0.1:${port}/missing with status 404 Not Found: no such file` });
  } finally {
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('commit/import --change: dockerd\'s result and errors (checked with docker import -c)', () => {
  assert.deepEqual(applyChanges({}, ['WORKDIR rel', 'ENV A=1 B=$A', 'EXPOSE 80', 'CMD echo']), { ExposedPorts: { '80/tcp': {} }, Env: ['A=1', 'B='], Cmd: ['/bin/sh', '-c', 'echo'], WorkingDir: '/rel' });
  assert.deepEqual(applyChanges({ Cmd: ['sh'] }, ['ENTRYPOINT ["top"]']), { Cmd: null, Entrypoint: ['top'] });
  assert.deepEqual(applyChanges({ Cmd: ['sh'] }, ['CMD ["x"]', 'ENTRYPOINT ["top"]']).Cmd, ['x']);
  assert.throws(() => applyChanges({}, ['FROM x']), { message: 'from is not a valid change command' });
  assert.throws(() => applyChanges({}, ['RUN x']), { message: 'run is not a valid change command' });
  assert.throws(() => applyChanges({}, ['ENV A']), { message: 'ENV must have two arguments' });
});
