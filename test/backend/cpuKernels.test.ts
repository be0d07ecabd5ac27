/** tsml's cpu UnsortedSegmentSum (the gradient of gather): the sums of a one-hot matrix product, in one pass of memory. */
import { strict as assert } from "assert";
import * as tf from "@tensorflow/tfjs";
import { trackBackendMemory } from "../../src/plan";
import { SeededRng } from "../../src/random";
import { restoresBackend } from "../backends";

describe("backend/cpu kernels: UnsortedSegmentSum", () => {
  restoresBackend("cpu");

  it("equals onehot(ids)ᵀ · x (float32 and int32), dropping ids outside [0, numSegments)", () => {
    const rng = new SeededRng(5);
    const [rows, width, segments] = [37, 6, 9];
    const ids = Array.from({ length: rows }, (_, i) => (i % 11 === 10 ? segments + 2 : i % 13 === 12 ? -1 : Math.floor(rng.next() * segments)));
    const values = Array.from({ length: rows * width }, () => rng.next() * 2 - 1);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.tensor2d(values, [rows, width]);
      const oneHot = tf.oneHot(tf.tensor1d(ids, "int32"), segments).toFloat(); // rows with an id outside are all zero
      const expected = tf.matMul(oneHot, x, true, false).dataSync();
      const got = tf.unsortedSegmentSum(x, tf.tensor1d(ids, "int32"), segments);
      assert.deepEqual(got.shape, [segments, width]);
      const g = got.dataSync();
      assert.equal(g.length, expected.length);
      for (let i = 0; i < g.length; i++) assert.ok(Math.abs(g[i] - expected[i]) <= 1e-5, `${i}: ${g[i]} vs ${expected[i]}`);
      const ints = tf.unsortedSegmentSum(
        tf.tensor2d(
          values.map((v) => Math.round(v * 10)),
          [rows, width],
          "int32",
        ),
        tf.tensor1d(ids, "int32"),
        segments,
      );
      assert.equal(ints.dtype, "int32");
      const intExpected = tf
        .matMul(
          oneHot,
          tf.tensor2d(
            values.map((v) => Math.round(v * 10)),
            [rows, width],
          ),
          true,
          false,
        )
        .dataSync();
      assert.deepEqual(Array.from(ints.dataSync()), Array.from(intExpected));
    });
    assert.equal(tf.memory().numTensors, before);
  });

  it("holds little more than its output (tfjs's kept a masked copy of the input per segment: numSegments × 9 bytes per element)", () => {
    const [rows, width, segments] = [64, 16, 1000];
    const x = tf.ones([rows, width]);
    const ids = tf.tensor1d(
      Array.from({ length: rows }, (_, i) => (i * 37) % segments),
      "int32",
    );
    const tracker = trackBackendMemory();
    try {
      tf.unsortedSegmentSum(x, ids, segments).dispose();
      const output = 4 * segments * width;
      assert.ok(tracker.peakBytes <= output + 4 * rows * width, `peak ${tracker.peakBytes} bytes for a ${output}-byte output`);
    } finally {
      tracker.stop();
      tf.dispose([x, ids]);
    }
  });
});
