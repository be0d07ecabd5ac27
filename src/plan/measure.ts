/**
 * Measures what the planner predicts: the peak memory of one Trainer optimizer step of a
 * LongformerForSequenceClassification (k micro-batches of b examples, exact accumulation, clipping, AdamW).
 *
 * The figure the planner is calibrated on is what the backend really holds at the peak (`peakBytes`, from
 * trackBackendMemory in backendMemory.ts): on WASM the bytes in use in the heap (every tensor buffer once, the
 * backend's own allocations such as XNNPACK's packed copies, the allocator's headers); on cpu the bytes of its
 * distinct tensor buffers. The tensorflow backend is not supported (not installable where tsml is calibrated).
 * Also reported: tf.profile's peak tensor bytes (a shared buffer counts once per tensor that shares it: an
 * over-count), the bytes the WASM allocator claimed (fragmentation included), the heap's size and the process's
 * peak RSS. Everything but RSS is deterministic.
 */
import * as tf from "@tensorflow/tfjs";
import { LongformerConfig, LongformerForSequenceClassification, type LongformerLabelledBatch } from "../models/longformer";
import { Trainer, type TrainingData } from "../train";
import { trackBackendMemory } from "./backendMemory";

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
  /**
   * What the backend really held at the peak, minus what it held before the model was built (see the file
   * comment): the WASM heap's bytes in use, or the distinct tensor buffers' bytes. What the planner predicts.
   */
  peakBytes: number;
  /** tf.profile's peak tensor bytes minus those alive before the model was built (a shared buffer counts once per tensor). */
  tensorPeakBytes: number;
  /** WASM: bytes the heap allocator claimed after the step minus before the model was built (in use or free); 0 elsewhere. */
  heapClaimedBytes: number;
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
  const accumulationSteps = options.accumulationSteps ?? 2;
  const bytesBefore = tf.memory().numBytes;
  const tracker = trackBackendMemory();
  try {
    const claimedBefore = tracker.claimedBytes();
    const tensorPeakBytes = (await profiledTrainingStep(options, accumulationSteps)) - bytesBefore;
    return {
      peakBytes: tracker.peakBytes,
      tensorPeakBytes,
      heapClaimedBytes: tracker.claimedBytes() - claimedBefore,
      heapBytes: wasmHeapBytes(),
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
  } finally {
    tracker.stop();
  }
}

/** Builds the model, trains one optimizer step under tf.profile, releases everything; returns tf.profile's peakBytes. */
async function profiledTrainingStep(options: PeakMeasurementOptions, accumulationSteps: number): Promise<number> {
  const { config, sequenceLength, batchSize } = options;
  const model = LongformerForSequenceClassification.create(config, { seed: 1 });
  const row = syntheticIds(sequenceLength, config.vocab_size);
  const data: TrainingData<LongformerLabelledBatch> = {
    size: batchSize * accumulationSteps,
    collate: (indices) => ({
      inputIds: tf.tensor2d(
        indices.flatMap(() => row),
        [indices.length, sequenceLength],
        "int32",
      ),
      labels: tf.tensor1d(
        indices.map((i) => i % config.num_labels),
        "int32",
      ),
    }),
  };
  const trainer = new Trainer({
    model: model.asTrainableModel(),
    trainData: data,
    args: {
      perDeviceBatchSize: batchSize,
      gradientAccumulationSteps: accumulationSteps,
      maxSteps: 1,
      progress: "none",
      gradientCheckpointing: options.checkpointing,
    },
  });
  const checkErrors = tf.env().getBool("CHECK_COMPUTATION_FOR_ERRORS");
  tf.env().set("CHECK_COMPUTATION_FOR_ERRORS", false); // else the profiler copies every kernel output
  try {
    const profile = await tf.profile(async () => {
      await trainer.train();
      return [];
    });
    return profile.peakBytes;
  } finally {
    tf.env().set("CHECK_COMPUTATION_FOR_ERRORS", checkErrors);
    trainer.dispose();
    model.dispose();
  }
}
