// Parser: directives, continuations, comments, JSON vs shell form, heredocs, line numbers, errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DockerfileError, parseDockerfile, parseHeredoc, chompHeredoc } from './parser';

const parse = (s: string) => parseDockerfile(s);
const throwsAt = (s: string, line: number, re: RegExp) =>
  assert.throws(
    () => parse(s),
    (e: unknown) => e instanceof DockerfileError && e.line === line && re.test(e.detail),
  );

test('keywords are case-insensitive, leading blanks ignored, the joined line kept', () => {
  const r = parse('  from busybox\n\tRun echo hi\n');
  assert.deepEqual(r.nodes.map((n) => [n.keyword, n.rawKeyword, n.args]), [
    ['from', 'from', ['busybox']],
    ['run', 'Run', ['echo hi']],
  ]);
  assert.equal(r.nodes[1]!.original, 'Run echo hi');
  assert.deepEqual([r.nodes[1]!.startLine, r.nodes[1]!.endLine], [2, 2]);
});

test('continuations join lines (keeping the next line\'s blanks); comments inside are dropped', () => {
  const r = parse('FROM x\nRUN echo one \\\n    two \\\n# a comment\n  three\nRUN next\n');
  assert.equal(r.nodes[1]!.args[0], 'echo one     two   three');
  assert.deepEqual([r.nodes[1]!.startLine, r.nodes[1]!.endLine], [2, 5]);
  assert.equal(r.nodes[2]!.startLine, 6);
  assert.deepEqual(r.warnings, []);
});

test('an empty continuation line gives the warning and is skipped', () => {
  const r = parse('FROM x\nRUN a \\\n\n  b\n');
  assert.equal(r.nodes[1]!.args[0], 'a   b');
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!.message, /^Empty continuation line found in: RUN a/);
});

test('a trailing continuation at the end of the file is accepted', () => {
  assert.equal(parse('FROM x\nRUN a \\').nodes[1]!.args[0], 'a');
});

test('# only starts a comment at the start of a line', () => {
  const r = parse('# c\nFROM x\nRUN echo x # not a comment\n   # indented comment\n');
  assert.equal(r.nodes.length, 2);
  assert.equal(r.nodes[1]!.args[0], 'echo x # not a comment');
});

test('escape directive: backtick escapes and continues lines; directives only at the top', () => {
  const r = parse('# escape=`\nFROM x\nRUN dir c:\\ `\n  && echo\n');
  assert.equal(r.escapeToken, '`');
  assert.equal(r.nodes[1]!.args[0], 'dir c:\\   && echo');
  const late = parse('FROM x\n# escape=`\nRUN a \\\n b\n');
  assert.equal(late.escapeToken, '\\');
  const afterComment = parse('# hello\n# escape=`\nFROM x\n');
  assert.equal(afterComment.escapeToken, '\\');
  const syntax = parse('# syntax=docker/dockerfile:1\n#ESCAPE = `\nFROM x\n');
  assert.equal(syntax.syntax, 'docker/dockerfile:1');
  assert.equal(syntax.escapeToken, '`');
  assert.equal(parse('\uFEFF# escape=`\nFROM x').escapeToken, '`');
});

test('directive errors', () => {
  throwsAt('# escape=\\\n# escape=`\nFROM x\n', 2, /^only one escape parser directive can be used$/);
  throwsAt('# escape=x\nFROM x\n', 1, /^invalid escape token 'x' does not match ` or \\$/);
});

test('JSON form only for a valid array of strings; anything else is shell form', () => {
  const r = parse('FROM x\nCMD ["a", "b c"]\nCMD [\'a\']\nCMD ["unterminated"\nRUN [ "x" ]\nVOLUME ["/a", "/b"]\nVOLUME /c /d\n');
  assert.deepEqual(r.nodes.slice(1).map((n) => [n.json, n.args]), [
    [true, ['a', 'b c']],
    [false, ["['a']"]],
    [false, ['["unterminated"']],
    [true, ['x']],
    [true, ['/a', '/b']],
    [false, ['/c', '/d']],
  ]);
  throwsAt('FROM x\nCMD ["a", 1]\n', 2, /^when using JSON array syntax, arrays must be comprised of strings only$/);
});

test('ENV and LABEL pairs, both forms', () => {
  const r = parse('FROM x\nENV A=1 B="two words" C=\nENV D the rest of it\nLABEL "x y"=z\n');
  assert.deepEqual(r.nodes[1]!.kvs, [
    { key: 'A', value: '1', sep: '=' },
    { key: 'B', value: '"two words"', sep: '=' },
    { key: 'C', value: '', sep: '=' },
  ]);
  assert.deepEqual(r.nodes[2]!.kvs, [{ key: 'D', value: 'the rest of it', sep: '' }]);
  assert.deepEqual(r.nodes[3]!.kvs, [{ key: '"x y"', value: 'z', sep: '=' }]);
  throwsAt('FROM x\nENV A\n', 2, /^ENV must have two arguments$/);
  throwsAt('FROM x\nENV A=1 B\n', 2, /^Syntax error - can't find = in "B". Must be of the form: name=value$/);
});

test('flags are split off, quotes resolved, -- ends them', () => {
  const r = parse('FROM --platform=linux/amd64 x AS y\nCOPY --from=y --chown="1:2" a b\nRUN -- --notaflag\n');
  assert.deepEqual(r.nodes[0]!.flags, ['--platform=linux/amd64']);
  assert.deepEqual(r.nodes[0]!.args, ['x', 'AS', 'y']);
  assert.deepEqual(r.nodes[1]!.flags, ['--from=y', '--chown=1:2']);
  assert.deepEqual(r.nodes[2]!.flags, []);
  assert.deepEqual(r.nodes[2]!.args, ['--notaflag']);
});

test('HEALTHCHECK and ONBUILD keep their inner instruction', () => {
  const r = parse('FROM x\nHEALTHCHECK --interval=5s CMD ["curl", "x"]\nHEALTHCHECK NONE\nONBUILD RUN echo hi\n');
  assert.deepEqual([r.nodes[1]!.flags, r.nodes[1]!.args, r.nodes[1]!.json], [['--interval=5s'], ['CMD', 'curl', 'x'], true]);
  assert.deepEqual(r.nodes[2]!.args, ['NONE']);
  assert.equal(r.nodes[3]!.sub?.keyword, 'run');
  assert.deepEqual(r.nodes[3]!.args, ['RUN', 'echo hi']);
});

test('heredocs: RUN, several on one line, <<- tab stripping, quoted delimiters, fd', () => {
  const r = parse('FROM x\nRUN <<EOF\necho hello\nEOF\nCOPY <<a <<b /dir/\nA\n\tB\na\nbody b\nb\nRUN <<-"END"\n\tno $expand\n\tEND\nRUN 3<<X cat\nx\nX\nRUN echo done\n');
  const [, run, copy, chomp, fd, last] = r.nodes;
  assert.deepEqual(run!.heredocs, [{ name: 'EOF', fileDescriptor: 0, expand: true, chomp: false, content: 'echo hello\n' }]);
  assert.deepEqual([run!.startLine, run!.endLine], [2, 4]);
  assert.deepEqual(copy!.heredocs.map((h) => [h.name, h.content]), [
    ['a', 'A\n\tB\n'],
    ['b', 'body b\n'],
  ]);
  assert.deepEqual([chomp!.heredocs[0]!.expand, chomp!.heredocs[0]!.chomp, chomp!.heredocs[0]!.content], [false, true, '\tno $expand\n']);
  assert.equal(chompHeredoc(chomp!.heredocs[0]!.content), 'no $expand\n');
  assert.equal(fd!.heredocs[0]!.fileDescriptor, 3);
  assert.equal(last!.startLine, 17);
});

test('heredocs are not recognised in JSON form, in other instructions or in quotes', () => {
  const r = parse('FROM x\nRUN ["cat", "<<EOF"]\nENV A=<<EOF\nRUN echo "<<EOF"\n');
  assert.equal(r.nodes.length, 4);
  assert.ok(r.nodes.every((n) => n.heredocs.length === 0));
});

test('heredoc errors carry the line', () => {
  throwsAt('FROM x\nRUN <<EOF\necho\n', 2, /^unterminated heredoc$/);
});

test('parseHeredoc', () => {
  assert.deepEqual(parseHeredoc('<<EOF'), { name: 'EOF', fileDescriptor: 0, chomp: false, expand: true });
  assert.deepEqual(parseHeredoc("<<'E F'"), { name: 'E F', fileDescriptor: 0, chomp: false, expand: false });
  assert.equal(parseHeredoc('<<'), undefined);
  assert.equal(parseHeredoc('<EOF'), undefined);
  assert.equal(parseHeredoc('x<<EOF'), undefined);
});

test('an empty file or one with only comments has no instructions', () => {
  throwsAt('', 0, /^file with no instructions$/);
  throwsAt('# only\n\n# comments\n', 0, /^file with no instructions$/);
});

test('unknown instructions parse (they fail when typed, with their line)', () => {
  const r = parse('FROM x\nFOO bar\n');
  assert.equal(r.nodes[1]!.keyword, 'foo');
});

test('CRLF line endings', () => {
  const r = parse('FROM x\r\nRUN a \\\r\n  b\r\n');
  assert.equal(r.nodes[1]!.args[0], 'a   b');
});
