// Runs an esbuild bundle of the app (npm run build:app) as the main module, with V8's code
// cache: the bytecode of the ~3 MB bundle is stored beside it on the first run and reused
// afterwards (node 22 has this built in as module.enableCompileCache; this project supports
// node 20). The cache file is named by a hash of the bundle's content: V8 itself checks only
// the source length, so a rebuilt bundle must never meet an older cache. A cache from another
// node version is rejected by V8 and rewritten; the cache never changes what the bundle does.
//   node scripts/run-bundle.cjs .cache/app/main.js
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const file = path.resolve(process.argv[2] ?? '');
const source = fs.readFileSync(file, 'utf8');
const digest = crypto.createHash('sha1').update(source).digest('hex').slice(0, 16);
const cacheFile = `${file}.${digest}.v8cache`;
let cachedData;
try {
  cachedData = fs.readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });

const main = new Module(file, null);
main.filename = file;
main.paths = Module._nodeModulePaths(path.dirname(file));
main.loaded = true;
process.mainModule = main;
const req = Module.createRequire(file);
req.main = main;
script.runInThisContext().call(main.exports, main.exports, req, main, file, path.dirname(file));

if (cachedData === undefined || script.cachedDataRejected) {
  try {
    const dir = path.dirname(file);
    const stale = new RegExp(
      `^${path.basename(file).replace(/\./g, '\\.')}\\.[0-9a-f]{16}\\.v8cache$`,
    );
    for (const name of fs.readdirSync(dir)) if (stale.test(name)) fs.rmSync(path.join(dir, name));
    fs.writeFileSync(cacheFile, script.createCachedData());
  } catch {
    // A read-only checkout only loses the speed-up.
  }
}
