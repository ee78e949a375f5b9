// `compose config`: the normalized model printed back as YAML (or JSON), services and their keys in
// a stable order, plus the --services / --volumes / --hash listings.
import { stringify } from 'yaml';
import { RuntimeError } from '../../errors/index';
import { serviceHash } from './hash';
import type { Project, Service } from './model';

function sorted<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}

function serviceDoc(s: Service): Record<string, unknown> {
  const { name: _name, ...rest } = s;
  return sorted(rest as Record<string, unknown>);
}

/** The project as compose v2 prints it (name, services, networks, volumes). */
export function projectDoc(p: Project): Record<string, unknown> {
  const doc: Record<string, unknown> = { name: p.name };
  const services: Record<string, unknown> = {};
  for (const n of Object.keys(p.services).sort()) services[n] = serviceDoc(p.services[n]!);
  doc.services = services;
  if (Object.keys(p.networks).length) doc.networks = sorted(p.networks);
  if (Object.keys(p.volumes).length) doc.volumes = sorted(p.volumes);
  return doc;
}

export function renderConfig(p: Project, format: 'yaml' | 'json' = 'yaml'): string {
  const doc = projectDoc(p);
  if (format === 'json') return `${JSON.stringify(doc, null, 2)}\n`;
  return stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** `config --services`: enabled service names, one a line. */
export function renderServices(p: Project): string {
  return Object.keys(p.services).map((n) => `${n}\n`).join('');
}

/** `config --volumes`: volume keys, one a line. */
export function renderVolumes(p: Project): string {
  return Object.keys(p.volumes).sort().map((n) => `${n}\n`).join('');
}

/** `config --hash=a,b` or `--hash='*'`: "service hash" lines. */
export function renderHashes(p: Project, which: string): string {
  const names = which === '*' ? Object.keys(p.services).sort() : which.split(',').map((s) => s.trim());
  return names.map((n) => {
    const s = p.services[n];
    if (!s) throw new RuntimeError('NotFound', `no such service: ${n}`);
    return `${n} ${serviceHash(s)}\n`;
  }).join('');
}
