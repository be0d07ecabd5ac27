import { strict as assert } from "assert";
import * as tf from "@tensorflow/tfjs";
import { initBackend, describeBackend } from "../src/backend";

describe("backend", () => {
  it("selects a backend and says why", async () => {
    const info = await initBackend();
    assert.equal(tf.getBackend(), info.name);
    assert.ok(info.reason.length > 0);
    console.log("      " + describeBackend(info));
  });

  it("trains an embedding: the gradient of gather (UnsortedSegmentSum) matches the cpu backend", async () => {
    await initBackend();
    const table = [
      [1, 2],
      [3, 4],
      [5, 6],
    ];
    const ids = [2, 0, 2, 1];
    const weights = [
      [0.5, -1],
      [2, 1],
      [1, 1],
      [-3, 0.25],
    ];
    const gradOf = () =>
      tf.tidy(() => {
        const t = tf.tensor2d(table);
        const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.gather(v, tf.tensor1d(ids, "int32")), tf.tensor2d(weights))))(t);
        return g.arraySync() as number[][];
      });
    const before = tf.memory().numTensors;
    const got = gradOf();
    assert.equal(tf.memory().numTensors, before, "no tensors leaked");
    // Closed form: row r of the gradient is the sum of weights[i] over i with ids[i] == r.
    const expected = table.map((_, r) => [0, 1].map((c) => ids.reduce((s, id, i) => s + (id === r ? weights[i][c] : 0), 0)));
    assert.deepEqual(got, expected);
  });
});
