#!/usr/bin/env node
// Builds tsml's optional native addon (native/blas.c: matrix products on the machine's BLAS) with node-gyp, offline:
// against the installed Node's own headers (e.g. /usr/include/node on Debian), never downloading any. Run by
// `npm install` (the package's install script) and by `npm run build:native`. It never fails the install: when the
// addon cannot be built, it says why in one line and tsml runs on WebAssembly (`npx tsml doctor` says the same).
"use strict";
const { spawnSync } = require("child_process");
const fs = require("fs");
const path = require("path");

const nativeDir = path.join(__dirname, "..", "native");
const fix = "install a C compiler and make (Debian: apt-get install g++ make libopenblas0), then `npm run build:native`";

function skip(reason) {
  console.log(`tsml: native BLAS addon not built: ${reason}; tsml will use WebAssembly (${fix})`);
  process.exit(0);
}

if (process.env.TSML_NATIVE === "0") skip("TSML_NATIVE=0");

// Node's headers: npm's nodedir setting, else the folder above the running node binary (/usr for /usr/bin/node).
const nodeDir = process.env.npm_config_nodedir || path.resolve(path.dirname(process.execPath), "..");
if (!fs.existsSync(path.join(nodeDir, "include", "node", "node_api.h"))) skip(`Node's headers are not in ${nodeDir}/include/node`);

const candidates = [
  process.env.npm_config_node_gyp,
  path.join(path.dirname(process.execPath), "..", "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"),
].filter(Boolean);
const nodeGyp = candidates.find((file) => fs.existsSync(file));
if (!nodeGyp) skip("node-gyp was not found (it comes with npm)");

const result = spawnSync(process.execPath, [nodeGyp, "rebuild", `--nodedir=${nodeDir}`, "--loglevel=error"], {
  cwd: nativeDir,
  encoding: "utf8",
  env: { ...process.env, npm_config_offline: "true" },
});
if (result.status !== 0) {
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim().split("\n");
  const log = path.join(nativeDir, "build-error.log");
  fs.writeFileSync(log, output.join("\n") + "\n");
  skip(`node-gyp failed (${output.filter((line) => /error/i.test(line))[0] ?? `exit ${result.status}`}; full output in ${log})`);
}
fs.rmSync(path.join(nativeDir, "build-error.log"), { force: true });
console.log(`tsml: native BLAS addon built (${path.join("native", "build", "Release", "tsml_native.node")})`);
