/** A test helper for suites that switch compute backends (kept out of helpers.ts, which the clone test compiles alone). */
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../src/backend";

/**
 * Mocha hooks for a suite whose tests switch compute backends: tsml's backend is started before the suite
 * (then `first`, when given, is selected) and whatever backend was in use is restored after it.
 */
export function restoresBackend(first?: "wasm" | "cpu"): void {
  let original = "";
  before(async () => {
    await initBackend();
    original = tf.getBackend();
    if (first && !(await tf.setBackend(first))) throw new Error(`the ${first} backend did not start`);
  });
  after(async () => {
    await tf.setBackend(original);
  });
}
