/** Adapters that turn a tfjs LayersModel or a plain function of variables into a TrainableModel classifier. */
import * as tf from "@tensorflow/tfjs";
import type { TrainableModel } from "./contract";
import { SeededRng } from "../random";

/** A classification batch: inputs `x` and int32 class ids `y` [items]. */
export interface ClassifierBatch {
  x: tf.Tensor;
  y: tf.Tensor;
}

/**
 * Throws unless every label is an integer class id in [0, classes): one-hot of any other label is all zeros, which
 * would give a loss of exactly 0 and no gradient instead of an error. `where` names the caller in the message.
 */
export function checkClassLabels(labels: tf.Tensor, classes: number, where: string): void {
  const values = labels.dataSync();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(Number.isInteger(v) && v >= 0 && v < classes)) {
      throw new Error(`${where}: label ${v} (item ${i} of the batch) is not a class id in [0, ${classes}): the model has ${classes} classes`);
    }
  }
}

/** Sum over items of softmax cross-entropy between `logits` [items, classes] and int32 `labels` [items]. */
export function softmaxCrossEntropySum(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  const classes = logits.shape[logits.shape.length - 1];
  checkClassLabels(labels, classes, "softmaxCrossEntropySum");
  return tf.tidy(() => {
    const oneHot = tf.oneHot(labels.toInt(), classes);
    return tf.logSoftmax(logits).mul(oneHot).sum().neg() as tf.Scalar;
  });
}

/**
 * A classifier from variables, a `forward(batch, training)` returning logits [items, classes] and a
 * `labels(batch)` returning int32 class ids; the loss is softmax cross-entropy summed over items.
 */
export function classifierFromFunction<B>(
  variables: tf.Variable[],
  forward: (batch: B, training: boolean) => tf.Tensor,
  labels: (batch: B) => tf.Tensor,
): TrainableModel<B> {
  return {
    trainableVariables: () => variables,
    lossSum(batch, training) {
      const logits = forward(batch, training);
      const target = labels(batch);
      if (logits.rank !== 2 || target.rank !== 1 || logits.shape[0] !== target.shape[0]) {
        throw new Error(`classifier: logits must be [items, classes] and labels [items], got [${logits.shape}] and [${target.shape}]`);
      }
      return { lossSum: softmaxCrossEntropySum(logits, target), count: target.shape[0], logits };
    },
    predictLogits: (batch) => forward(batch, false),
    labels,
  };
}

/**
 * Runs `fn` with Math.random replaced by a generator seeded with `seed`, restoring it afterwards. tfjs draws the
 * seed of every unseeded random op (Dropout layers) from Math.random, so this makes those ops reproducible.
 */
export function withSeededMathRandom<T>(seed: number, fn: () => T): T {
  const original = Math.random;
  const rng = new SeededRng(seed);
  Math.random = () => rng.next();
  try {
    return fn();
  } finally {
    Math.random = original;
  }
}

/**
 * A classifier from a LayersModel that outputs logits (no final softmax); batches are `{ x, y }`.
 * Dropout is made reproducible: training passes run under `withSeededMathRandom` with the Trainer's seed.
 */
export function classifierFromLayersModel(model: tf.LayersModel): TrainableModel<ClassifierBatch> {
  const last = model.layers[model.layers.length - 1];
  const activation = (last?.getConfig() as { activation?: unknown } | undefined)?.activation;
  if (activation === "softmax") {
    throw new Error(`classifierFromLayersModel: the last layer "${last.name}" applies softmax; the model must output logits (use activation "linear")`);
  }
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let seed = 0;
  const forward = (batch: ClassifierBatch, training: boolean) =>
    training ? withSeededMathRandom(seed++, () => model.apply(batch.x, { training }) as tf.Tensor) : (model.apply(batch.x) as tf.Tensor);
  return {
    ...classifierFromFunction<ClassifierBatch>(variables, forward, (batch) => batch.y),
    setRandomSeed: (next) => void (seed = next),
  };
}
