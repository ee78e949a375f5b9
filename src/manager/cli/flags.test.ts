// pflag semantics the docker CLI's users rely on: combined shorthands, attached values, --flag=v,
// the -- terminator, interspersing, bool values, and pflag's error wording.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlagError, FlagSet } from './flags';
import { formatDuration, parseDuration, parseInt64 } from './go-strconv';

function set(interspersed = true): FlagSet {
  const f = new FlagSet('t');
  f.interspersed = interspersed;
  f.bool('interactive', 'i', false, 'i');
  f.bool('tty', 't', false, 't');
  f.bool('rm', '', false, 'rm');
  f.list('publish', 'p', 'p');
  f.list('env', 'e', 'e');
  f.string('name', '', '', 'n');
  f.int('last', 'n', -1, 'n');
  f.duration('interval', '', 0, 'd');
  return f;
}

test('shorthands combine, take attached or next values, long flags take =values', () => {
  const f = set(false);
  f.parse(['-it', '-p80:80', '-p', '443:443', '-e=A=1', '--name=web', '--rm=false', '-n', '5', '--interval', '1m30s', 'busybox', '-x', '--y']);
  assert.equal(f.get('interactive'), true);
  assert.equal(f.get('tty'), true);
  assert.deepEqual(f.get('publish'), ['80:80', '443:443']);
  assert.deepEqual(f.get('env'), ['A=1']);
  assert.equal(f.get('name'), 'web');
  assert.equal(f.get('rm'), false);
  assert.equal(f.changed('rm'), true);
  assert.equal(f.get('last'), 5);
  assert.equal(f.get('interval'), 90e9);
  assert.deepEqual(f.args, ['busybox', '-x', '--y'], 'flags stop at the first argument (SetInterspersed(false))');
});

test('interspersed flags and the -- terminator', () => {
  const f = set(true);
  f.parse(['a', '-i', 'b', '--', '-t', 'c']);
  assert.equal(f.get('interactive'), true);
  assert.equal(f.get('tty'), false);
  assert.deepEqual(f.args, ['a', 'b', '-t', 'c']);
  assert.equal(f.argsLenAtDash, 2);
});

test('errors are worded as pflag words them', () => {
  const err = (argv: string[]) => {
    try {
      set().parse(argv);
    } catch (e) {
      assert.ok(e instanceof FlagError);
      return e.message;
    }
    return '';
  };
  assert.equal(err(['--nope']), 'unknown flag: --nope');
  assert.equal(err(['-x']), "unknown shorthand flag: 'x' in -x");
  assert.equal(err(['-ix']), "unknown shorthand flag: 'x' in -x");
  assert.equal(err(['--name']), 'flag needs an argument: --name');
  assert.equal(err(['-p']), "flag needs an argument: 'p' in -p");
  assert.equal(err(['-n', 'x']), 'invalid argument "x" for "-n, --last" flag: strconv.ParseInt: parsing "x": invalid syntax');
  assert.equal(err(['--rm=maybe']), 'invalid argument "maybe" for "--rm" flag: strconv.ParseBool: parsing "maybe": invalid syntax');
  assert.equal(err(['--interval', '5']), 'invalid argument "5" for "--interval" flag: time: missing unit in duration "5"');
  assert.equal(err(['---x']), 'bad flag syntax: ---x');
});

test('Go number and duration parsing', () => {
  assert.equal(parseInt64('0x10'), 16);
  assert.equal(parseInt64('010'), 8);
  assert.equal(parseInt64('-5'), -5);
  assert.throws(() => parseInt64('99999999999999999999'), /value out of range/);
  assert.equal(parseDuration('1h2m3.5s'), 3723.5e9);
  assert.equal(parseDuration('250ms'), 250e6);
  assert.throws(() => parseDuration('1x'), /time: unknown unit "x" in duration "1x"/);
  assert.equal(formatDuration(90e9), '1m30s');
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(1.5e6), '1.5ms');
});

test('help lists flags sorted, wrapped at the width, defaults shown as pflag shows them', () => {
  const f = set();
  const u = f.usages(79);
  assert.match(u, /^ {2}-e, --env list {12}e\n/);
  assert.match(u, /--interval duration {3}d\n/);
  assert.match(u, /-n, --last int {12}n \(default -1\)\n/);
  assert.ok(u.indexOf('--env') < u.indexOf('--interactive'));
});
