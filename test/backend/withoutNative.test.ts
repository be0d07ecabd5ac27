/**
 * The WebAssembly-only path (`TSML_NATIVE=0`: no native BLAS, products on XNNPACK) checked against the same golden
 * fixtures and kernel comparisons as the native path: those suites run again in a child process with it off (with
 * dropout, the GELU / LayerNorm / band kernels, AdamW's host update and the determinism check, whose WASM kernels then
 * run their JavaScript and WebAssembly builds).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";

describe("TSML_NATIVE=0: the golden fixtures, matrix products and dropout on WebAssembly alone", function () {
  this.timeout(600_000);

  it("the Longformer golden, ops and determinism suites, the matMul and WASM kernel suites and AdamW's pass with the native addon off", () => {
    const dist = path.resolve(__dirname, "..", "..");
    const suites = [
      "test/models/longformer/golden.test.js",
      "test/models/longformer/ops.test.js",
      "test/models/longformer/determinism.test.js",
      "test/backend/matMul.test.js",
      "test/backend/kernels.test.js",
      "test/train/optimizer.test.js",
    ].map((file) => path.join(dist, file));
    const mocha = require.resolve("mocha/bin/mocha.js");
    const env: NodeJS.ProcessEnv = { ...process.env, TSML_NATIVE: "0" };
    delete env.TSML_REQUIRE_NATIVE;
    const result = spawnSync(process.execPath, [mocha, "--reporter", "dot", ...suites], { env, encoding: "utf8" });
    const output = `${result.stdout}${result.stderr}`;
    assert.equal(result.status, 0, output);
    const passing = Number(/(\d+) passing/.exec(output)?.[1] ?? 0);
    assert.ok(
      passing >= 58,
      `expected the golden (25), ops (5), determinism (2), matMul (5), kernels (11) and optimizer (10) suites to run, got ${passing} passing:\n${output}`,
    );
    assert.doesNotMatch(output, /pending/, "nothing skipped");
  });
});
