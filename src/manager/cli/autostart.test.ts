// Auto-start with a stand-in daemon (a real process answering /_ping on a unix socket): started once
// even by concurrent CLIs, one stderr line, nothing started when one already answers, and a daemon
// that dies is reported with its status and log path.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { EngineClient } from '../api/client';
import { ensureDaemon } from './autostart';

let work: string;
const pids: number[] = [];

// argv: <socket> <pidfile> <exit-code-or-"serve"> daemon
const FAKE = `
const http = require('http'); const fs = require('fs');
const [sock, pidfile, mode] = process.argv.slice(2);
fs.appendFileSync(pidfile, process.pid + '\\n');
if (process.argv.at(-1) !== 'daemon') process.exit(9);
if (mode !== 'serve') { console.error('fake daemon failing'); process.exit(Number(mode)); }
setTimeout(() => http.createServer((q, r) => { r.setHeader('Api-Version', '1.45'); r.end('OK'); }).listen(sock), 300);
`;

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'dock-autostart-'));
  fs.writeFileSync(path.join(work, 'fake.js'), FAKE);
});
after(() => {
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  fs.rmSync(work, { recursive: true, force: true });
});

test('starts the daemon once for concurrent clients, says so once, then finds it running', async () => {
  const sock = path.join(work, 'a.sock');
  const pidfile = path.join(work, 'a.pids');
  const paths = { execRoot: path.join(work, 'exec-a'), log: path.join(work, 'a.log'), timeoutMs: 20_000 };
  const argv = [process.execPath, path.join(work, 'fake.js'), sock, pidfile, 'serve'];
  const said: string[] = [];
  const clients = [0, 1, 2].map(() => new EngineClient({ host: `unix://${sock}` }));
  await Promise.all(clients.map((c) => ensureDaemon(c, argv, (l) => said.push(l), paths)));
  const started = fs.readFileSync(pidfile, 'utf8').trim().split('\n').map(Number);
  pids.push(...started);
  assert.equal(started.length, 1, 'one daemon for three clients');
  assert.equal(said.length, 1);
  assert.equal(said[0], `dock: no daemon was running; started one (pid ${started[0]}, log ${paths.log})\n`);
  assert.ok(!fs.existsSync(path.join(paths.execRoot, '.autostart')), 'the lock is gone');
  await ensureDaemon(new EngineClient({ host: `unix://${sock}` }), argv, (l) => said.push(l), paths);
  assert.equal(said.length, 1, 'a running daemon is not started again');
  assert.equal(fs.readFileSync(pidfile, 'utf8').trim().split('\n').length, 1);
  clients.forEach((c) => c.close());
});

test('a daemon that exits is reported with its status and log', async () => {
  const sock = path.join(work, 'b.sock');
  const paths = { execRoot: path.join(work, 'exec-b'), log: path.join(work, 'b.log'), timeoutMs: 20_000 };
  const argv = [process.execPath, path.join(work, 'fake.js'), sock, path.join(work, 'b.pids'), '3'];
  await assert.rejects(ensureDaemon(new EngineClient({ host: `unix://${sock}` }), argv, () => undefined, paths), {
    message: `Cannot start the dock daemon: exit status 3; see ${paths.log}`,
  });
  assert.match(fs.readFileSync(paths.log, 'utf8'), /fake daemon failing/);
  assert.ok(!fs.existsSync(path.join(paths.execRoot, '.autostart')));
});
