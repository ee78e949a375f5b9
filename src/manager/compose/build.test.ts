import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { extract } from 'tar-stream';
import { contextFiles, contextTar } from './build';

function tree(files: Record<string, string>): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-ctx-'));
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
    fs.writeFileSync(path.join(d, f), text);
  }
  return d;
}

test('.dockerignore excludes paths anchored at the context root; Dockerfile and .dockerignore always go', () => {
  const d = tree({ Dockerfile: 'FROM x', '.dockerignore': 'Dockerfile\n*.log\nbuild/\n!build/keep.txt\n# comment\n', 'a.log': '', 'src/b.log': '', 'src/main.c': '', 'build/out.o': '', 'build/keep.txt': '' });
  try {
    // build/ is excluded, so its own entry is not sent; the exception still brings keep.txt.
    assert.deepEqual(contextFiles(d, 'Dockerfile'), ['.dockerignore', 'Dockerfile', 'build/keep.txt', 'src', 'src/b.log', 'src/main.c']);
  } finally {
    fs.rmSync(d, { recursive: true });
  }
});

test('<Dockerfile>.dockerignore next to the Dockerfile wins', () => {
  const d = tree({ 'app.Dockerfile': 'FROM x', 'app.Dockerfile.dockerignore': 'secret\n', '.dockerignore': 'other\n', secret: '', other: '' });
  try {
    assert.deepEqual(contextFiles(d, 'app.Dockerfile'), ['.dockerignore', 'app.Dockerfile', 'app.Dockerfile.dockerignore', 'other']);
  } finally {
    fs.rmSync(d, { recursive: true });
  }
});

test('the context tar holds the files with their contents and modes, owners zeroed', async () => {
  const d = tree({ Dockerfile: 'FROM x\n', 'bin/run.sh': '#!/bin/sh\n' });
  fs.chmodSync(path.join(d, 'bin/run.sh'), 0o755);
  fs.symlinkSync('run.sh', path.join(d, 'bin/link'));
  try {
    const seen: Record<string, { type: string; mode: number; uid: number; body: string; linkname?: string }> = {};
    const ex = extract();
    ex.on('entry', (h, stream, next) => {
      let body = '';
      stream.on('data', (c: unknown) => (body += String(c)));
      stream.on('end', () => {
        seen[h.name] = { type: h.type!, mode: h.mode!, uid: h.uid!, body, ...(h.linkname ? { linkname: h.linkname } : {}) };
        next();
      });
    });
    const done = new Promise<void>((r) => ex.on('finish', () => r()));
    contextTar(d, 'Dockerfile').pipe(ex);
    await done;
    assert.deepEqual(Object.keys(seen).sort(), ['Dockerfile', 'bin', 'bin/link', 'bin/run.sh']);
    assert.deepEqual(seen['bin/run.sh'], { type: 'file', mode: 0o755, uid: 0, body: '#!/bin/sh\n' });
    assert.equal(seen['bin/link']!.linkname, 'run.sh');
    assert.equal(seen.Dockerfile!.body, 'FROM x\n');
  } finally {
    fs.rmSync(d, { recursive: true });
  }
});
