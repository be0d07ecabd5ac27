/**
 * Measures what the planner predicts: the peak memory of one Trainer optimizer step of a
 * LongformerForSequenceClassification (k micro-batches of b examples, exact accumulation, clipping, AdamW).
 * Three figures: the peak of tensor bytes held by the tfjs engine (tf.profile's peakBytes, deterministic), the
 * growth of the WASM heap (which never shrinks, so measure in a fresh process) and the process's peak RSS.
 */
import * as tf from "@tensorflow/tfjs";
import { LongformerConfig, LongformerForSequenceClassification, type LongformerLabelledBatch } from "../models/longformer";
import { Trainer, type TrainingData } from "../train";

/** One configuration to measure. */
export interface PeakMeasurementOptions {
  config: LongformerConfig;
  /** Tokens per example (a multiple of the largest attention window avoids padding). */
  sequenceLength: number;
  /** Examples per micro-batch. */
  batchSize: number;
  /** Micro-batches per optimizer step. Default 2 (the accumulation the planner assumes). */
  accumulationSteps?: number;
  checkpointing: boolean;
}

/** What one optimizer step used. */
export interface PeakMeasurement {
  /** Peak bytes of live tensors during the step, minus the bytes alive before the model was built. */
  tensorPeakBytes: number;
  /** Size of the WASM heap after the step minus before the model was built (0 on other backends). */
  heapGrowthBytes: number;
  /** Size of the WASM heap after the step (0 on other backends). */
  heapBytes: number;
  /** The process's peak resident set size so far (bytes). */
  peakRssBytes: number;
}

/** Size of the WASM backend's heap in bytes, or 0 on another backend. */
export function wasmHeapBytes(): number {
  if (tf.getBackend() !== "wasm") return 0;
  const module = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
  return module?.HEAPU8?.buffer.byteLength ?? 0;
}

/** Token ids of the HF bench rule: 0, then 4 + (i·7919) mod (vocab − 10), then 2 (no padding). */
function syntheticIds(length: number, vocab: number): number[] {
  return Array.from({ length }, (_, i) => (i === 0 ? 0 : i === length - 1 ? 2 : 4 + ((i * 7919) % Math.max(1, vocab - 10))));
}

/** Runs one optimizer step on synthetic data with dropout on and measures its peak memory. */
export async function measureTrainingStepPeak(options: PeakMeasurementOptions): Promise<PeakMeasurement> {
  const { config, sequenceLength, batchSize } = options;
  const accumulationSteps = options.accumulationSteps ?? 2;
  const bytesBefore = tf.memory().numBytes;
  const heapBefore = wasmHeapBytes();
  const model = LongformerForSequenceClassification.create(config, { seed: 1 });
  const row = syntheticIds(sequenceLength, config.vocab_size);
  const data: TrainingData<LongformerLabelledBatch> = {
    size: batchSize * accumulationSteps,
    collate: (indices) => ({
      inputIds: tf.tensor2d(indices.flatMap(() => row), [indices.length, sequenceLength], "int32"),
      labels: tf.tensor1d(indices.map((i) => i % config.num_labels), "int32"),
    }),
  };
  const trainer = new Trainer({
    model: model.asTrainableModel(),
    trainData: data,
    args: { perDeviceBatchSize: batchSize, gradientAccumulationSteps: accumulationSteps, maxSteps: 1, progress: "none", gradientCheckpointing: options.checkpointing },
  });
  const checkErrors = tf.env().getBool("CHECK_COMPUTATION_FOR_ERRORS");
  tf.env().set("CHECK_COMPUTATION_FOR_ERRORS", false); // else the profiler copies every kernel output
  try {
    const profile = await tf.profile(async () => {
      await trainer.train();
      return [];
    });
    const heapBytes = wasmHeapBytes();
    return {
      tensorPeakBytes: profile.peakBytes - bytesBefore,
      heapGrowthBytes: heapBytes - heapBefore,
      heapBytes,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
  } finally {
    tf.env().set("CHECK_COMPUTATION_FOR_ERRORS", checkErrors);
    trainer.dispose();
    model.dispose();
  }
}
