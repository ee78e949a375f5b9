// Shell-word lexer: quoting, escapes, every ${} form, word splitting, errors in BuildKit's words.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envFromList, ShellLex } from './shell-lex';

const env = envFromList(['PWD=/home', 'SHELL=bash', 'NULL=', 'PATHISH=/usr/local/bin:/usr/bin', 'SPACE=a  b']);
const lex = new ShellLex('\\');
const word = (w: string) => lex.processWord(w, env);
const words = (w: string) => lex.processWords(w, env);

test('plain, quoted and escaped text', () => {
  assert.equal(word('hello'), 'hello');
  assert.equal(word("he'll'o"), 'hello');
  assert.equal(word("he\\'llo"), "he'llo");
  assert.equal(word('abc\\tdef'), 'abctdef');
  assert.equal(word('"abc\\tdef"'), 'abc\\tdef');
  assert.equal(word("'abc\\tdef'"), 'abc\\tdef');
  assert.equal(word('"a\\"b"'), 'a"b');
  assert.equal(word('hello\\'), 'hello');
  assert.equal(word('안\'녕\'하세요'), '안녕하세요');
});

test('variables: $v, ${v}, single quotes and escapes stop expansion, double quotes do not', () => {
  assert.equal(word('he$PWD'), 'he/home');
  assert.equal(word('he${PWD}x'), 'he/homex');
  assert.equal(word('he$pwd.'), 'he.');
  assert.equal(word("'$PWD'"), '$PWD');
  assert.equal(word('\\$PWD'), '$PWD');
  assert.equal(word('"$PWD"'), '/home');
  assert.equal(word('"he\\$PWD"'), 'he$PWD');
  assert.equal(word('$.'), '$.');
  assert.equal(word('he$1x'), 'hex');
  assert.equal(word('x$$y'), 'xy');
});

test('${v:-w} ${v-w} ${v:+w} ${v+w} ${v:?m} ${v?m}', () => {
  assert.equal(word('${XXX:-000}'), '000');
  assert.equal(word('${NULL:-000}'), '000');
  assert.equal(word('${NULL-000}'), '');
  assert.equal(word('${XXX-000}'), '000');
  assert.equal(word('${XXX:-${PWD:-yyy}}'), '/home');
  assert.equal(word('${PWD:+set}'), 'set');
  assert.equal(word('${NULL:+set}'), '');
  assert.equal(word('${NULL+set}'), 'set');
  assert.equal(word('${XXX+set}'), '');
  assert.equal(word('${PWD?}'), '/home');
  assert.equal(word('${NULL?}'), '');
  assert.throws(() => word('${XXX?}'), /XXX: is not allowed to be unset/);
  assert.throws(() => word('${NULL:?must be set}'), /NULL: must be set/);
});

test('pattern forms: # ## % %% / //', () => {
  assert.equal(word('${PATHISH#*/}'), 'usr/local/bin:/usr/bin');
  assert.equal(word('${PATHISH##*/}'), 'bin');
  assert.equal(word('${PATHISH%:*}'), '/usr/local/bin');
  assert.equal(word('${PATHISH%%/*}'), '');
  assert.equal(word('${PATHISH/usr/opt}'), '/opt/local/bin:/usr/bin');
  assert.equal(word('${PATHISH//usr/opt}'), '/opt/local/bin:/opt/bin');
});

test('syntax errors, wrapped with the word as BuildKit reports them', () => {
  assert.throws(() => word("${}"), { message: /^failed to process "\$\{\}": syntax error: bad substitution$/ });
  assert.throws(() => word('he${PWD'), /syntax error: missing '}'/);
  assert.throws(() => word('${PWD:=x}'), /unsupported modifier \(:=\) in substitution/);
  assert.throws(() => word('"open'), /unexpected end of statement while looking for matching double-quote/);
  assert.throws(() => word("'open"), /unexpected end of statement while looking for matching single-quote/);
});

test('words split after expansion; quoted text never splits', () => {
  assert.deepEqual(words('a b  c'), ['a', 'b', 'c']);
  assert.deepEqual(words('x$SPACE'), ['xa', 'b']);
  assert.deepEqual(words('x"$SPACE"'), ['xa  b']);
  assert.deepEqual(words('hello\\ there'), ['hello there']);
  assert.deepEqual(words('""'), []);
});

test('backtick as the escape token', () => {
  const w = new ShellLex('`');
  assert.equal(w.processWord('c:\\dir`$PWD', env), 'c:\\dir$PWD');
});

test('matches and misses are reported', () => {
  const r = lex.processWordWithMatches('$PWD $NOPE ${SHELL:-x}', env);
  assert.deepEqual([...r.matched].sort(), ['PWD', 'SHELL']);
  assert.deepEqual([...r.unmatched], ['NOPE']);
});

test('skipUnsetEnv keeps unknown references as written', () => {
  const keep = new ShellLex('\\', { skipUnsetEnv: true });
  assert.equal(keep.processWord('$A ${B} ${C:-d} $PWD', env), '$A ${B} ${C:-d} /home');
});
