/**
 * Exact gradient accumulation. Each micro-batch contributes the gradient of its loss SUM; the total is divided
 * once by the number of items in the whole effective batch, so k micro-batches of any sizes give the gradient
 * of the mean loss over all their items — the same as one big batch.
 */
import * as tf from "@tensorflow/tfjs";
import { frugalVariableGrads } from "./gradients";
import { sumOfSquares } from "./clip";
import type { TrainableModel, TrainingData } from "./contract";

/** The gradient of one optimizer step and what the noise-scale estimator needs. The caller disposes tensors. */
export interface AccumulatedGradients {
  /** Gradient of (sum of item losses) / (items in the effective batch), aligned with the variables. */
  grads: tf.Tensor[];
  /** Sum of item losses over the effective batch. */
  lossSum: tf.Scalar;
  /** Items in the effective batch. */
  count: number;
  /** Per micro-batch: squared norm of the gradient of that micro-batch's own mean loss. */
  microSquaredNorms: tf.Scalar[];
  /** Per micro-batch: its item count. */
  microCounts: number[];
}

/** Disposes a micro-batch through the data's own `dispose`, else every tensor inside it. */
export function releaseBatch<B>(data: TrainingData<B>, batch: B): void {
  if (data.dispose) data.dispose(batch);
  else tf.dispose(batch as unknown as tf.TensorContainer);
}

/** Gradients of the model's loss sum on one batch, one per variable (zeros for variables the loss ignores). */
function gradientsOfLossSum<B>(model: TrainableModel<B>, variables: tf.Variable[], batch: B) {
  let count = NaN;
  // frugalVariableGrads: tf.variableGrads' gradients, with saved tensors and intermediate gradients freed as the
  // backward pass goes (peak memory about half of tfjs's own).
  const { value, grads } = frugalVariableGrads(() => {
    const out = model.lossSum(batch, true);
    count = out.count;
    return out.lossSum;
  }, variables);
  if (!(Number.isFinite(count) && count >= 0)) {
    tf.dispose([value, ...Object.values(grads)]);
    throw new Error(`TrainableModel.lossSum returned count ${count}; expected the number of items (>= 0)`);
  }
  const ordered = variables.map((v) => grads[v.name] ?? tf.zerosLike(v));
  return { lossSum: value, grads: ordered, count };
}

/**
 * Runs forward/backward on each micro-batch in turn (collated lazily and released right after, so only one
 * micro-batch is alive at a time) and returns the gradient of the mean loss over the whole effective batch.
 * `beforeMicroBatch` runs before each one (the Trainer hands the model a dropout seed there).
 */
export function accumulateGradients<B>(
  model: TrainableModel<B>,
  variables: tf.Variable[],
  data: TrainingData<B>,
  microBatches: number[][],
  beforeMicroBatch?: () => void,
): AccumulatedGradients {
  let sum: tf.Tensor[] | undefined;
  let lossSum: tf.Scalar = tf.scalar(0);
  const microSquaredNorms: tf.Scalar[] = [];
  const microCounts: number[] = [];
  try {
    for (const indices of microBatches) {
      beforeMicroBatch?.();
      const batch = data.collate(indices);
      try {
        const micro = gradientsOfLossSum(model, variables, batch);
        microCounts.push(micro.count);
        // The noise-scale estimator needs two batch sizes: with one micro-batch this full pass would be wasted.
        if (microBatches.length >= 2) microSquaredNorms.push(tf.tidy(() => sumOfSquares(micro.grads).div(Math.max(1, micro.count) ** 2)));
        if (sum) {
          // Variable by variable, so at most one extra gradient-sized tensor exists at a time.
          for (let i = 0; i < sum.length; i++) {
            const previous = sum[i];
            sum[i] = previous.add(micro.grads[i]);
            tf.dispose([previous, micro.grads[i]]);
          }
        } else {
          sum = micro.grads;
        }
        const previousLoss = lossSum;
        lossSum = previousLoss.add(micro.lossSum);
        tf.dispose([previousLoss, micro.lossSum]);
      } finally {
        releaseBatch(data, batch);
      }
    }
    const count = microCounts.reduce((a, b) => a + b, 0);
    if (!sum || count === 0) throw new Error("accumulateGradients: the effective batch has no items");
    const grads = sum.map((s) => {
      const mean = s.div(count);
      s.dispose();
      return mean;
    });
    return { grads, lossSum, count, microSquaredNorms, microCounts };
  } catch (error) {
    tf.dispose([...(sum ?? []), lossSum, ...microSquaredNorms]);
    throw error;
  }
}
