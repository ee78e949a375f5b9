// `make bench`: every benchmark of keel against its peers on this machine, in one run.
// Usage: node --import tsx bench/run.ts [startup ...]   (default: all suites)
import * as path from 'node:path';
import { which } from '../test/helpers/keel';
import { report, timeCommand } from './lib';

const repo = path.resolve(__dirname, '..');
const keel = path.join(repo, 'bin', 'keel');
const N = Number(process.env.BENCH_RUNS ?? 21);

const suites: Record<string, () => void> = {
  /** CLI start-up: the cost of one runtime invocation that fails fast (runc state nosuchid). */
  startup() {
    const runc = which('runc');
    const root = `/tmp/keel-bench-root-${process.pid}`;
    const ours = { name: 'keel', runs: timeCommand([keel, '--root', root, 'state', 'nosuchid'], N) };
    const theirs = runc ? { name: 'runc', runs: timeCommand([runc, '--root', root, 'state', 'nosuchid'], N) } : undefined;
    report('CLI start-up (state nosuchid)', ours, theirs);
    const node = { name: 'node', runs: timeCommand([process.execPath, '-e', '0'], N) };
    report('  floor: node -e 0', node, theirs);
  },
};

const wanted = process.argv.slice(2);
for (const [name, fn] of Object.entries(suites)) {
  if (wanted.length === 0 || wanted.includes(name)) fn();
}
