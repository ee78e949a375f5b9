// The config hash of a service (label com.docker.compose.config-hash): SHA-256 of a canonical JSON
// projection of the normalized service. Fields that do not change the container (build, scale,
// replicas, depends_on, profiles, pull_policy) are left out, keys are sorted, and empty or default
// values are dropped, so a field that the model gains later does not change every hash
// (docker/compose#11335, #9600).
import { createHash } from 'node:crypto';
import type { Service } from './model';

const EXCLUDED = new Set(['build', 'scale', 'depends_on', 'profiles', 'pull_policy']);

/** A value with sorted keys and without undefined, null-free empties and false flags. */
function canonical(v: unknown, top = false): unknown {
  if (Array.isArray(v)) return v.map((x) => canonical(x));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      if (top && EXCLUDED.has(k)) continue;
      const c = canonical((v as Record<string, unknown>)[k]);
      if (c === undefined || c === false) continue;
      if (Array.isArray(c) && c.length === 0) continue;
      if (c && typeof c === 'object' && !Array.isArray(c) && Object.keys(c).length === 0) continue;
      out[k] = c;
    }
    return out;
  }
  return v;
}

/** The projection that is hashed (exported for tests and `config --hash`). */
export function hashProjection(s: Service): unknown {
  const c = canonical(s, true) as Record<string, unknown>;
  const deploy = c.deploy as Record<string, unknown> | undefined;
  if (deploy) {
    delete deploy.replicas;
    if (Object.keys(deploy).length === 0) delete c.deploy;
  }
  return c;
}

export function serviceHash(s: Service): string {
  return createHash('sha256').update(JSON.stringify(hashProjection(s))).digest('hex');
}
