/** What the Trainer needs from a model and from training data (the contract with the other areas). */
import type * as tf from "@tensorflow/tfjs";

/** A model the Trainer can train: trainable variables and a SUM-over-items loss for a batch. */
export interface TrainableModel<B> {
  /** Variables to optimise; their `name` decides weight-decay exclusion. */
  trainableVariables(): tf.Variable[];
  /** Sum (not mean) of per-item losses for the batch, the item count, and optionally logits for metrics. */
  lossSum(batch: B, training: boolean): { lossSum: tf.Scalar; count: number; logits?: tf.Tensor };
  /** Logits [items, classes] in inference mode. */
  predictLogits(batch: B): tf.Tensor;
  /** Class ids, int32 [items]. */
  labels(batch: B): tf.Tensor;
  /** Optional: receives a fresh seed from the Trainer's RNG before every training micro-batch (for dropout). */
  setRandomSeed?(seed: number): void;
  /** Optional: turns gradient checkpointing on or off (TrainingArguments.gradientCheckpointing). */
  setGradientCheckpointing?(enabled: boolean): void;
}

/** Decides the order of examples: the micro-batches (lists of example indices) of one epoch. */
export interface BatchSampler {
  /** The micro-batches (example indices) of one epoch, in order. */
  epochBatches(epoch: number, seed: number, microBatchSize: number): number[][];
}

/**
 * Training data: N examples, a collate that builds a micro-batch (the Trainer disposes its tensors after use,
 * with `dispose` when given), and an optional sampler deciding the order (default: seeded shuffle per epoch).
 */
export interface TrainingData<B> {
  size: number;
  /** Builds the micro-batch of these example indices. */
  collate(indices: number[]): B;
  sampler?: BatchSampler;
  /** Frees a micro-batch once the Trainer is done with it (default: its tensors are disposed). */
  dispose?(batch: B): void;
}
