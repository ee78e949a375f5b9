// Leases keep freshly written blobs alive until an image record names them (containerd's leases,
// reduced to a file per lease): a pull or load in one process must not lose blobs to an rmi's gc in
// another. A lease file holds its owner's pid; leases of dead processes are ignored and removed.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

export type Lease = {
  /** Protects digests from gc until release. */
  add(...digests: string[]): Promise<void>;
  release(): Promise<void>;
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Leases {
  constructor(private readonly dir: string) {}

  async create(): Promise<Lease> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = path.join(this.dir, `${process.pid}-${randomBytes(6).toString('hex')}`);
    const digests = new Set<string>();
    await fs.writeFile(file, '');
    return {
      add: async (...ds: string[]) => {
        for (const d of ds) digests.add(d);
        await fs.writeFile(file, [...digests].join('\n'));
      },
      release: () => fs.rm(file, { force: true }),
    };
  }

  /** Every digest held by a live lease. */
  async held(): Promise<Set<string>> {
    const out = new Set<string>();
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return out;
      throw e;
    }
    for (const n of names) {
      const pid = Number.parseInt(n.split('-')[0]!, 10);
      if (!Number.isInteger(pid) || !alive(pid)) {
        await fs.rm(path.join(this.dir, n), { force: true });
        continue;
      }
      const text = await fs.readFile(path.join(this.dir, n), 'utf8').catch(() => '');
      for (const d of text.split('\n')) if (d) out.add(d);
    }
    return out;
  }
}
