import { strict as assert } from "assert";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend";
import { trackBackendMemory } from "../../src/plan";
import { globalNorm } from "../../src/train";

describe("train/clip: the global norm", () => {
  before(async () => {
    await initBackend();
  });

  it("is sqrt of the sum of all squares (closed form), holding one square at a time", () => {
    const sizes = [50000, 20000, 30000]; // 400 KiB of gradients in all
    const grads = sizes.map((n, i) => tf.fill([n], i + 1));
    const tracker = trackBackendMemory();
    let norm = NaN;
    try {
      const t = globalNorm(grads);
      norm = t.dataSync()[0];
      t.dispose();
    } finally {
      tracker.stop();
      tf.dispose(grads);
    }
    const expected = Math.sqrt(sizes.reduce((s, n, i) => s + n * (i + 1) ** 2, 0));
    assert.ok(Math.abs(norm - expected) <= 1e-5 * expected, `${norm} vs ${expected}`);
    // A copy of the largest gradient (200 KB) and a few scalars, not a second copy of all 400 KB.
    assert.ok(tracker.peakBytes < 4 * Math.max(...sizes) + 64 * 1024, `peak ${tracker.peakBytes} bytes`);
  });
});
