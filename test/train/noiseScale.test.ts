import { strict as assert } from "assert";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend";
import { SeededRng } from "../../src/random";
import { estimateNoiseComponents, GradientNoiseScale, noiseScaleAdvice, Trainer, type TrainableModel, type TrainingData } from "../../src/train";

describe("train/noiseScale: McCandlish et al. gradient noise scale", () => {
  before(async () => {
    await initBackend();
  });

  it("single-step estimators equal the paper's formulas for equal micro-batch sizes", () => {
    // b = 4, B = 16: |G|^2 = (B|G_B|^2 - b|G_b|^2) / (B - b), tr(S) = (|G_b|^2 - |G_B|^2) / (1/b - 1/B)
    const small = [2.0, 3.0, 2.5, 2.5];
    const big = 1.2;
    const e = estimateNoiseComponents({ microSquaredNorms: small, microCounts: [4, 4, 4, 4], bigSquaredNorm: big })!;
    assert.ok(Math.abs(e.gradSquared - (16 * big - 4 * 2.5) / 12) < 1e-12);
    assert.ok(Math.abs(e.trace - (2.5 - big) / (1 / 4 - 1 / 16)) < 1e-12);
    assert.equal(estimateNoiseComponents({ microSquaredNorms: [1], microCounts: [8], bigSquaredNorm: 1 }), undefined);
  });

  it("recovers the closed-form noise scale tr(S)/|G|^2 of a synthetic problem within 10%", async () => {
    // Per-item loss 0.5 |w - x_i|^2 has gradient w - x_i. With x_i ~ N(mu, diag(sigma^2)) and w fixed (lr 0):
    // true gradient G = w - mu, per-item covariance S = diag(sigma^2), so B_simple = sum(sigma^2) / |w - mu|^2.
    const dim = 6;
    const mu = [0.3, -0.2, 0.1, 0.25, -0.15, 0.2];
    const sigma = [1, 0.5, 1.5, 1, 0.8, 1.2];
    const trueNoiseScale = sigma.reduce((a, s) => a + s * s, 0) / mu.reduce((a, m) => a + m * m, 0);
    const rng = new SeededRng(3);
    const examples = 20000;
    const xs = Array.from({ length: examples }, () => mu.map((m, j) => m + sigma[j] * rng.nextGaussian()));
    const w = tf.tidy(() => tf.variable(tf.zeros([dim]), true, "noise_scale_w"));
    const model: TrainableModel<tf.Tensor2D> = {
      trainableVariables: () => [w],
      lossSum: (batch) => ({ lossSum: tf.tidy(() => batch.sub(w).square().sum().mul<tf.Scalar>(0.5)), count: batch.shape[0] }),
      predictLogits: (batch) => tf.zeros([batch.shape[0], 2]),
      labels: (batch) => tf.zeros([batch.shape[0]], "int32"),
    };
    const data: TrainingData<tf.Tensor2D> = { size: examples, collate: (idx) => tf.tensor2d(idx.map((i) => xs[i])) };
    const trainer = new Trainer({
      model,
      trainData: data,
      args: { perDeviceBatchSize: 4, gradientAccumulationSteps: 8, learningRate: 0, maxSteps: 600, noiseScaleEmaDecay: 0.995, progress: "none" },
    });
    await trainer.train();
    const estimate = trainer.noiseScale!;
    console.log(`      true noise scale ${trueNoiseScale.toFixed(2)}, estimate ${estimate.toFixed(2)}; ${trainer.advice()}`);
    assert.ok(Math.abs(estimate - trueNoiseScale) / trueNoiseScale < 0.1, `estimate ${estimate} vs ${trueNoiseScale}`);
    assert.match(
      trainer.advice(),
      new RegExp(
        `noise scale ~${Math.round(estimate)} examples; your effective batch is 4\\*8 = 32; try gradientAccumulationSteps ~ ${Math.round(estimate / 4)}`,
      ),
    );
    trainer.dispose();
    w.dispose();
  });

  it("the EMA ignores uninformative steps, and advice asks for accumulation when k = 1", () => {
    const ns = new GradientNoiseScale(0.9);
    assert.equal(ns.value, undefined);
    ns.update({ microSquaredNorms: [5], microCounts: [8], bigSquaredNorm: 5 });
    assert.equal(ns.value, undefined);
    assert.match(noiseScaleAdvice(undefined, 8, 1), /gradientAccumulationSteps >= 2/);
  });

  it("recovers the closed-form noise scale of linear regression within 10%", async () => {
    // Squared error 0.5 (x.w - y)^2 with x ~ N(0, I_d), y = x.w* + e, e ~ N(0, s^2), evaluated at w (lr 0), r = w - w*:
    // per-example gradient g = x (x.r - e), so G = E g = r and E g g^T = |r|^2 I + 2 r r^T + s^2 I (Isserlis), hence
    // tr(S) = d (|r|^2 + s^2) + |r|^2 and B_simple = tr(S) / |G|^2 = d (1 + s^2 / |r|^2) + 1.
    const d = 4;
    const wStar = [0.5, -0.3, 0.2, 0.1];
    const w0 = [0.1, 0.1, -0.1, 0.3];
    const noise = 0.5;
    const r2 = w0.reduce((a, w, j) => a + (w - wStar[j]) ** 2, 0);
    const trueNoiseScale = d * (1 + (noise * noise) / r2) + 1;
    const rng = new SeededRng(11);
    const examples = 40000;
    const xs = Array.from({ length: examples }, () => Array.from({ length: d }, () => rng.nextGaussian()));
    const ys = xs.map((x) => x.reduce((a, v, j) => a + v * wStar[j], 0) + noise * rng.nextGaussian());
    const w = tf.variable(tf.tensor1d(w0), true, "linreg_w");
    type Batch = { x: tf.Tensor2D; y: tf.Tensor1D };
    const model: TrainableModel<Batch> = {
      trainableVariables: () => [w],
      lossSum: (batch) => ({
        lossSum: tf.tidy(() =>
          batch.x
            .matMul(w.reshape([d, 1]))
            .reshape([-1])
            .sub(batch.y)
            .square()
            .sum()
            .mul<tf.Scalar>(0.5),
        ),
        count: batch.x.shape[0],
      }),
      predictLogits: (batch) => tf.zeros([batch.x.shape[0], 2]),
      labels: (batch) => tf.zeros([batch.x.shape[0]], "int32"),
    };
    const data: TrainingData<Batch> = {
      size: examples,
      collate: (idx) => ({ x: tf.tensor2d(idx.map((i) => xs[i])), y: tf.tensor1d(idx.map((i) => ys[i])) }),
      dispose: (b) => tf.dispose([b.x, b.y]),
    };
    const trainer = new Trainer({
      model,
      trainData: data,
      args: {
        perDeviceBatchSize: 4,
        gradientAccumulationSteps: 8,
        learningRate: 0,
        weightDecay: 0,
        maxSteps: 1000,
        noiseScaleEmaDecay: 0.998,
        progress: "none",
      },
    });
    const before = tf.memory().numTensors;
    await trainer.train();
    const estimate = trainer.noiseScale!;
    assert.ok(Math.abs(estimate - trueNoiseScale) / trueNoiseScale < 0.1, `estimate ${estimate} vs closed form ${trueNoiseScale}`);
    trainer.dispose();
    assert.ok(tf.memory().numTensors <= before, "no tensors left by training");
    w.dispose();
  });
});
