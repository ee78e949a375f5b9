#!/usr/bin/env node
// Start-up loader for a keel CLI bundle: runs <prefix>/dist/<name>.js through a V8 code cache
// (<name>.js.cache, written by `make`), so the bundle is not parsed and compiled from source on
// every invocation. A missing or stale cache (another node) is ignored by V8; nothing else changes.
// A bundle loads its split-off parts (dock's daemon and compose) the same way, through
// globalThis[Symbol.for('keel.loadBundle')]; `dock daemon` runs the daemon's bundle without the CLI's.
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const Module = require('module');

const dist = path.join(__dirname, '..', 'dist');
// bin/dock's sh front (cmd/manager/dock-front.sh) moved NODE_EXTRA_CA_CERTS aside for `dock compose`
// (node loads the file at start-up, before any JS): put it back for every process the command
// starts, an auto-started engine above all.
if (process.env.KEEL_EXTRA_CA_CERTS !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = process.env.KEEL_EXTRA_CA_CERTS;
  delete process.env.KEEL_EXTRA_CA_CERTS;
}
// Commands that run a part alone: its exported main(args) gets the arguments after the command (it
// may still load the CLI's bundle, which reads process.argv); v8 flags are set before the part
// loads. The daemon's young generation stays at its first size instead of doubling (to 8 MiB and more) during its start-up and under bursts of requests: a
// daemon's RSS is paid for as long as it runs, a few more scavenges are not. (V8 reads this flag
// whenever it grows the space, so setting it at run time works; the code cache is recorded with it.)
const DIRECT = { dock: { daemon: { entry: 'daemon-entry', v8: '--semi-space-growth-factor=1' }, compose: { entry: 'compose-entry' } } };

/** Runs dist/<entry>.js (once) and returns its exports. */
function loadBundle(entry) {
  const file = path.join(dist, `${entry}.js`);
  const seen = Module._cache[file];
  if (seen) return seen.exports;
  const cacheFile = `${file}.cache`;
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, cachedData });
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(path.dirname(file));
  Module._cache[file] = mod;
  if (process.env.KEEL_WRITE_CODE_CACHE === '1') {
    // make: record the functions a typical run compiled, after it finished.
    process.on('exit', () => fs.writeFileSync(cacheFile, script.createCachedData()));
  }
  script.runInThisContext()(mod.exports, (id) => mod.require(id), mod, file, path.dirname(file));
  mod.loaded = true;
  return mod.exports;
}
globalThis[Symbol.for('keel.loadBundle')] = loadBundle;

const name = path.basename(__filename);
const direct = DIRECT[name] && Object.hasOwn(DIRECT[name], process.argv[2] ?? '') ? DIRECT[name][process.argv[2]] : undefined;
if (direct) {
  if (direct.v8) require('v8').setFlagsFromString(direct.v8);
  loadBundle(direct.entry).main(process.argv.slice(3));
} else loadBundle(name);
