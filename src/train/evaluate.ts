/** Inference over a dataset in order, in micro-batches, producing loss and classification metrics. */
import * as tf from "@tensorflow/tfjs";
import { releaseBatch } from "./accumulate";
import type { TrainableModel, TrainingData } from "./contract";
import { classificationMetrics, type ClassificationMetrics } from "./metrics";
import { chunk } from "./sampler";

/** Classification metrics plus the mean loss over all items, and each item's label and prediction (in data order). */
export interface EvaluationResult extends ClassificationMetrics {
  loss: number;
  labels: number[];
  predictions: number[];
}

/** The scalar metrics of an evaluation, keyed `eval_<name>` as they appear in history records. */
export function evalRecordFields(result: EvaluationResult): Record<`eval_${string}`, number> {
  const { loss, accuracy, precision, recall, f1, macroPrecision, macroRecall, macroF1 } = result;
  const scalars = { loss, accuracy, precision, recall, f1, macroPrecision, macroRecall, macroF1 };
  return Object.fromEntries(Object.entries(scalars).map(([k, v]) => [`eval_${k}`, v]));
}

/** Evaluates `model` on every example of `data` (in index order), `batchSize` at a time, in inference mode. */
export function evaluateClassifier<B>(model: TrainableModel<B>, data: TrainingData<B>, batchSize: number): EvaluationResult {
  if (!(data.size > 0)) throw new Error(`evaluate: the data has no examples (size ${data.size})`);
  const labels: number[] = [];
  const predictions: number[] = [];
  let lossSum = 0;
  let count = 0;
  let numClasses = 0;
  for (const indices of chunk(
    Array.from({ length: data.size }, (_, i) => i),
    batchSize,
  )) {
    const batch = data.collate(indices);
    try {
      const out = tf.tidy(() => {
        const result = model.lossSum(batch, false);
        const logits = result.logits ?? model.predictLogits(batch);
        return { lossSum: result.lossSum, count: result.count, predicted: logits.argMax(-1), labels: model.labels(batch), classes: logits.shape[1] ?? 0 };
      });
      lossSum += out.lossSum.dataSync()[0];
      count += out.count;
      numClasses = Math.max(numClasses, out.classes);
      predictions.push(...out.predicted.dataSync());
      labels.push(...out.labels.dataSync());
      tf.dispose([out.lossSum, out.predicted, out.labels]);
    } finally {
      releaseBatch(data, batch);
    }
  }
  return { loss: lossSum / count, ...classificationMetrics(labels, predictions, numClasses), labels, predictions };
}
