// dock image benchmarks against a local docker-registry: pull and push of a ~1 MB busybox image, a
// Debian minbase image (debootstrap) and a ~200 MB four-layer image, each against skopeo; unpacking
// the Debian layer against umoci and tar. Prints medians and dock/other ratios.
// Run: make && node --import tsx bench/pull.ts [--runs N] [--only busybox,debian,big]
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { LocalContentStore } from '../src/manager/content/local/store';
import { applyLayer } from '../src/manager/snapshots/apply-layer';
import { makeBusyboxLayout, randomLayer, skopeoCopy, tarDir, writeImage, writeLayout } from '../test/manager/images';
import { startRegistry, type Registry } from '../test/manager/registry';

const run = promisify(execFile);
const REPO = path.resolve(__dirname, '..');
const DOCK = path.join(REPO, 'bin', 'dock');
const CACHE = process.env.DOCK_BENCH_CACHE ?? '/var/tmp/dock-bench';
const argv = process.argv.slice(2);
const RUNS = Number(argv[argv.indexOf('--runs') + 1] || 5) || 5;
const ONLY = argv.includes('--only') ? argv[argv.indexOf('--only') + 1]!.split(',') : ['busybox', 'debian', 'big'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

async function sh(cmd: string, args: string[]): Promise<void> {
  await run(cmd, args, { maxBuffer: 1 << 26 });
}

/** Builds (once, cached) the OCI layout holding the three bench images. */
async function buildImages(): Promise<string> {
  const layout = path.join(CACHE, 'layout');
  if (existsSync(path.join(layout, 'index.json'))) return layout;
  await fs.mkdir(CACHE, { recursive: true });
  const tmp = path.join(CACHE, 'layout.tmp');
  await fs.rm(tmp, { recursive: true, force: true });
  const busybox = await makeBusyboxLayout(CACHE, tmp);
  const rootfs = path.join(CACHE, 'rootfs');
  if (!existsSync(path.join(CACHE, 'debian-rootfs.done'))) {
    process.stderr.write('bench: debootstrap --variant=minbase bookworm (once)…\n');
    await fs.rm(rootfs, { recursive: true, force: true });
    await sh('debootstrap', ['--variant=minbase', 'bookworm', rootfs, 'http://deb.debian.org/debian']);
    await fs.writeFile(path.join(CACHE, 'debian-rootfs.done'), '');
  }
  // What docker's debian images leave out: package caches and lists.
  await sh('sh', ['-c', `rm -rf ${rootfs}/var/cache/apt/archives/*.deb ${rootfs}/var/lib/apt/lists/* ${rootfs}/var/cache/apt/*.bin`]);
  const debian = await writeImage(tmp, { layers: [{ tar: await tarDir(rootfs) }], config: { Cmd: ['bash'] } });
  const big = await writeImage(tmp, { layers: await Promise.all(['a', 'b', 'c', 'd'].map(async (n) => ({ tar: await randomLayer(CACHE, 50, n) }))) });
  await writeLayout(tmp, { busybox, debian, big });
  await fs.rename(tmp, layout);
  return layout;
}

type Row = { what: string; dock: number; other: number; otherName: string; bytes: number };
const rows: Row[] = [];

function report(r: Row): void {
  rows.push(r);
  const mbs = (s: number) => (r.bytes / 1e6 / s).toFixed(0);
  process.stdout.write(
    `${r.what.padEnd(22)} dock ${r.dock.toFixed(3)}s (${mbs(r.dock)} MB/s)   ${r.otherName} ${r.other.toFixed(3)}s (${mbs(r.other)} MB/s)   dock/${r.otherName} ${(r.dock / r.other).toFixed(2)}x\n`,
  );
}

async function imageBytes(layout: string, tag: string): Promise<{ bytes: number; layers: string[] }> {
  const idx = JSON.parse(await fs.readFile(path.join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations: Record<string, string> }[] };
  const d = idx.manifests.find((m) => m.annotations['org.opencontainers.image.ref.name'] === tag)!;
  const m = JSON.parse(await fs.readFile(path.join(layout, 'blobs/sha256', d.digest.slice(7)), 'utf8')) as { layers: { digest: string; size: number }[] };
  return { bytes: m.layers.reduce((n, l) => n + l.size, 0), layers: m.layers.map((l) => l.digest) };
}

async function benchImage(layout: string, tag: string, work: string): Promise<void> {
  const { bytes } = await imageBytes(layout, tag);
  const runs = bytes > 100e6 ? Math.min(RUNS, 3) : RUNS;
  const reg = await startRegistry();
  try {
    await skopeoCopy(`oci:${layout}:${tag}`, `docker://${reg.host}/bench/${tag}:latest`);
    const ref = `${reg.host}/bench/${tag}:latest`;
    const dockPull: number[] = [];
    const skopeoPull: number[] = [];
    for (let i = 0; i < runs; i++) {
      const root = path.join(work, `pull-dock-${i}`);
      dockPull.push(await timed(() => sh(DOCK, ['--root', root, 'pull', '-q', ref])));
      await fs.rm(root, { recursive: true, force: true });
      const dir = path.join(work, `pull-skopeo-${i}`);
      skopeoPull.push(await timed(() => sh('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${ref}`, `oci:${dir}:${tag}`])));
      await fs.rm(dir, { recursive: true, force: true });
    }
    report({ what: `pull ${tag}`, dock: median(dockPull), other: median(skopeoPull), otherName: 'skopeo', bytes });

    // Push: the same source layout for both (dock's own store), a fresh registry per run.
    const src = path.join(work, 'push-src');
    await sh(DOCK, ['--root', src, 'pull', '-q', ref]);
    const dockPush: number[] = [];
    const skopeoPush: number[] = [];
    for (let i = 0; i < runs; i++) {
      for (const who of ['dock', 'skopeo'] as const) {
        const target: Registry = await startRegistry();
        try {
          const dst = `${target.host}/pushed/${tag}:latest`;
          if (who === 'dock') {
            await sh(DOCK, ['--root', src, 'tag', ref, dst]);
            dockPush.push(await timed(() => sh(DOCK, ['--root', src, 'push', '-q', dst])));
            await sh(DOCK, ['--root', src, 'rmi', dst]);
          } else {
            skopeoPush.push(await timed(() => sh('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${path.join(src, 'content')}:${ref}`, `docker://${dst}`])));
          }
        } finally {
          await target.stop();
        }
      }
    }
    report({ what: `push ${tag}`, dock: median(dockPush), other: median(skopeoPush), otherName: 'skopeo', bytes });
    await fs.rm(src, { recursive: true, force: true });
  } finally {
    await reg.stop();
  }
}

async function benchUnpack(layout: string, work: string): Promise<void> {
  const { layers } = await imageBytes(layout, 'debian');
  const blob = path.join(layout, 'blobs/sha256', layers[0]!.slice(7));
  const store = new LocalContentStore({ layoutDir: layout, ingestDir: path.join(work, 'ingest') });
  const bytes = (await fs.stat(blob)).size;
  const t: Record<string, number[]> = { dock: [], umoci: [], tar: [] };
  for (let i = 0; i < RUNS; i++) {
    const d = path.join(work, `unpack-dock-${i}`);
    t.dock!.push(await timed(() => applyLayer(d, store.read(layers[0]!), { whiteouts: 'overlay' })));
    await fs.rm(d, { recursive: true, force: true });
    const u = path.join(work, `unpack-umoci-${i}`);
    t.umoci!.push(await timed(() => sh('umoci', ['raw', 'unpack', '--image', `${layout}:debian`, u])));
    await fs.rm(u, { recursive: true, force: true });
    const x = path.join(work, `unpack-tar-${i}`);
    await fs.mkdir(x);
    t.tar!.push(await timed(() => sh('tar', ['-xzf', blob, '-C', x, '--numeric-owner', '--xattrs'])));
    await fs.rm(x, { recursive: true, force: true });
  }
  report({ what: 'unpack debian layer', dock: median(t.dock!), other: median(t.umoci!), otherName: 'umoci', bytes });
  report({ what: 'unpack debian layer', dock: median(t.dock!), other: median(t.tar!), otherName: 'tar', bytes });
}

async function main(): Promise<void> {
  for (const [bin, why] of [[DOCK, 'run make first'], ['/usr/bin/docker-registry', 'apt-get install docker-registry'], ['/usr/bin/skopeo', 'apt-get install skopeo'], ['/usr/bin/umoci', 'apt-get install umoci']] as const) {
    if (!existsSync(bin)) throw new Error(`${bin} missing: ${why}`);
  }
  const layout = await buildImages();
  const work = await fs.mkdtemp(path.join(CACHE, 'work-'));
  try {
    process.stdout.write(`dock image bench: ${RUNS} runs (3 for >100 MB), medians; MB/s over compressed layer bytes\n`);
    for (const tag of ONLY) await benchImage(layout, tag, work);
    if (ONLY.includes('debian')) await benchUnpack(layout, work);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
