// Container records: the in-memory index (by id, by name) that the daemon alone writes, persisted
// per container as <data-root>/containers/<id>/config.v2.json + hostconfig.json (atomic replace).
// Lookups accept a full id, a unique id prefix or a name, with Docker's errors.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { RuntimeError } from '../../errors/index';
import { writeFileAtomicAsync } from '../fs-util';
import type { ContainerRecord } from './types';

const ADJECTIVES = [
  'amber', 'brave', 'calm', 'clever', 'crisp', 'dazzling', 'eager', 'elated', 'fervent', 'gentle', 'glad', 'hardy', 'humble',
  'jolly', 'keen', 'kind', 'lively', 'lucid', 'merry', 'mellow', 'nifty', 'nimble', 'noble', 'patient', 'placid', 'plucky',
  'proud', 'quiet', 'quirky', 'rapid', 'serene', 'sharp', 'sleepy', 'snug', 'spry', 'steady', 'stoic', 'sunny', 'swift',
  'tender', 'tidy', 'trusty', 'upbeat', 'vivid', 'wise', 'witty', 'zealous', 'zesty', 'bold', 'cosmic',
];
const NAMES = [
  'agnesi', 'banach', 'bohr', 'boole', 'cantor', 'carson', 'curie', 'darwin', 'dijkstra', 'euclid', 'euler', 'faraday',
  'fermat', 'fermi', 'feynman', 'franklin', 'galois', 'gauss', 'germain', 'goodall', 'hamilton', 'hopper', 'hypatia',
  'jemison', 'kepler', 'knuth', 'lamarr', 'laplace', 'leavitt', 'lovelace', 'maxwell', 'meitner', 'mendel', 'mirzakhani',
  'newton', 'noether', 'pascal', 'pasteur', 'planck', 'ramanujan', 'riemann', 'sagan', 'shannon', 'somerville', 'tesla',
  'thompson', 'turing', 'volta', 'wiles', 'wright',
];

/** A Docker-style random name (adjective_scientist) not in use. */
export function randomName(taken: (n: string) => boolean): string {
  for (let i = 0; ; i++) {
    const a = ADJECTIVES[randomBytes(1)[0]! % ADJECTIVES.length]!;
    const n = NAMES[randomBytes(1)[0]! % NAMES.length]!;
    const name = i < 10 ? `${a}_${n}` : `${a}_${n}${i}`;
    if (!taken(name)) return name;
  }
}

/** Docker's name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (after an optional leading /). */
export function validateName(name: string): string {
  const n = name.replace(/^\//, '');
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(n)) throw new RuntimeError('InvalidArgument', `Invalid container name (${n}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return n;
}

export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

export class ContainerStore {
  private readonly byId = new Map<string, ContainerRecord>();
  private readonly byName = new Map<string, string>();

  constructor(readonly dir: string) {}

  /** Reads every record from disk (a directory without a readable record is reported, not fatal). */
  async load(onBad: (id: string, err: unknown) => void): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o710 });
    for (const id of await fs.readdir(this.dir)) {
      if (!/^[a-f0-9]{64}$/.test(id)) continue;
      try {
        const r = JSON.parse(await fs.readFile(path.join(this.dir, id, 'config.v2.json'), 'utf8')) as ContainerRecord;
        this.byId.set(r.ID, r);
        this.byName.set(r.Name.replace(/^\//, ''), r.ID);
      } catch (e) {
        onBad(id, e);
      }
    }
  }

  containerDir(id: string): string {
    return path.join(this.dir, id);
  }

  all(): ContainerRecord[] {
    return [...this.byId.values()];
  }

  get(id: string): ContainerRecord | undefined {
    return this.byId.get(id);
  }

  nameTaken(name: string): string | undefined {
    return this.byName.get(name.replace(/^\//, ''));
  }

  /**
   * Resolves a reference as Docker does: full id, then exact name, then unique id prefix.
   * NotFound: "No such container: ref".
   */
  find(ref: string): ContainerRecord {
    const r = ref.replace(/^\//, '');
    const byId = this.byId.get(r);
    if (byId) return byId;
    const byName = this.byName.get(r);
    if (byName) return this.byId.get(byName)!;
    if (/^[a-f0-9]+$/.test(r)) {
      const m = [...this.byId.keys()].filter((id) => id.startsWith(r));
      if (m.length > 1) throw new RuntimeError('InvalidArgument', `multiple IDs found with provided prefix: ${r}`);
      if (m.length === 1) return this.byId.get(m[0]!)!;
    }
    throw new RuntimeError('NotFound', `No such container: ${ref}`);
  }

  /** Reserves name for id; 409 naming the holder when taken. */
  reserveName(name: string, id: string): void {
    const n = name.replace(/^\//, '');
    const holder = this.byName.get(n);
    if (holder && holder !== id) {
      throw new RuntimeError(
        'AlreadyExists',
        `Conflict. The container name "/${n}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
    this.byName.set(n, id);
  }

  releaseName(name: string, id: string): void {
    const n = name.replace(/^\//, '');
    if (this.byName.get(n) === id) this.byName.delete(n);
  }

  /** HostConfig as last written, per container (hostconfig.json is rewritten only when it changes). */
  private readonly writtenHostConfig = new Map<string, string>();

  /**
   * Adds (or replaces) a record in memory and writes it to disk: config.v2.json is the record
   * (read back at start-up); hostconfig.json is Docker's layout for people who look.
   */
  async save(r: ContainerRecord): Promise<void> {
    this.byId.set(r.ID, r);
    this.byName.set(r.Name.replace(/^\//, ''), r.ID);
    const dir = this.containerDir(r.ID);
    const hc = JSON.stringify(r.HostConfig);
    if (this.writtenHostConfig.get(r.ID) !== hc) {
      await fs.mkdir(dir, { recursive: true, mode: 0o710 });
      await writeFileAtomicAsync(path.join(dir, 'hostconfig.json'), hc);
      this.writtenHostConfig.set(r.ID, hc);
    }
    await writeFileAtomicAsync(path.join(dir, 'config.v2.json'), JSON.stringify(r));
  }

  /** Drops the record from memory and disk (the container directory goes with it). */
  async remove(r: ContainerRecord): Promise<void> {
    this.byId.delete(r.ID);
    this.writtenHostConfig.delete(r.ID);
    this.releaseName(r.Name, r.ID);
    await fs.rm(this.containerDir(r.ID), { recursive: true, force: true });
  }
}
