/**
 * "synthetic-logreg": logistic regression on generated data. Features are standard normal; labels are drawn
 * from a known logistic model, so the loss never reaches zero and small batches show real gradient noise.
 * The data depends only on `dataSeed` (every run of a grid sees the same data); the run seed sets the
 * initial weights and the data order. Seconds per run, so grids of it test the experiment machinery.
 */
import * as tf from "@tensorflow/tfjs";
import { SeededRng } from "../random";
import { classifierFromFunction, type TrainingData } from "../train";
import { taskOption, type ExperimentSetup, type ExperimentTask, type TaskContext } from "./experimentTask";
import type { JsonValue } from "./grid";

/** A generated binary-classification dataset. */
export interface SyntheticClassification {
  features: number;
  /** Row-major [examples, features]. */
  x: Float32Array;
  y: Int32Array;
}

/** Generates `examples` points of a logistic model whose weights have norm `signal` (higher = cleaner labels). */
export function generateLogisticData(examples: number, features: number, signal: number, rng: SeededRng, trueWeights: number[]): SyntheticClassification {
  const x = new Float32Array(examples * features);
  const y = new Int32Array(examples);
  for (let i = 0; i < examples; i++) {
    let z = 0;
    for (let j = 0; j < features; j++) {
      const v = rng.nextGaussian();
      x[i * features + j] = v;
      z += v * trueWeights[j] * signal;
    }
    y[i] = rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return { features, x, y };
}

/** A batch of the synthetic task. */
export interface SyntheticBatch {
  x: tf.Tensor2D;
  y: tf.Tensor1D;
}

function asTrainingData(data: SyntheticClassification): TrainingData<SyntheticBatch> {
  const { features } = data;
  return {
    size: data.y.length,
    collate(indices) {
      const x = new Float32Array(indices.length * features);
      indices.forEach((index, row) => x.set(data.x.subarray(index * features, (index + 1) * features), row * features));
      return {
        x: tf.tensor2d(x, [indices.length, features]),
        y: tf.tensor1d(
          Int32Array.from(indices, (i) => data.y[i]),
          "int32",
        ),
      };
    },
  };
}

let instances = 0;

// eslint-disable-next-line @typescript-eslint/require-await -- ExperimentTask.build returns a Promise: async turns this synchronous body's throws into rejections
async function build(config: Record<string, JsonValue>, context: TaskContext): Promise<ExperimentSetup<unknown>> {
  const features = taskOption(config, "features", 16);
  const signal = taskOption(config, "signal", 1.5);
  const sizes = [taskOption(config, "trainExamples", 512), taskOption(config, "devExamples", 256), taskOption(config, "testExamples", 256)];
  const dataRng = new SeededRng(taskOption(config, "dataSeed", 1234));
  const norm = Math.sqrt(features);
  const trueWeights = Array.from({ length: features }, () => dataRng.nextGaussian() / norm);
  const [train, dev, test] = sizes.map((n) => asTrainingData(generateLogisticData(n, features, signal, dataRng, trueWeights)));

  const initRng = new SeededRng(context.seed);
  const id = ++instances;
  const initial = Float32Array.from({ length: features * 2 }, () => 0.01 * initRng.nextGaussian());
  // tidy frees the initial values; variables outlive it.
  const kernel = tf.tidy(() => tf.variable(tf.tensor2d(initial, [features, 2]), true, `logreg${id}/kernel`));
  const bias = tf.tidy(() => tf.variable(tf.zeros([2]), true, `logreg${id}/bias`));
  const model = classifierFromFunction<SyntheticBatch>(
    [kernel, bias],
    (batch) => tf.tidy(() => batch.x.matMul(kernel).add(bias)),
    (batch) => batch.y,
  );
  return { model: model, train, dev, test, dispose: () => tf.dispose([kernel, bias]) };
}

/** The registered "synthetic-logreg" task (options: features, signal, trainExamples, devExamples, testExamples, dataSeed). */
export const syntheticLogRegTask: ExperimentTask = {
  name: "synthetic-logreg",
  description: "logistic regression on generated data with label noise (seconds per run)",
  build,
};
