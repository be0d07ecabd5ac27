/** The Longformer's building blocks beyond what the golden fixtures cover: the dropout mask generator. */
import { strict as assert } from "assert";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../../src/backend";
import { dropoutMask } from "../../../src/models/longformer/ops";

describe("Longformer ops: dropoutMask", () => {
  before(async () => {
    await initBackend();
  });

  it("drops each element with probability `rate` (binomial 5-sigma bound) and scales the rest by 1 / (1 - rate)", () => {
    for (const rate of [0.1, 0.5]) {
      const n = 200_000;
      const values = tf.tidy(() => dropoutMask([400, 500], rate, `rate-${rate}`).dataSync());
      assert.equal(values.length, n);
      const scale = Math.fround(1 / (1 - rate));
      let zeros = 0;
      for (const v of values) {
        if (v === 0) zeros++;
        else assert.equal(v, scale);
      }
      const sigma = Math.sqrt(n * rate * (1 - rate));
      assert.ok(Math.abs(zeros - n * rate) < 5 * sigma, `${zeros} zeros of ${n} at rate ${rate}`);
    }
  });

  it("is reproducible from its seed, differs between seeds and is the same on every backend", async () => {
    const draw = (seed: string) => Array.from(tf.tidy(() => dropoutMask([64, 33], 0.3, seed).dataSync()));
    const first = draw("a:1");
    assert.deepEqual(draw("a:1"), first);
    const other = draw("a:2");
    assert.ok(
      other.some((v, i) => v !== first[i]),
      "another seed gives another mask",
    );
    const backend = tf.getBackend();
    await tf.setBackend("cpu");
    try {
      assert.deepEqual(draw("a:1"), first);
    } finally {
      await tf.setBackend(backend);
    }
  });

  it("has neighbouring elements uncorrelated (lag-1 correlation of a 200,000-element mask below 0.02)", () => {
    const values = tf.tidy(() => dropoutMask([200_000], 0.5, "lag").dataSync() as Float32Array);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    let cov = 0;
    let variance = 0;
    for (let i = 0; i < values.length; i++) {
      variance += (values[i] - mean) ** 2;
      if (i > 0) cov += (values[i] - mean) * (values[i - 1] - mean);
    }
    assert.ok(Math.abs(cov / variance) < 0.02, `lag-1 correlation ${cov / variance}`);
  });
});
