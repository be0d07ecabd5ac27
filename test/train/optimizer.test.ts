import { strict as assert } from "assert";
import * as fs from "fs";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend";
import { SeededRng } from "../../src/random";
import { AdamW, Trainer, type LrScheduleName, type TrainableModel, type TrainingData } from "../../src/train";
import { fixturePath } from "../helpers";
import { arrayData, fixedSampler, softmaxRegression } from "./tinyModels";

interface TorchCase {
  case: {
    name: string;
    lr: number;
    beta1: number;
    beta2: number;
    eps: number;
    weight_decay: number;
    schedule: LrScheduleName;
    warmup_steps: number;
    steps: number;
    micro_batch: number;
    accumulation_steps: number;
    max_grad_norm: number;
  };
  x: number[][];
  y: number[];
  init: { weight: number[][]; bias: number[] };
  steps: { step: number; micro_batches: number[][]; loss: number; grad_norm_before_clip: number; lr: number; weight: number[][]; bias: number[] }[];
}

/** Largest |a - b| / max(1, |b|) over two nested arrays. */
function maxRelativeError(a: number[], b: number[]): number {
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]) / Math.max(1, Math.abs(b[i]))), 0);
}

async function replayTorchCase(file: string): Promise<{ maxParamError: number; maxLossError: number; maxNormError: number; maxLrError: number }> {
  const golden: TorchCase = JSON.parse(fs.readFileSync(fixturePath("trainer-torch", file), "utf8"));
  const c = golden.case;
  const { model, weight, bias, dispose } = softmaxRegression(golden.init);
  const data = arrayData(golden.x, golden.y, fixedSampler(golden.steps.flatMap((s) => s.micro_batches)));
  const errors = { maxParamError: 0, maxLossError: 0, maxNormError: 0, maxLrError: 0 };
  const trainer = new Trainer({
    model,
    trainData: data,
    args: {
      perDeviceBatchSize: c.micro_batch,
      gradientAccumulationSteps: c.accumulation_steps,
      learningRate: c.lr,
      adamBeta1: c.beta1,
      adamBeta2: c.beta2,
      adamEpsilon: c.eps,
      weightDecay: c.weight_decay,
      lrSchedule: c.schedule,
      warmupSteps: c.warmup_steps,
      maxSteps: c.steps,
      maxGradNorm: c.max_grad_norm,
      loggingSteps: 1,
      progress: "none",
    },
    callbacks: [
      {
        onStepEnd(info) {
          const expected = golden.steps[info.step - 1];
          const params = [...(weight.arraySync() as number[][]).flat(), ...(bias.arraySync() as number[])];
          errors.maxParamError = Math.max(errors.maxParamError, maxRelativeError(params, [...expected.weight.flat(), ...expected.bias]));
          errors.maxLossError = Math.max(errors.maxLossError, Math.abs(info.loss - expected.loss) / expected.loss);
          errors.maxNormError = Math.max(errors.maxNormError, Math.abs(info.gradNorm - expected.grad_norm_before_clip) / expected.grad_norm_before_clip);
          errors.maxLrError = Math.max(errors.maxLrError, Math.abs(info.learningRate - expected.lr));
        },
      },
    ],
  });
  assert.deepEqual(trainer.decayedVariableNames(), [weight.name]);
  await trainer.train();
  assert.equal(trainer.globalStep, golden.steps.length);
  trainer.dispose();
  dispose();
  return errors;
}

describe("train/optimizer: AdamW, schedules, clipping, accumulation vs PyTorch", () => {
  before(async () => {
    await initBackend();
  });

  for (const file of ["linear_warmup_accum.json", "cosine_no_accum_noclip.json"]) {
    it(`follows PyTorch's 20-step trajectory: ${file}`, async () => {
      const e = await replayTorchCase(file);
      console.log(
        `      max relative error vs torch float64: params ${e.maxParamError.toExponential(2)}, loss ${e.maxLossError.toExponential(2)}, ` +
          `grad norm ${e.maxNormError.toExponential(2)}, lr ${e.maxLrError.toExponential(2)}`,
      );
      assert.ok(e.maxParamError < 1e-5, `parameters differ by ${e.maxParamError}`);
      assert.ok(e.maxLossError < 1e-5, `loss differs by ${e.maxLossError}`);
      assert.ok(e.maxNormError < 1e-5, `grad norm differs by ${e.maxNormError}`);
      assert.ok(e.maxLrError < 1e-12, `lr differs by ${e.maxLrError}`);
    });
  }

  it("a closed-form case by hand: one weight, mean-squared loss, two AdamW steps with decay and clipping", async () => {
    // Per-item loss 0.5 (w - t)^2 so the mean gradient is w - mean(t). Items t = 1, 3, 4 (mean 8/3), w0 = 2.
    const w = tf.tidy(() => tf.variable(tf.scalar(2), true, "w_closed_form"));
    const targets = [1, 3, 4];
    const data: TrainingData<number[]> = { size: 3, collate: (i) => i.map((j) => targets[j]), sampler: fixedSampler([[0, 1], [2]]), dispose: () => {} };
    const model: TrainableModel<number[]> = {
      trainableVariables: () => [w],
      lossSum: (batch) => ({ lossSum: tf.tidy(() => tf.sum(tf.square(w.sub(tf.tensor1d(batch)))).mul<tf.Scalar>(0.5)), count: batch.length }),
      predictLogits: () => tf.zeros([1, 2]),
      labels: () => tf.zeros([1], "int32"),
    };
    const lr = 0.1,
      wd = 0.5,
      b1 = 0.9,
      b2 = 0.999,
      eps = 1e-8,
      maxNorm = 0.5;
    const trainer = new Trainer({
      model,
      trainData: data,
      args: {
        perDeviceBatchSize: 2,
        gradientAccumulationSteps: 2,
        learningRate: lr,
        weightDecay: wd,
        lrSchedule: "constant",
        maxGradNorm: maxNorm,
        maxSteps: 2,
        adamBeta1: b1,
        adamBeta2: b2,
        adamEpsilon: eps,
        progress: "none",
      },
    });
    await trainer.train();
    // By hand: g = w - 8/3 (mean over all three items, micro-batches of 2 and 1), clipped to norm 0.5 (+1e-6 as torch).
    let p = 2,
      m = 0,
      v = 0;
    for (let t = 1; t <= 2; t++) {
      const g = p - 8 / 3;
      const gc = Math.abs(g) > maxNorm ? (g * maxNorm) / (Math.abs(g) + 1e-6) : g;
      p *= 1 - lr * wd;
      m = b1 * m + (1 - b1) * gc;
      v = b2 * v + (1 - b2) * gc * gc;
      p -= (lr / (1 - b1 ** t)) * (m / (Math.sqrt(v) / Math.sqrt(1 - b2 ** t) + eps));
    }
    const got = w.dataSync()[0];
    assert.ok(Math.abs(got - p) < 1e-6, `${got} vs hand-computed ${p}`);
    trainer.dispose();
    w.dispose();
  });

  it("AdamW state round-trips and rejects wrong shapes", () => {
    const v = tf.tidy(() => tf.variable(tf.tensor1d([1, 2, 3]), true, "adam_state_roundtrip"));
    const opt = new AdamW([v], { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0, decays: () => true });
    const g = tf.tensor1d([0.1, -0.2, 0.3]);
    opt.apply([g], 0.01);
    const state = opt.getState();
    assert.equal(state.step, 1);
    assert.deepEqual(
      Array.from(state.firstMoments[0]),
      [0.1, -0.2, 0.3].map((x) => Math.fround(Math.fround(x) * Math.fround(0.1))),
    );
    assert.throws(() => opt.setState({ ...state, firstMoments: [new Float32Array(2)] }), /firstMoments\[0\] has 2 values, variable adam_state_roundtrip has 3/);
    opt.dispose();
    tf.dispose([v, g]);
  });

  for (const storage of ["host", "backend"] as const) {
    it(`AdamW with ${storage} moments resumes from a saved state to the same bits as an uninterrupted run`, () => {
      const grads = [
        [0.1, -0.2, 0.3, 4],
        [-0.5, 0.25, 0, 1e-3],
        [2, -3, 0.7, -0.01],
      ].map((g) => tf.tensor1d(g));
      const config = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1, decays: () => true };
      const start = [1, -2, 0.5, 3];
      const straight = tf.variable(tf.tensor1d(start), true, `adam_straight_${storage}`);
      const uninterrupted = new AdamW([straight], config, storage);
      grads.forEach((g) => uninterrupted.apply([g], 0.01));
      const resumed = tf.variable(tf.tensor1d(start), true, `adam_resumed_${storage}`);
      const first = new AdamW([resumed], config, storage);
      grads.slice(0, 2).forEach((g) => first.apply([g], 0.01));
      const saved = first.getState();
      first.dispose();
      const second = new AdamW([resumed], config, storage);
      second.setState(saved);
      second.apply([grads[2]], 0.01);
      assert.equal(second.step, 3);
      assert.deepEqual(Array.from(resumed.dataSync()), Array.from(straight.dataSync()));
      assert.deepEqual(Array.from(second.getState().secondMoments[0]), Array.from(uninterrupted.getState().secondMoments[0]));
      tf.dispose([straight, resumed, ...grads]);
      uninterrupted.dispose();
      second.dispose();
    });
  }

  // On wasm the host update is tsml's SIMD kernel (moments copied in 65,536-value chunks: 150,001 values take three,
  // with a 1-value tail); on cpu it is the JavaScript loop. Both must give the bits of the tensor ops.
  for (const backend of ["wasm", "cpu"] as const) {
    for (const size of [257, 150_001]) {
      it(`AdamW's host moments give the same bits as its tensor ops over 20 steps with decay (${backend}, ${size} values)`, async () => {
        const previous = tf.getBackend();
        await tf.setBackend(backend);
        try {
          const config = { beta1: 0.9, beta2: 0.98, epsilon: 1e-6, weightDecay: 0.01, decays: (name: string) => !name.endsWith("bias") };
          const rng = new SeededRng(5);
          const init = Float32Array.from({ length: size }, () => rng.nextGaussian());
          const params = (["host", "backend"] as const).map((storage) => tf.variable(tf.tensor1d(init), true, `adam_${storage}_${backend}_${size}_weight`));
          const optimizers = params.map((p, i) => new AdamW([p], config, i === 0 ? "host" : "backend"));
          const before = tf.memory().numTensors;
          for (let step = 0; step < 20; step++) {
            const g = tf.tensor1d(Float32Array.from({ length: size }, () => rng.nextGaussian() * 10 ** (rng.next() * 6 - 3)));
            optimizers.forEach((o) => o.apply([g], 1e-3 * (1 + step)));
            g.dispose();
          }
          assert.equal(tf.memory().numTensors, before, "no tensor leaks");
          assert.deepEqual(Array.from(params[0].dataSync()), Array.from(params[1].dataSync()));
          assert.deepEqual(Array.from(optimizers[0].getState().secondMoments[0]), Array.from(optimizers[1].getState().secondMoments[0]));
          assert.equal(optimizers[0].momentStorage, "host");
          optimizers.forEach((o) => o.dispose());
          tf.dispose(params);
        } finally {
          await tf.setBackend(previous);
        }
      });
    }
  }
});
