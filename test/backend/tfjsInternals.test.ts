/** The tfjs whose internals src/backend/tfjsInternals.ts types is the one installed: a new tfjs fails here first. */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { TFJS_INTERNALS_VERSION, engineInternals, isVariableNameTaken } from "../../src/backend/tfjsInternals";
import { repoRoot } from "../helpers";

describe("backend/tfjsInternals: the pinned tfjs", () => {
  it("is the installed tfjs and the version package.json pins for tfjs and its WASM backend", () => {
    const message = `tfjs internals are typed for ${TFJS_INTERNALS_VERSION}: run the tests listed in src/backend/tfjsInternals.ts, then move the pin`;
    assert.equal(tf.version.tfjs, TFJS_INTERNALS_VERSION, message);
    const pinned = JSON.parse(fs.readFileSync(path.join(repoRoot(), "package.json"), "utf8")).dependencies;
    assert.deepEqual([pinned["@tensorflow/tfjs"], pinned["@tensorflow/tfjs-backend-wasm"]], [TFJS_INTERNALS_VERSION, TFJS_INTERNALS_VERSION], message);
  });

  it("reads the engine's tape state and its variable names", () => {
    assert.equal(engineInternals().state.gradientDepth, 0);
    const name = `tfjsInternals-test-${process.pid}`;
    assert.equal(isVariableNameTaken(name), false);
    const v = tf.variable(tf.scalar(1), false, name);
    try {
      assert.equal(isVariableNameTaken(name), true);
    } finally {
      v.dispose();
    }
    assert.equal(isVariableNameTaken(name), false);
  });
});
