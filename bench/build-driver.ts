// The build driver's own cost, on the FakeExecutor seam (no containers, no layers): what a build
// spends in dock's front end before the engine does any work. The end-to-end build benchmark
// against docker/buildah/podman belongs with the engine executor.
// Usage: node --import tsx bench/build-driver.ts
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DiskBuildCache } from '../src/manager/build/cache-disk';
import { makeContextTar } from '../src/manager/build/context-tar';
import { buildImage } from '../src/manager/build/driver';
import { FakeExecutor } from '../src/manager/build/fake-executor';
import { defaultBuildOptions } from '../src/manager/build/request';
import { median } from './lib';

const N = Number(process.env.BENCH_RUNS ?? 21);

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-build-'));
  try {
    const ex = new FakeExecutor(work);
    await ex.addImage('busybox', { 'bin/sh': 'sh' }, { Env: ['PATH=/bin'], Cmd: ['sh'] });
    const small = path.join(work, 'small');
    fs.mkdirSync(small);
    fs.writeFileSync(path.join(small, 'Dockerfile'), 'FROM busybox\nCOPY a.txt /a.txt\nRUN echo hi\nCMD ["sh"]\n');
    fs.writeFileSync(path.join(small, 'a.txt'), 'hello\n');
    const big = path.join(work, 'big');
    for (let d = 0; d < 100; d++) {
      fs.mkdirSync(path.join(big, `d${d}`), { recursive: true });
      for (let f = 0; f < 100; f++) fs.writeFileSync(path.join(big, `d${d}`, `f${f}`), `file ${d}/${f}\n`);
    }
    fs.writeFileSync(path.join(big, 'Dockerfile'), 'FROM busybox\nCOPY . /app\n');
    const once = async (dir: string, cache: DiskBuildCache, noCache = false) => {
      const t = await makeContextTar(dir);
      const t0 = process.hrtime.bigint();
      const r = await buildImage({ ...defaultBuildOptions(), dockerfile: t.dockerfile, noCache }, t.stream, { executor: ex, cache, workDir: fs.mkdtempSync(path.join(work, 'w-')) }, () => undefined);
      if (!('imageId' in r)) throw new Error(r.error);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    // The fake copies whole trees per step, so --no-cache is only timed for the small context.
    for (const [name, dir, n, cold] of [['4-step Dockerfile', small, N, true], ['COPY . of 10,000 files', big, Math.min(N, 5), false]] as const) {
      const cache = new DiskBuildCache(path.join(work, `cache-${path.basename(dir)}`));
      await once(dir, cache);
      const nocache: number[] = [];
      const cached: number[] = [];
      for (let i = 0; i < n; i++) {
        if (cold) nocache.push(await once(dir, cache, true));
        cached.push(await once(dir, cache));
      }
      const c = cold ? `--no-cache ${median(nocache).toFixed(1)} ms  ` : '';
      process.stdout.write(`${`driver, ${name}`.padEnd(40)} ${c}cached ${median(cached).toFixed(1)} ms  (median of ${n}, fake executor)\n`);
    }
    await ex.cleanup();
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

void main();
