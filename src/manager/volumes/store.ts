// The `local` volume driver: <data-root>/volumes/<name>/_data plus opts.json (the record). Volumes
// with mount options (type/device/o, as `docker volume create --opt`) are mounted on _data while
// containers use them. In-use accounting comes from the containers (the caller), not from here.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { RuntimeError } from '../../errors/index';
import { writeFileAtomicAsync } from '../fs-util';

const run = promisify(execFile);

export type Volume = {
  Name: string;
  Driver: 'local';
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string>;
  Options: Record<string, string>;
  Scope: 'local';
  /** Set until the first container copied the image's content into it (Docker's copy-up). */
  PendingCopy?: boolean;
  /** Made for one container (an image VOLUME or -v /path); removed by rm -v. */
  Anonymous?: boolean;
};

export function validVolumeName(name: string): boolean {
  return /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name);
}

export class VolumeStore {
  private readonly vols = new Map<string, Volume>();
  private readonly mountedBy = new Map<string, number>();

  constructor(readonly dir: string) {}

  async load(onBad: (name: string, err: unknown) => void): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o701 });
    for (const name of await fs.readdir(this.dir)) {
      try {
        const v = JSON.parse(await fs.readFile(path.join(this.dir, name, 'opts.json'), 'utf8')) as Volume;
        this.vols.set(v.Name, v);
      } catch (e) {
        onBad(name, e);
      }
    }
  }

  list(): Volume[] {
    return [...this.vols.values()];
  }

  get(name: string): Volume {
    const v = this.vols.get(name);
    if (!v) throw new RuntimeError('NotFound', `get ${name}: no such volume`);
    return v;
  }

  has(name: string): boolean {
    return this.vols.has(name);
  }

  private async save(v: Volume): Promise<void> {
    await writeFileAtomicAsync(path.join(this.dir, v.Name, 'opts.json'), JSON.stringify(v));
  }

  /** Creates a volume (an existing one of the same name is returned as it is, as Docker does). */
  async create(o: { name?: string; labels?: Record<string, string>; options?: Record<string, string>; driver?: string; anonymous?: boolean }): Promise<{ volume: Volume; created: boolean }> {
    if (o.driver && o.driver !== 'local') throw new RuntimeError('NotFound', `error looking up volume plugin ${o.driver}: plugin "${o.driver}" not found`);
    const name = o.name || randomBytes(32).toString('hex');
    if (!validVolumeName(name)) {
      throw new RuntimeError('InvalidArgument', `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
    }
    const existing = this.vols.get(name);
    if (existing) return { volume: existing, created: false };
    for (const k of Object.keys(o.options ?? {})) {
      if (!['type', 'device', 'o', 'size'].includes(k)) throw new RuntimeError('InvalidArgument', `create ${name}: invalid option key: "${k}"`);
    }
    const base = path.join(this.dir, name);
    const v: Volume = {
      Name: name,
      Driver: 'local',
      Mountpoint: path.join(base, '_data'),
      CreatedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      Labels: o.labels ?? {},
      Options: o.options ?? {},
      Scope: 'local',
      PendingCopy: true,
      ...(o.anonymous ? { Anonymous: true } : {}),
    };
    await fs.mkdir(v.Mountpoint, { recursive: true, mode: 0o755 });
    await fs.chmod(base, 0o701);
    await this.save(v);
    this.vols.set(name, v);
    return { volume: v, created: true };
  }

  /** Marks the copy-up done (or not wanted). */
  async copied(name: string): Promise<void> {
    const v = this.vols.get(name);
    if (!v || !v.PendingCopy) return;
    delete v.PendingCopy;
    await this.save(v);
  }

  /** Mounts a volume that has mount options (refcounted); plain volumes need nothing. */
  async acquire(name: string): Promise<string> {
    const v = this.get(name);
    if (v.Options.type || v.Options.device) {
      const n = this.mountedBy.get(name) ?? 0;
      if (n === 0) {
        const args = ['-t', v.Options.type || 'none'];
        if (v.Options.o) args.push('-o', v.Options.o);
        args.push(v.Options.device || v.Options.type || 'none', v.Mountpoint);
        try {
          await run('mount', args);
        } catch (e) {
          throw new RuntimeError('Internal', `error while mounting volume '${v.Mountpoint}': ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`);
        }
      }
      this.mountedBy.set(name, n + 1);
    }
    return v.Mountpoint;
  }

  async release(name: string): Promise<void> {
    const n = this.mountedBy.get(name) ?? 0;
    if (n <= 0) return;
    if (n === 1) {
      this.mountedBy.delete(name);
      await run('umount', [this.get(name).Mountpoint]).catch(() => undefined);
    } else this.mountedBy.set(name, n - 1);
  }

  /** Removes a volume; inUse lists the containers using it (409 when any). */
  async remove(name: string, inUse: string[], force = false): Promise<void> {
    const v = this.vols.get(name);
    if (!v) {
      if (force) return;
      throw new RuntimeError('NotFound', `get ${name}: no such volume`);
    }
    if (inUse.length > 0) throw new RuntimeError('AlreadyExists', `remove ${name}: volume is in use - [${inUse.join(', ')}]`);
    this.vols.delete(name);
    if (this.mountedBy.has(name)) {
      this.mountedBy.set(name, 1);
      await this.release(name);
    }
    await fs.rm(path.join(this.dir, name), { recursive: true, force: true });
  }

  /** Disk usage of a volume's data, in bytes (du). */
  async size(name: string): Promise<number> {
    try {
      const { stdout } = await run('du', ['-sb', this.get(name).Mountpoint]);
      return Number(stdout.split('\t')[0]) || 0;
    } catch {
      return -1;
    }
  }
}
