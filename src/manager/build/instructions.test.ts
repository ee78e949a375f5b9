// Typed instructions and stages, and the errors dockerd 20.10 gives for bad ones (its wording, with
// the line; test/engine/build-dockerd.test.ts checks the same texts against a running dockerd).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toDockerfile, type Instruction } from './instructions';
import { DockerfileError, parseDockerfile } from './parser';

const df = (s: string) => toDockerfile(parseDockerfile(s));
const cmds = (s: string) => df(`FROM x\n${s}`).stages[0]!.commands;
type Of<K> = Instruction extends infer I ? (I extends { kind: infer KK } ? (K extends KK ? I : never) : never) : never;
const one = <K extends Instruction['kind']>(s: string, kind: K) => {
  const c = cmds(s)[0]!;
  assert.equal(c.kind, kind);
  return c as Of<K>;
};
const fails = (s: string, message: string) =>
  assert.throws(
    () => df(s),
    (e: unknown) => {
      assert.ok(e instanceof DockerfileError, String(e));
      assert.equal(e.message, message);
      return true;
    },
  );
const BK = 'Refer to https://docs.docker.com/go/buildkit/ to learn how to build images with BuildKit enabled';

test('stages: meta ARGs, names (lower-cased), platform, scratch', () => {
  const d = df('ARG A=1 B\nARG C\nFROM --platform=$P busybox AS Build\nRUN x\nFROM scratch\n');
  assert.deepEqual(d.metaArgs.map((a) => a.args), [[{ key: 'A', value: '1' }, { key: 'B' }], [{ key: 'C' }]]);
  assert.deepEqual(d.stages.map((s) => [s.index, s.name, s.baseName, s.platform, s.source, s.line, s.commands.length]), [
    [0, 'build', 'busybox', '$P', 'FROM --platform=$P busybox AS Build', 3, 1],
    [1, '', 'scratch', '', 'FROM scratch', 5, 0],
  ]);
});

test('RUN, CMD, ENTRYPOINT: shell and exec form', () => {
  assert.deepEqual(one('RUN echo  a', 'run'), { kind: 'run', source: 'RUN echo  a', line: 2, endLine: 2, cmdLine: ['echo  a'], prependShell: true, files: [] });
  assert.deepEqual(one('RUN ["a", "b"]', 'run').cmdLine, ['a', 'b']);
  assert.equal(one('RUN ["a"]', 'run').prependShell, false);
  assert.deepEqual(one('CMD', 'cmd').cmdLine, []);
  assert.equal(one('ENTRYPOINT []', 'entrypoint').cmdLine, null);
  assert.deepEqual(one('RUN <<EOF\nx\nEOF', 'run').files, [{ name: 'EOF', data: 'x\n', chomp: false }]);
});

test('ENV, LABEL, ARG, EXPOSE (sorted), VOLUME, USER, WORKDIR, STOPSIGNAL, MAINTAINER, SHELL', () => {
  assert.deepEqual(one('ENV A=1 B="2 3"', 'env').env, [{ key: 'A', value: '1' }, { key: 'B', value: '"2 3"' }]);
  assert.deepEqual(one('ENV A b c', 'env').env, [{ key: 'A', value: 'b c' }]);
  assert.deepEqual(one('LABEL a=b', 'label').labels, [{ key: 'a', value: 'b' }]);
  assert.deepEqual(one('ARG X Y=2', 'arg').args, [{ key: 'X' }, { key: 'Y', value: '2' }]);
  assert.deepEqual(one('EXPOSE 80 53/udp 8000-8001', 'expose').ports, ['53/udp', '80', '8000-8001']);
  assert.deepEqual(one('VOLUME ["/a", "/b"]', 'volume').volumes, ['/a', '/b']);
  assert.equal(one('USER 1:2', 'user').user, '1:2');
  assert.equal(one('WORKDIR rel/dir', 'workdir').path, 'rel/dir');
  assert.equal(one('STOPSIGNAL SIGQUIT', 'stopsignal').signal, 'SIGQUIT');
  assert.equal(one('MAINTAINER Jane <j@x>', 'maintainer').maintainer, 'Jane <j@x>');
  assert.deepEqual(one('SHELL ["/bin/bash", "-c"]', 'shell').shell, ['/bin/bash', '-c']);
});

test('HEALTHCHECK: options, shell and exec form, NONE', () => {
  assert.deepEqual(one('HEALTHCHECK --interval=5s --timeout=3s --start-period=1s --start-interval=2s --retries=2 CMD wget -q x || exit 1', 'healthcheck').health, {
    Test: ['CMD-SHELL', 'wget -q x || exit 1'],
    Interval: 5e9,
    Timeout: 3e9,
    StartPeriod: 1e9,
    StartInterval: 2e9,
    Retries: 2,
  });
  assert.deepEqual(one('HEALTHCHECK CMD ["true"]', 'healthcheck').health.Test, ['CMD', 'true']);
  assert.deepEqual(one('HEALTHCHECK none', 'healthcheck').health, { Test: ['NONE'] });
});

test('COPY/ADD: flags, heredoc sources, ONBUILD expression', () => {
  const c = one('COPY --from=build --chown=1:2 --chmod=755 --link a b /dst/', 'copy');
  assert.deepEqual([c.sources, c.dest, c.from, c.chown, c.chmod, c.link], [['a', 'b'], '/dst/', 'build', '1:2', '755', true]);
  const h = one('COPY <<-EOF /f\n\thello\nEOF', 'copy');
  assert.deepEqual([h.sources, h.contents], [[], [{ path: 'EOF', data: 'hello\n', expand: true }]]);
  assert.equal(one('ADD --chown=x src dst', 'add').chown, 'x');
  assert.equal(one('onbuild RUN echo hi', 'onbuild').expression, 'RUN echo hi');
});

test('errors in dockerd\'s words, with the line', () => {
  fails('FROM busybox\nFOO bar', 'dockerfile parse error line 2: unknown instruction: FOO');
  fails('FROM busybox\nONBUILD ONBUILD RUN x', 'dockerfile parse error line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  fails('FROM busybox\nONBUILD FROM x', "dockerfile parse error line 2: FROM isn't allowed as an ONBUILD trigger");
  fails('FROM busybox\nONBUILD MAINTAINER x', "dockerfile parse error line 2: MAINTAINER isn't allowed as an ONBUILD trigger");
  fails('FROM busybox AS 1x', 'dockerfile parse error line 1: invalid name for build stage: "1x", name can\'t start with a number or contain symbols');
  fails('FROM busybox a b c', 'dockerfile parse error line 1: FROM requires either one or three arguments');
  fails('FROM busybox\nENV', 'dockerfile parse error line 2: ENV requires at least one argument');
  fails('FROM busybox\nENV A', 'dockerfile parse error line 2: ENV must have two arguments');
  fails('FROM busybox\nCOPY a', 'dockerfile parse error line 2: COPY requires at least two arguments, but only one was provided. Destination could not be determined');
  fails('FROM busybox\nWORKDIR', 'dockerfile parse error line 2: WORKDIR requires exactly one argument');
  fails('FROM busybox\nSHELL /bin/sh -c', 'dockerfile parse error line 2: SHELL requires the arguments to be in JSON form');
  fails('FROM busybox\nHEALTHCHECK NONE x', 'dockerfile parse error line 2: HEALTHCHECK NONE takes no arguments');
  fails('FROM busybox\nHEALTHCHECK CMD', 'dockerfile parse error line 2: Missing command after HEALTHCHECK CMD');
  fails('FROM busybox\nHEALTHCHECK FOO x', 'dockerfile parse error line 2: Unknown type "FOO" in HEALTHCHECK (try CMD)');
  fails('FROM busybox\nHEALTHCHECK --interval=0.1ms CMD x', 'dockerfile parse error line 2: Interval "interval" cannot be less than 1ms');
  fails('FROM busybox\nHEALTHCHECK --interval=abc CMD x', 'dockerfile parse error line 2: time: invalid duration "abc"');
  fails('FROM busybox\nHEALTHCHECK --retries=0 CMD x', 'dockerfile parse error line 2: --retries must be at least 1 (not 0)');
  fails('FROM busybox\nARG =x', 'dockerfile parse error line 2: ARG names can not be blank');
  fails('FROM busybox\nVOLUME [""]', 'dockerfile parse error line 2: VOLUME specified can not be an empty string');
  fails('FROM busybox\nCOPY --bogus a b', 'dockerfile parse error line 2: Unknown flag: bogus');
  fails('FROM busybox\nCOPY --from a b', 'dockerfile parse error line 2: Missing a value on flag: from');
  fails('FROM busybox\nCOPY --from=a --from=b a b', 'dockerfile parse error line 2: Duplicate flag specified: from');
  fails('FROM busybox\nADD --from=x a b', 'dockerfile parse error line 2: Unknown flag: from');
  fails('FROM busybox\nCOPY --link=maybe a b', 'dockerfile parse error line 2: Expecting boolean value for flag link, not: maybe');
  fails('FROM busybox\nCOPY a <<EOF\nx\nEOF', 'dockerfile parse error line 2: COPY cannot accept a heredoc as a destination');
  fails('FROM busybox\nRUN --mount=type=cache,target=/x echo', `dockerfile parse error line 2: the --mount option requires BuildKit. ${BK}`);
  fails('FROM busybox\nRUN --network=none echo', `dockerfile parse error line 2: the --network option requires BuildKit. ${BK}`);
  fails('RUN x', 'dockerfile parse error line 1: no build stage in current context');
  fails('ARG A\nRUN x', 'dockerfile parse error line 2: no build stage in current context');
});

test('a multi-line instruction reports its first line', () => {
  fails('FROM x\n\nCOPY \\\n  --nope \\\n  a b', 'dockerfile parse error line 3: Unknown flag: nope');
});
