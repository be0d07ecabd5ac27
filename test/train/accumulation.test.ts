import { strict as assert } from "assert";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend";
import { accumulateGradients, Trainer } from "../../src/train";
import { arrayData, fixedSampler, randomClassification, randomInit, softmaxRegression } from "./tinyModels";

/** max |a - b| / max |b|: the relative difference of two gradient lists. */
function relativeDifference(a: tf.Tensor[], b: tf.Tensor[]): number {
  const flat = (ts: tf.Tensor[]) => ts.flatMap((t) => Array.from(t.dataSync()));
  const x = flat(a);
  const y = flat(b);
  const scale = Math.max(...y.map(Math.abs));
  return Math.max(...x.map((v, i) => Math.abs(v - y[i]))) / scale;
}

describe("train/accumulation: k micro-batches equal one batch of k*b", () => {
  before(async () => {
    await initBackend();
  });
  const { x, y } = randomClassification(16, 5, 3, 11);
  const init = randomInit(5, 3, 12);

  it("accumulated gradient equals the one-batch gradient with a short last micro-batch; per-micro-batch means would not", () => {
    const { model, weight, bias, dispose } = softmaxRegression(init);
    const data = arrayData(x, y);
    const before = tf.memory().numTensors;
    const split = accumulateGradients(model, [weight, bias], data, [
      [0, 1, 2],
      [3, 4, 5],
      [6, 7],
    ]);
    const whole = accumulateGradients(model, [weight, bias], data, [[0, 1, 2, 3, 4, 5, 6, 7]]);
    assert.equal(split.count, 8);
    assert.deepEqual(split.microCounts, [3, 3, 2]);
    const exact = relativeDifference(split.grads, whole.grads);
    assert.ok(exact < 1e-5, `accumulated vs one batch: relative difference ${exact}`);
    assert.ok(Math.abs(split.lossSum.dataSync()[0] - whole.lossSum.dataSync()[0]) < 1e-5);
    // The pre-2024 rule, computed independently here: mean over micro-batches of each micro-batch's mean gradient.
    const perMicro = [
      [0, 1, 2],
      [3, 4, 5],
      [6, 7],
    ].map((mb) => accumulateGradients(model, [weight, bias], data, [mb]));
    const naive = tf.tidy(() => [0, 1].map((v) => tf.addN(perMicro.map((p) => p.grads[v])).div(3)));
    const wrong = relativeDifference(naive, whole.grads);
    assert.ok(wrong > 1e-2, `the test model must tell the two rules apart (difference ${wrong})`);
    for (const r of [split, whole, ...perMicro]) tf.dispose([...r.grads, r.lossSum, ...r.microSquaredNorms]);
    tf.dispose(naive);
    assert.equal(tf.memory().numTensors, before, "no tensors leaked");
    dispose();
  });

  it("Trainer: 3 micro-batches of 3 (last one of 2) follow the same AdamW trajectory as batches of 8, clipping included", async () => {
    const run = async (microBatches: number[][], k: number) => {
      const { model, weight, bias, dispose } = softmaxRegression(init);
      const trajectory: number[][] = [];
      const trainer = new Trainer({
        model,
        trainData: arrayData(x, y, fixedSampler(microBatches)),
        args: {
          perDeviceBatchSize: 3,
          gradientAccumulationSteps: k,
          learningRate: 0.05,
          weightDecay: 0.1,
          warmupSteps: 2,
          maxGradNorm: 0.3,
          maxSteps: 8,
          progress: "none",
        },
        callbacks: [{ onStepEnd: () => void trajectory.push([...weight.dataSync(), ...bias.dataSync()]) }],
      });
      await trainer.train();
      const norms = trainer.history.records.map((r) => r.gradNorm);
      trainer.dispose();
      dispose();
      return { trajectory, losses: trainer.stepLosses, norms };
    };
    const accumulated = await run(
      [
        [0, 1, 2],
        [3, 4, 5],
        [6, 7],
        [8, 9, 10],
        [11, 12, 13],
        [14, 15],
      ],
      3,
    );
    const single = await run(
      [
        [0, 1, 2, 3, 4, 5, 6, 7],
        [8, 9, 10, 11, 12, 13, 14, 15],
      ],
      1,
    );
    assert.equal(accumulated.trajectory.length, 8);
    accumulated.trajectory.forEach((params, s) => {
      const scale = Math.max(...single.trajectory[s].map(Math.abs));
      const diff = Math.max(...params.map((p, i) => Math.abs(p - single.trajectory[s][i])));
      assert.ok(diff / scale < 1e-5, `step ${s + 1}: relative parameter difference ${diff / scale}`);
      assert.ok(Math.abs(accumulated.losses[s] - single.losses[s]) / single.losses[s] < 1e-5, `step ${s + 1} loss`);
    });
    assert.ok(
      single.norms.some((n) => n > 0.3),
      "clipping must be active in this test",
    );
  });
});
