/**
 * Trainer benchmark (node dist/bench/trainer/step.js [steps] [rounds]):
 * 1. time per step of our Trainer vs a hand-written tfjs loop (tf.train.adam + minimize) on the same MLP and
 *    batches, interleaved rounds, medians (goal: ratio <= 1.03);
 * 2. time per example and peak tensor bytes (tf.profile's peak of tf.memory().numBytes) for k x b
 *    accumulation vs one batch of k*b vs batch b (goal: accumulation peak <= 1.2x batch b).
 */
import * as tf from "@tensorflow/tfjs";
import { describeBackend, initBackend } from "../../src/backend";
import { SeededRng } from "../../src/random";
import { classifierFromLayersModel, softmaxCrossEntropySum, Trainer, type ClassifierBatch, type TrainingArguments, type TrainingData } from "../../src/train";

/** Each example is a sequence of TOKENS vectors (like a transformer's input), so activations dominate memory. */
const TOKENS = 64;
const FEATURES = 32;
const HIDDEN = 96;
const CLASSES = 10;
const EXAMPLES = 1024;
const VALUES_PER_EXAMPLE = TOKENS * FEATURES;

const rng = new SeededRng(1);
const xs = Float32Array.from({ length: EXAMPLES * VALUES_PER_EXAMPLE }, () => rng.nextGaussian());
const ys = Int32Array.from({ length: EXAMPLES }, () => Math.floor(rng.next() * CLASSES));

function collate(indices: number[]): ClassifierBatch {
  const x = new Float32Array(indices.length * VALUES_PER_EXAMPLE);
  indices.forEach((i, r) => x.set(xs.subarray(i * VALUES_PER_EXAMPLE, (i + 1) * VALUES_PER_EXAMPLE), r * VALUES_PER_EXAMPLE));
  return {
    x: tf.tensor3d(x, [indices.length, TOKENS, FEATURES]),
    y: tf.tensor1d(
      indices.map((i) => ys[i]),
      "int32",
    ),
  };
}

/** Examples in order, so the Trainer and the hand loop see the same batches. */
const data: TrainingData<ClassifierBatch> = {
  size: EXAMPLES,
  collate,
  sampler: { epochBatches: (_e, _s, b) => Array.from({ length: Math.floor(EXAMPLES / b) }, (_, j) => Array.from({ length: b }, (_, i) => j * b + i)) },
};

/** Per-token MLP (two dense layers), mean over tokens, linear classifier: logits [batch, CLASSES]. */
function makeModel(): tf.LayersModel {
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: HIDDEN, inputShape: [TOKENS, FEATURES], activation: "relu", kernelInitializer: init(1) }),
      tf.layers.dense({ units: HIDDEN, activation: "relu", kernelInitializer: init(2) }),
      tf.layers.globalAveragePooling1d(),
      tf.layers.dense({ units: CLASSES, kernelInitializer: init(3) }),
    ],
  });
}

async function trainerSecondsPerStep(model: tf.LayersModel, args: Partial<TrainingArguments>, steps: number): Promise<number> {
  const trainer = new Trainer({
    model: classifierFromLayersModel(model),
    trainData: data,
    args: { learningRate: 1e-3, progress: "none", maxSteps: steps, ...args },
  });
  const t0 = performance.now();
  await trainer.train();
  const seconds = (performance.now() - t0) / 1000;
  trainer.dispose();
  return seconds / steps;
}

/** The loop a tfjs user writes by hand: Adam, mean cross-entropy, read the loss every step. */
function handLoopSecondsPerStep(model: tf.LayersModel, batchSize: number, steps: number): number {
  const optimizer = tf.train.adam(1e-3);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) {
    const batch = collate(Array.from({ length: batchSize }, (_, i) => ((s * batchSize) % EXAMPLES) + i));
    const loss = optimizer.minimize(
      () => softmaxCrossEntropySum(model.apply(batch.x, { training: true }) as tf.Tensor, batch.y).div<tf.Scalar>(batchSize),
      true,
      variables,
    );
    loss!.dataSync();
    tf.dispose([loss!, batch.x, batch.y]);
  }
  const seconds = (performance.now() - t0) / 1000;
  optimizer.dispose();
  return seconds / steps;
}

const median = (v: number[]) => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function peakBytesAboveBaseline(model: tf.LayersModel, args: Partial<TrainingArguments>): Promise<number> {
  const trainer = new Trainer({
    model: classifierFromLayersModel(model),
    trainData: data,
    args: { learningRate: 1e-3, progress: "none", maxSteps: 3, ...args },
  });
  const baseline = tf.memory().numBytes; // weights and Adam moments exist already
  const info = await tf.profile(async () => {
    await trainer.train();
  });
  trainer.dispose();
  return info.peakBytes - baseline;
}

async function main(): Promise<void> {
  const steps = Number(process.argv[2] ?? 20);
  const rounds = Number(process.argv[3] ?? 5);
  console.log(describeBackend(await initBackend()));
  console.log(
    `model: per-token MLP, ${TOKENS} tokens x ${FEATURES} features -> ${HIDDEN} -> ${HIDDEN} -> mean -> ${CLASSES}; ${steps} steps x ${rounds} interleaved rounds, medians`,
  );
  const model = makeModel();
  await trainerSecondsPerStep(model, { perDeviceBatchSize: 32 }, 3); // warm up kernels
  handLoopSecondsPerStep(model, 32, 3);

  const hand: number[] = [];
  const ours: number[] = [];
  const oursNoClip: number[] = [];
  for (let r = 0; r < rounds; r++) {
    hand.push(handLoopSecondsPerStep(model, 32, steps));
    ours.push(await trainerSecondsPerStep(model, { perDeviceBatchSize: 32 }, steps));
    oursNoClip.push(await trainerSecondsPerStep(model, { perDeviceBatchSize: 32, maxGradNorm: 0 }, steps));
  }
  const ms = (s: number) => `${(s * 1000).toFixed(2)} ms`;
  console.log(`\n1) step time, batch 32`);
  console.log(`   hand-written tfjs loop (Adam):          ${ms(median(hand))}`);
  console.log(`   Trainer (AdamW, clipping, noise scale): ${ms(median(ours))}   ratio ${(median(ours) / median(hand)).toFixed(3)} (goal <= 1.03)`);
  console.log(`   Trainer without clipping:               ${ms(median(oursNoClip))}   ratio ${(median(oursNoClip) / median(hand)).toFixed(3)}`);

  const b = 8;
  const k = 4;
  const configs: [string, Partial<TrainingArguments>, number][] = [
    [`accumulation ${k} x ${b}`, { perDeviceBatchSize: b, gradientAccumulationSteps: k }, k * b],
    [`one batch of ${k * b}`, { perDeviceBatchSize: k * b }, k * b],
    [`batch ${b}`, { perDeviceBatchSize: b }, b],
  ];
  console.log(`\n2) time per example and peak tensor bytes above weights + Adam state (${(tf.memory().numBytes / 1024).toFixed(0)} KiB in use)`);
  const peaks: number[] = [];
  for (const [name, args, examplesPerStep] of configs) {
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) times.push(await trainerSecondsPerStep(model, args, Math.max(4, Math.round((steps * 32) / examplesPerStep / 2))));
    const peak = await peakBytesAboveBaseline(model, args);
    peaks.push(peak);
    console.log(
      `   ${name.padEnd(20)} ${((median(times) / examplesPerStep) * 1e6).toFixed(1).padStart(8)} us/example   peak +${(peak / 1024).toFixed(0).padStart(6)} KiB`,
    );
  }
  console.log(
    `   accumulation peak / batch ${b} peak: ${(peaks[0] / peaks[2]).toFixed(3)} (goal <= 1.2); / one batch of ${k * b}: ${(peaks[0] / peaks[1]).toFixed(3)}`,
  );
  model.dispose();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
