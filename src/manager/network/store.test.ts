import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { NetworkStore } from './store';
import type { SandboxRecord } from './types';

const rec = (id: string): SandboxRecord => ({ containerId: id, name: id, netnsPath: `/run/x/${id}`, endpoints: [], ports: [], dns: [] });

test('sandbox records: saved by rename, torn or foreign ones dropped at load, temp files swept', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'knet-store-'));
  try {
    const st = new NetworkStore(root);
    for (const id of ['a', 'b', 'c', 'd']) st.saveSandbox(rec(id));
    const file = (id: string) => path.join(st.sandboxesDir, `${id}.json`);
    fs.writeFileSync(file('b'), fs.readFileSync(file('b'), 'utf8').slice(0, 20));
    fs.writeFileSync(file('c'), '');
    fs.writeFileSync(file('d'), '{"containerId":"d"}');
    fs.writeFileSync(path.join(st.sandboxesDir, '.a.json.1.tmp'), '{');
    assert.deepEqual(
      st.loadSandboxes().map((s) => s.containerId),
      ['a'],
    );
    assert.deepEqual(fs.readdirSync(st.sandboxesDir), ['a.json']);
    st.saveSandbox({ ...rec('a'), name: 'renamed' });
    assert.equal(new NetworkStore(root).loadSandboxes()[0]!.name, 'renamed');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
