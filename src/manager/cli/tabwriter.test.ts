// tabwriter and go-units number formatting against Go's text/tabwriter and fmt %g.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goOracle, goOracleSkipReason } from './go-oracle';
import { tabwrite } from './tabwriter';
import { bytesSize, goG, humanDuration, humanSize, humanSizeWithPrecision, ramInBytes, fromHumanSize } from './units';

const texts = [
  'CONTAINER ID\tIMAGE\tCOMMAND\tNAMES\nabc\tbusybox\t"sh"\tweb\nlonger-id-here\tx\ty\tz\n',
  'a\tb\nno tabs here\nccc\tdddd\te\n',
  'x\ty',
  'ünïcödé\tok\nab\tcd\n',
  'a\t\tc\n\tb\tc\n\n\t\t\n',
  'h1\th2\th3\nr1\tr2\nr3\tr4\tr5\tr6\n',
  '',
  'trailing\t\n',
];

test('tabwriter output equals Go text/tabwriter (docker: min 10, pad 3; top/version: 20/3, 20/1)', { skip: goOracleSkipReason() }, () => {
  const cfg = [
    { min: 10, pad: 3 },
    { min: 20, pad: 3 },
    { min: 20, pad: 1 },
  ];
  const cases = texts.flatMap((text) => cfg.map((c) => ({ text, ...c })));
  const want = goOracle({ tab: cases }).tab!;
  cases.forEach((c, i) => assert.equal(tabwrite(c.text, { minwidth: c.min, tabwidth: 1, padding: c.pad, padchar: ' ' }), want[i], JSON.stringify(c)));
});

test('%g formatting equals Go fmt (sizes use %.3g and %.4g)', { skip: goOracleSkipReason() }, () => {
  const vals = [0, 1, 9.995, 999.9, 999.4, 1.0005, 4.261, 12.5, 123.456, 0.0001234, 1e-7, 100, 1000, 5.55, 0.5];
  const cases = vals.flatMap((v) => [3, 4].map((prec) => ({ v, prec })));
  const want = goOracle({ g: cases }).g!;
  cases.forEach((c, i) => assert.equal(goG(c.v, c.prec), want[i], `%.${c.prec}g of ${c.v}`));
});

test('go-units sizes, parsing and durations', () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(1984000), '1.984MB');
  assert.equal(humanSizeWithPrecision(1984000, 3), '1.98MB');
  assert.equal(humanSizeWithPrecision(999999, 3), '1e+03kB');
  assert.equal(bytesSize(1536), '1.5KiB');
  assert.equal(bytesSize(10 * 1024 * 1024), '10MiB');
  assert.equal(ramInBytes('64m'), 64 * 1024 * 1024);
  assert.equal(ramInBytes('1.5g'), 1.5 * 1024 ** 3);
  assert.equal(ramInBytes('10'), 10);
  assert.equal(fromHumanSize('1kb'), 1000);
  assert.throws(() => ramInBytes('abc'), /^Error: invalid size: 'abc'$/);
  assert.throws(() => ramInBytes('10x'), /^Error: invalid suffix: 'x'$/);
  assert.throws(() => ramInBytes('10mbb'), /^Error: invalid suffix: 'mbb'$/);
  const s = 1000;
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(1 * s), '1 second');
  assert.equal(humanDuration(59 * s), '59 seconds');
  assert.equal(humanDuration(60 * s), 'About a minute');
  assert.equal(humanDuration(119 * s), 'About a minute');
  assert.equal(humanDuration(120 * s), '2 minutes');
  assert.equal(humanDuration(3599 * s), '59 minutes');
  assert.equal(humanDuration(3600 * s), 'About an hour');
  assert.equal(humanDuration(5400 * s), '2 hours');
  assert.equal(humanDuration(47 * 3600 * s), '47 hours');
  assert.equal(humanDuration(48 * 3600 * s), '2 days');
  assert.equal(humanDuration(15 * 86400 * s), '2 weeks');
  assert.equal(humanDuration(70 * 86400 * s), '2 months');
  assert.equal(humanDuration(800 * 86400 * s), '2 years');
});
