/** Small models and in-memory datasets shared by the trainer tests. */
import * as tf from "@tensorflow/tfjs";
import { SeededRng } from "../../src/random";
import { classifierFromFunction, type BatchSampler, type ClassifierBatch, type TrainableModel, type TrainingData } from "../../src/train";

let instances = 0;

/** Softmax regression logits = x @ weight + bias with the given initial values (variables named weight / bias). */
export function softmaxRegression(init: { weight: number[][]; bias: number[] }): {
  model: TrainableModel<ClassifierBatch>;
  weight: tf.Variable;
  bias: tf.Variable;
  dispose(): void;
} {
  const id = ++instances;
  const weight = tf.tidy(() => tf.variable(tf.tensor2d(init.weight), true, `weight_${id}`));
  const bias = tf.tidy(() => tf.variable(tf.tensor1d(init.bias), true, `bias_${id}`));
  const model = classifierFromFunction<ClassifierBatch>(
    [weight, bias],
    (b) => tf.tidy(() => b.x.matMul(weight).add(bias)),
    (b) => b.y,
  );
  return { model, weight, bias, dispose: () => tf.dispose([weight, bias]) };
}

/** Random initial values for a softmax regression, from a seed. */
export function randomInit(features: number, classes: number, seed: number): { weight: number[][]; bias: number[] } {
  const rng = new SeededRng(seed);
  return {
    weight: Array.from({ length: features }, () => Array.from({ length: classes }, () => 0.5 * rng.nextGaussian())),
    bias: Array.from({ length: classes }, () => 0.1 * rng.nextGaussian()),
  };
}

/** A random classification dataset: x ~ N(0, 1), labels from a random linear rule plus noise. */
export function randomClassification(examples: number, features: number, classes: number, seed: number): { x: number[][]; y: number[] } {
  const rng = new SeededRng(seed);
  const rule = Array.from({ length: features }, () => Array.from({ length: classes }, () => rng.nextGaussian()));
  const x = Array.from({ length: examples }, () => Array.from({ length: features }, () => rng.nextGaussian()));
  const y = x.map((row) => {
    const scores = rule[0].map((_, c) => row.reduce((s, v, f) => s + v * rule[f][c], 0) + rng.nextGaussian());
    return scores.indexOf(Math.max(...scores));
  });
  return { x, y };
}

/** In-memory TrainingData over rows `x` and labels `y`, with an optional sampler. */
export function arrayData(x: number[][], y: number[], sampler?: BatchSampler): TrainingData<ClassifierBatch> {
  return {
    size: x.length,
    sampler,
    collate: (indices) => ({
      x: tf.tensor2d(
        indices.map((i) => x[i]),
        [indices.length, x[0].length],
      ),
      y: tf.tensor1d(
        indices.map((i) => y[i]),
        "int32",
      ),
    }),
  };
}

/** A sampler that returns the same fixed micro-batches every epoch. */
export function fixedSampler(microBatches: number[][]): BatchSampler {
  return { epochBatches: () => microBatches.map((m) => m.slice()) };
}
