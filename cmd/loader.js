#!/usr/bin/env node
// Start-up loader for a keel CLI bundle: runs <prefix>/dist/<name>.js through a V8 code cache
// (<name>.js.cache, written by `make`), so the bundle is not parsed and compiled from source on
// every invocation. A missing or stale cache (another node) is ignored by V8; nothing else changes.
'use strict';
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const Module = require('module');

const name = path.basename(__filename);
const file = path.join(__dirname, '..', 'dist', `${name}.js`);
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
if (process.env.KEEL_WRITE_CODE_CACHE === '1') {
  // make: record the functions a typical run compiled, after it finished.
  process.on('exit', () => fs.writeFileSync(cacheFile, script.createCachedData()));
}
script.runInThisContext()(mod.exports, (id) => mod.require(id), mod, file, path.dirname(file));
