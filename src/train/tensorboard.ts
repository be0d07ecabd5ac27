/** A Trainer callback that writes every history record to TensorBoard event files (`tensorboard --logdir`). */
import { TensorBoardEventWriter, type TensorBoardWriterOptions } from "../io";
import type { TrainerCallback } from "./callbacks";
import type { TrainingLogRecord } from "./history";

/** The TensorBoard tag of each history field (eval metrics become `eval/<name>`). */
const TAGS: [keyof TrainingLogRecord, string][] = [
  ["loss", "train/loss"],
  ["smoothedLoss", "train/smoothed_loss"],
  ["lossStd", "train/loss_std"],
  ["learningRate", "train/learning_rate"],
  ["gradNorm", "train/grad_norm"],
  ["noiseScale", "train/noise_scale"],
  ["examplesPerSecond", "train/examples_per_second"],
  ["epoch", "train/epoch"],
];

/** The scalars of one history record by TensorBoard tag (nulls left out). */
export function tensorBoardScalars(record: TrainingLogRecord): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [field, tag] of TAGS) {
    const value = record[field];
    if (typeof value === "number") out[tag] = value;
  }
  for (const [key, value] of Object.entries(record)) {
    if (key.startsWith("eval_") && typeof value === "number") out[`eval/${key.slice(5)}`] = value;
  }
  return out;
}

/**
 * Writes each logged step (loss, smoothed loss, loss std, learning rate, grad norm, noise scale, throughput,
 * eval metrics) to `logDir/events.out.tfevents.*`, flushed per record. The file opens on the first record
 * and closes when training ends; a resumed run writes a second file that TensorBoard merges by step.
 */
export function tensorBoardCallback(logDir: string, options: TensorBoardWriterOptions = {}): TrainerCallback {
  let writer: TensorBoardEventWriter | undefined;
  return {
    onLog(record) {
      writer ??= new TensorBoardEventWriter(logDir, options);
      writer.addScalars(record.step, tensorBoardScalars(record));
    },
    onTrainEnd() {
      writer?.close();
      writer = undefined;
    },
  };
}
