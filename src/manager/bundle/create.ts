// Turns a local image into an OCI bundle a runtime can run: unpack layers into snapshots, prepare a
// writable container snapshot, mount it on <bundle>/rootfs, write config.json. Returns a cleanup
// that unmounts and drops the snapshot. Does not start anything (that is keel's or runc's job).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import { promisify } from 'node:util';
import * as path from 'node:path';
import type { ContentStore } from '../content/index';
import type { ImageStore } from '../images/image-store';
import { resolveImage } from '../images/resolve';
import type { Snapshotter } from '../snapshots/index';
import { mountAll, unmountAll } from '../snapshots/mount';
import { prepareContainerRootfs, unpackImage } from '../snapshots/unpack';
import { resolveInRoot } from './in-root';
import { generateSpec, volumeDirName, type RuntimeSpec, type SpecOptions } from './spec';

const run = promisify(execFile);

/**
 * Creates a volume's host dir; when the image has content at that path, the volume starts as a copy
 * of it with the same owner and mode, as docker's copy-up of new volumes does.
 */
async function seedVolume(rootfs: string, containerPath: string, dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const src = await resolveInRoot(rootfs, containerPath);
  let st;
  try {
    st = await fs.lstat(src);
  } catch {
    return;
  }
  if (!st.isDirectory()) return;
  await run('cp', ['-a', '--', `${src}/.`, dir]);
  await fs.chown(dir, st.uid, st.gid);
  await fs.chmod(dir, st.mode & 0o7777);
}

export type BundleDeps = { content: ContentStore; images: ImageStore; snapshotter: Snapshotter };

export type Bundle = { dir: string; spec: RuntimeSpec; remove(): Promise<void> };

export async function createBundle(
  deps: BundleDeps,
  image: string,
  id: string,
  bundleDir: string,
  opts: Omit<SpecOptions, 'rootfs' | 'volumeSource'> = {},
): Promise<Bundle> {
  const { image: img } = await resolveImage(deps, image);
  const top = await unpackImage(deps, img.manifest, img.config);
  const rootfs = path.join(bundleDir, 'rootfs');
  await fs.mkdir(rootfs, { recursive: true, mode: 0o711 });
  const mounts = await prepareContainerRootfs(deps.snapshotter, id, top);
  let mounted = false;
  const remove = async () => {
    if (mounted) await unmountAll(rootfs);
    mounted = false;
    await deps.snapshotter.remove(`container-${id}`).catch(() => undefined);
    await fs.rm(bundleDir, { recursive: true, force: true });
  };
  try {
    await mountAll(mounts, rootfs);
    mounted = true;
    const volumes: string[] = [];
    const volumePaths: string[] = [];
    const spec = await generateSpec(img.config, {
      hostname: id.slice(0, 12),
      ...opts,
      rootfs,
      volumeSource: (p) => {
        const dir = path.join(bundleDir, 'volumes', volumeDirName(p));
        volumes.push(dir);
        volumePaths.push(p);
        return dir;
      },
    });
    for (const [i, v] of volumes.entries()) await seedVolume(rootfs, volumePaths[i]!, v);
    await fs.writeFile(path.join(bundleDir, 'config.json'), JSON.stringify(spec, null, 2));
    return { dir: bundleDir, spec, remove };
  } catch (e) {
    await remove();
    throw e;
  }
}
