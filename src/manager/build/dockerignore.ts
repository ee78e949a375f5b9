// .dockerignore files with Docker's rules: reading (BOM, comments, Clean, leading "/" and "!"
// handling as patternmatcher's ReadAll), matching through @balena/dockerignore (a port of Docker's
// matcher: `*` stops at "/", `**`, exceptions, parents), and which file applies (`<Dockerfile>.dockerignore`
// beside the Dockerfile before `.dockerignore` at the context root, as BuildKit chooses).
import ignore from '@balena/dockerignore';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { errors } from '../../errors/index';

/** Go's path.Clean for a relative slash path. */
export function cleanPath(p: string): string {
  if (p === '') return '.';
  const abs = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!abs) out.push('..');
      continue;
    }
    out.push(part);
  }
  const s = out.join('/');
  return abs ? `/${s}` : s || '.';
}

/** The patterns of a .dockerignore file, normalised as Docker reads them. */
export function readIgnorePatterns(text: string): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  for (const raw of lines) {
    let p = raw.trim();
    if (p === '' || p.startsWith('#')) continue;
    const invert = p.startsWith('!');
    if (invert) p = p.slice(1).trim();
    if (p.length > 0) {
      p = cleanPath(p);
      if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
    }
    if (invert) {
      if (p === '') throw errors.invalid('illegal exclusion pattern: "!"');
      p = `!${p}`;
    }
    out.push(p);
  }
  return out;
}

/** A predicate over context-relative slash paths: true when the path is excluded. */
export type IgnoreMatcher = (rel: string) => boolean;

export function makeMatcher(patterns: readonly string[]): IgnoreMatcher {
  if (patterns.length === 0) return () => false;
  const ig = ignore({ ignorecase: false }).add([...patterns]);
  return (rel) => {
    const p = cleanPath(rel);
    return p !== '.' && ig.ignores(p);
  };
}

/** Keeps the Dockerfile and .dockerignore in the context, as the docker CLI does before sending it. */
export function keepBuildFiles(patterns: readonly string[], dockerfileRel: string | undefined): string[] {
  const out = [...patterns];
  const m = makeMatcher(out);
  if (m('.dockerignore')) out.push('!.dockerignore');
  if (dockerfileRel !== undefined && m(dockerfileRel)) out.push(`!${dockerfileRel}`);
  return out;
}

/**
 * The ignore file for a build: `<Dockerfile>.dockerignore` beside the Dockerfile when it exists,
 * else `.dockerignore` at the context root; undefined when there is none.
 */
export async function findIgnoreFile(contextDir: string, dockerfilePath: string | undefined): Promise<string | undefined> {
  const candidates: string[] = [];
  if (dockerfilePath !== undefined) candidates.push(`${path.resolve(contextDir, dockerfilePath)}.dockerignore`);
  candidates.push(path.join(contextDir, '.dockerignore'));
  for (const c of candidates) {
    try {
      const st = await fs.stat(c);
      if (st.isFile()) return c;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return undefined;
}

/** Reads the patterns of the ignore file that applies (empty when there is none). */
export async function loadIgnorePatterns(contextDir: string, dockerfilePath: string | undefined): Promise<{ file?: string; patterns: string[] }> {
  const file = await findIgnoreFile(contextDir, dockerfilePath);
  if (!file) return { patterns: [] };
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw errors.invalid(`error reading .dockerignore: ${(e as Error).message}`);
  }
  return { file, patterns: readIgnorePatterns(text) };
}
