/**
 * The Longformer's building blocks beyond what the golden fixtures cover: inverted dropout (ForwardContext.dropout),
 * its counter-based masks and its gradient, on the running backend and on the cpu backend.
 */
import { strict as assert } from "assert";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../../src/backend";
import { ForwardContext } from "../../../src/models/longformer/ops";

/** The mask dropout applies to the first call of a training context seeded `seed`: dropout of ones. */
function mask(shape: number[], rate: number, seed: string): Float32Array {
  return tf.tidy(() => new ForwardContext(true, seed).dropout(tf.ones(shape), rate).dataSync() as Float32Array);
}

describe("Longformer ops: dropout", () => {
  before(async () => {
    await initBackend();
  });

  it("drops each element with probability `rate` (binomial 5-sigma bound) and scales the rest by 1 / (1 - rate)", () => {
    for (const rate of [0.1, 0.5]) {
      const n = 200_000;
      const values = mask([400, 500], rate, `rate-${rate}`);
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

  it("is reproducible from its seed, differs between seeds and calls, and is the same on every backend", async () => {
    const first = Array.from(mask([64, 33], 0.3, "a"));
    assert.deepEqual(Array.from(mask([64, 33], 0.3, "a")), first);
    assert.ok(
      Array.from(mask([64, 33], 0.3, "b")).some((v, i) => v !== first[i]),
      "another seed gives another mask",
    );
    const second = tf.tidy(() => {
      const ctx = new ForwardContext(true, "a");
      ctx.dropout(tf.ones([64, 33]), 0.3);
      return Array.from(ctx.dropout(tf.ones([64, 33]), 0.3).dataSync());
    });
    assert.ok(
      second.some((v, i) => v !== first[i]),
      "the second call of a pass draws another mask",
    );
    const backend = tf.getBackend();
    await tf.setBackend("cpu");
    try {
      assert.deepEqual(Array.from(mask([64, 33], 0.3, "a")), first);
    } finally {
      await tf.setBackend(backend);
    }
  });

  it("multiplies x by the mask bit for bit, and its gradient is dy times the same mask, keeping no tensor", async () => {
    const x = tf.randomNormal([37, 129], 0, 3, "float32", 5);
    const dy = tf.randomNormal([37, 129], 0, 1, "float32", 6);
    const run = () =>
      tf.tidy(() => {
        const m = tf.tensor(mask([37, 129], 0.2, "grad"), [37, 129]);
        const { value, grads } = tf.valueAndGrads((input: tf.Tensor) => new ForwardContext(true, "grad").dropout(input, 0.2))([x], dy);
        return { value: value.dataSync(), grad: grads[0].dataSync(), wantValue: tf.mul(x, m).dataSync(), wantGrad: tf.mul(dy, m).dataSync() };
      });
    const before = tf.memory().numTensors;
    const here = run();
    assert.equal(tf.memory().numTensors, before, "no tensor leaks");
    assert.equal(here.value.length, 37 * 129);
    assert.deepEqual(Array.from(here.value), Array.from(here.wantValue));
    assert.deepEqual(Array.from(here.grad), Array.from(here.wantGrad));
    const backend = tf.getBackend();
    const [xValues, dyValues] = [x.dataSync(), dy.dataSync()];
    await tf.setBackend("cpu");
    try {
      const [xCpu, dyCpu] = [tf.tensor(xValues, [37, 129]), tf.tensor(dyValues, [37, 129])];
      const cpu = tf.tidy(() => {
        const { value, grads } = tf.valueAndGrads((input: tf.Tensor) => new ForwardContext(true, "grad").dropout(input, 0.2))([xCpu], dyCpu);
        return { value: Array.from(value.dataSync()), grad: Array.from(grads[0].dataSync()) };
      });
      tf.dispose([xCpu, dyCpu]);
      assert.deepEqual(cpu.value, Array.from(here.value), "the cpu backend gives the same values");
      assert.deepEqual(cpu.grad, Array.from(here.grad), "and the same gradient");
    } finally {
      await tf.setBackend(backend);
    }
    tf.dispose([x, dy]);
  });

  it("is the identity when not training or at rate 0", () => {
    tf.tidy(() => {
      const x = tf.randomNormal([5, 7]);
      assert.equal(new ForwardContext(false, "s").dropout(x, 0.5), x);
      assert.equal(new ForwardContext(true, "s").dropout(x, 0), x);
    });
  });

  it("has neighbouring elements uncorrelated (lag-1 correlation of a 200,000-element mask below 0.02)", () => {
    const values = mask([200_000], 0.5, "lag");
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
