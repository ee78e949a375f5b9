// A container's mounts as Docker resolves them at create: -v binds and named volumes (made when
// missing), --mount bind|volume|tmpfs, --volumes-from, and anonymous volumes for the image's VOLUME
// paths and -v /path; at start, the host sources with volume copy-up. Docker's error wording.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { RuntimeError } from '../../errors/index';
import { resolveInRoot } from '../bundle/in-root';
import type { VolumeStore } from '../volumes/store';
import type { ResolvedMount } from './spec';
import { tmpfsOptions } from './spec';
import type { ContainerRecord, MountPoint, MountSpec } from './types';

const run = promisify(execFile);

const PROPAGATIONS = ['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate'];

function cleanDest(d: string, spec: string): string {
  if (!d.startsWith('/')) throw new RuntimeError('InvalidArgument', `invalid volume specification: '${spec}': invalid mount config for type "volume": invalid mount path: '${d}' mount path must be absolute`);
  const n = path.posix.normalize(d);
  if (n === '/') throw new RuntimeError('InvalidArgument', `invalid volume specification: '${spec}': invalid mount config for type "bind": invalid specification: destination can't be '/'`);
  return n.replace(/\/$/, '');
}

/** Parses one -v value (src:dst[:mode] or /dst). */
export function parseBind(spec: string): { source: string; destination: string; mode: string } {
  const parts = spec.split(':');
  if (parts.length === 1) return { source: '', destination: cleanDest(parts[0]!, spec), mode: '' };
  if (parts.length > 3 || parts.some((p) => p === '')) throw new RuntimeError('InvalidArgument', `invalid volume specification: '${spec}'`);
  if (parts.length === 2 && parts[0]!.startsWith('/') === false && parts[1]!.startsWith('/') === false) throw new RuntimeError('InvalidArgument', `invalid volume specification: '${spec}'`);
  const [source, dest, mode = ''] = parts as [string, string, string?];
  for (const m of mode ? mode.split(',') : []) {
    if (!['ro', 'rw', 'z', 'Z', 'nocopy', 'consistent', 'cached', 'delegated', ...PROPAGATIONS].includes(m)) throw new RuntimeError('InvalidArgument', `invalid mode: ${mode}`);
  }
  return { source, destination: cleanDest(dest, spec), mode };
}

export type MountDeps = { volumes: VolumeStore; findContainer(ref: string): ContainerRecord };

/**
 * Resolves the mounts of a new container; creates the named volumes it names and the anonymous ones
 * it needs (returned so a failed create can remove them again).
 */
export async function resolveMounts(d: MountDeps, rec: Pick<ContainerRecord, 'Config' | 'HostConfig'>, imageVolumes: string[]): Promise<{ mounts: MountPoint[]; createdVolumes: string[] }> {
  const mounts: MountPoint[] = [];
  const created: string[] = [];
  const dests = new Set<string>();
  const add = (m: MountPoint) => {
    if (dests.has(m.Destination)) throw new RuntimeError('InvalidArgument', `Duplicate mount point: ${m.Destination}`);
    dests.add(m.Destination);
    mounts.push(m);
  };
  const volume = async (name: string, anonymous: boolean, labels?: Record<string, string>, options?: Record<string, string>) => {
    const r = await d.volumes.create({ name: name || undefined, anonymous, labels, options });
    if (r.created) created.push(r.volume.Name);
    return r.volume;
  };
  try {
    for (const b of rec.HostConfig.Binds ?? []) {
      const p = parseBind(b);
      const modes = p.mode ? p.mode.split(',') : [];
      const rw = !modes.includes('ro');
      const prop = modes.find((m) => PROPAGATIONS.includes(m)) ?? 'rprivate';
      if (p.source.startsWith('/')) {
        // -v creates a missing host directory (--mount does not).
        await fs.mkdir(p.source, { recursive: true });
        add({ Type: 'bind', Source: path.posix.normalize(p.source), Destination: p.destination, Mode: p.mode, RW: rw, Propagation: prop });
      } else {
        const v = await volume(p.source, false);
        if (modes.includes('nocopy')) await d.volumes.copied(v.Name);
        add({ Type: 'volume', Name: v.Name, Source: v.Mountpoint, Destination: p.destination, Driver: 'local', Mode: p.mode || 'z', RW: rw, Propagation: '' });
      }
    }
    for (const m of (rec.HostConfig.Mounts ?? []) as MountSpec[]) {
      const dest = cleanDest(m.Target ?? '', m.Target ?? '');
      if (m.Type === 'bind') {
        if (!m.Source) throw new RuntimeError('InvalidArgument', `invalid mount config for type "bind": field Source must not be empty`);
        try {
          await fs.stat(m.Source);
        } catch {
          if (!m.BindOptions?.CreateMountpoint) throw new RuntimeError('InvalidArgument', `invalid mount config for type "bind": bind source path does not exist: ${m.Source}`);
          await fs.mkdir(m.Source, { recursive: true });
        }
        add({ Type: 'bind', Source: m.Source, Destination: dest, Mode: '', RW: !m.ReadOnly, Propagation: m.BindOptions?.Propagation || 'rprivate' });
      } else if (m.Type === 'volume') {
        const v = await volume(m.Source ?? '', !m.Source, m.VolumeOptions?.Labels, m.VolumeOptions?.DriverConfig?.Options);
        if (m.VolumeOptions?.NoCopy) await d.volumes.copied(v.Name);
        add({ Type: 'volume', Name: v.Name, Source: v.Mountpoint, Destination: dest, Driver: 'local', Mode: 'z', RW: !m.ReadOnly, Propagation: '' });
      } else if (m.Type === 'tmpfs') {
        if (m.Source) throw new RuntimeError('InvalidArgument', `invalid mount config for type "tmpfs": field Source must not be specified`);
        const opts: string[] = [];
        if (m.TmpfsOptions?.SizeBytes) opts.push(`size=${m.TmpfsOptions.SizeBytes}`);
        if (m.TmpfsOptions?.Mode) opts.push(`mode=${m.TmpfsOptions.Mode.toString(8)}`);
        if (m.ReadOnly) opts.push('ro');
        add({ Type: 'tmpfs', Source: '', Destination: dest, Mode: opts.join(','), RW: !m.ReadOnly, Propagation: '' });
      } else throw new RuntimeError('InvalidArgument', `mount type unknown: ${JSON.stringify(m.Type)}`);
    }
    for (const vf of rec.HostConfig.VolumesFrom ?? []) {
      const [ref, mode] = vf.split(':') as [string, string?];
      if (mode && mode !== 'ro' && mode !== 'rw') throw new RuntimeError('InvalidArgument', `invalid mode for volumes-from: ${mode}`);
      const other = d.findContainer(ref);
      for (const m of other.MountPoints) {
        if (m.Type === 'tmpfs' || dests.has(m.Destination)) continue;
        add({ ...m, RW: mode ? mode === 'rw' : m.RW });
      }
    }
    const anon = new Set([...Object.keys(rec.Config.Volumes ?? {}), ...imageVolumes]);
    for (const p of [...anon].sort()) {
      const dest = cleanDest(p, p);
      if (dests.has(dest)) continue;
      const v = await volume('', true);
      add({ Type: 'volume', Name: v.Name, Source: v.Mountpoint, Destination: dest, Driver: 'local', Mode: '', RW: true, Propagation: '' });
    }
  } catch (e) {
    for (const n of created) await d.volumes.remove(n, [], true).catch(() => undefined);
    throw e;
  }
  return { mounts, createdVolumes: created };
}

/** Copies what the image has at dest into an empty new volume (Docker's copy-up). */
async function copyUp(rootfs: string, dest: string, dir: string): Promise<void> {
  let src: string;
  try {
    src = await resolveInRoot(rootfs, dest);
  } catch {
    return;
  }
  const st = await fs.lstat(src).catch(() => undefined);
  if (!st?.isDirectory()) return;
  if ((await fs.readdir(dir)).length > 0) return;
  await run('cp', ['-a', '--', `${src}/.`, dir]);
  await fs.chown(dir, st.uid, st.gid);
  await fs.chmod(dir, st.mode & 0o7777);
}

/** The host side of each mount point at start (volumes acquired, copied up when new). */
export async function startMounts(d: MountDeps, rec: ContainerRecord, rootfs: string): Promise<{ mounts: ResolvedMount[]; release: () => Promise<void> }> {
  const out: ResolvedMount[] = [];
  const acquired: string[] = [];
  const release = async () => {
    for (const n of acquired.splice(0)) await d.volumes.release(n).catch(() => undefined);
  };
  try {
    for (const m of rec.MountPoints) {
      if (m.Type === 'tmpfs') {
        out.push({ type: 'tmpfs', source: 'tmpfs', destination: m.Destination, options: tmpfsOptions(m.Mode) });
        continue;
      }
      let source = m.Source;
      if (m.Type === 'volume' && m.Name) {
        if (!d.volumes.has(m.Name)) throw new RuntimeError('NotFound', `get ${m.Name}: no such volume`);
        source = await d.volumes.acquire(m.Name);
        acquired.push(m.Name);
        const v = d.volumes.get(m.Name);
        if (v.PendingCopy) {
          await copyUp(rootfs, m.Destination, source);
          await d.volumes.copied(m.Name);
        }
      } else {
        try {
          await fs.stat(source);
        } catch {
          throw new RuntimeError('InvalidArgument', `invalid mount config for type "bind": bind source path does not exist: ${source}`);
        }
      }
      const opts = ['rbind', m.RW ? 'rw' : 'ro'];
      if (m.Propagation) opts.push(m.Propagation);
      out.push({ type: 'bind', source, destination: m.Destination, options: opts });
    }
  } catch (e) {
    await release();
    throw e;
  }
  return { mounts: out, release };
}
