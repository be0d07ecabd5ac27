/**
 * Predicted peak memory of one training step of LongformerForSequenceClassification in tsml (Trainer: forward
 * and backward of each micro-batch, exact accumulation, clipping, AdamW), from the configuration alone.
 *
 * Where the bytes come from (src/models/longformer, src/train/gradients.ts, tfjs 4.22). The forward pass keeps
 * every tensor saved for the backward pass (and, until it ends, the forward tidy's intermediates); the backward
 * pass (frugalGradients) frees each node's saved tensors and output gradients as soon as that node is done. So
 *   weights + parameter gradients + accumulated gradient (k >= 2) [+ AdamW moments where they share the memory]
 *   + activations (saved tensors, intermediates, the gradients in flight) at the worst moment.
 * Activations scale with the micro-batch b and the padded length n, in four shapes: hidden [b, n, H],
 * feed-forward [b, n, I], band [b, h, n, 2w+1] (w = window / 2) and global columns [b, h, n, G]. Every
 * Reshape on the tape saves its input (on WASM, since main's e6de0c9, saving shares data as on cpu).
 *
 * The multiples below are per padded token of one example, in float32 elements. Which terms exist comes from the
 * code (see above); their sizes were calibrated by exact measurement (tf.profile peakBytes of a real Trainer step,
 * measureTrainingStepPeak) by least squares, rounded: on WASM over 35 configurations per checkpointing mode
 * (hidden 32-64, intermediate 64-256, 2-4 heads, window 16-64, 256-512 tokens, batch 1-3, 1-4 layers). With
 * checkpointing the fit is within -1%..+1%; without it the peak moves between the end of the forward pass and the
 * backward pass with the shape, so one linear form, rounded up, is within 0%..+12%. bench/planner/calibration-wasm.md
 * also checks larger shapes, up to one longformer-base layer at 1024 tokens. The cpu coefficients were fitted
 * (within 1% and 4%) before the backward pass freed memory as it goes (src/train/gradients.ts); they now
 * over-predict, on the safe side (by 40-57% without checkpointing, 9% with it, on the points re-measured), and
 * await re-calibration (TSML_BACKEND=cpu node dist/bench/planner/calibrate.js).
 * bench/planner/calibrate.ts prints the table and fails past 15%; test/plan/memory.test.ts checks shapes outside
 * the fit. The tensorflow backend (not installed here) is assumed to behave like cpu (same stock-op paths).
 */
import type { LongformerConfig } from "../models/longformer";
import { longformerParameterSpecs } from "../models/longformer";
import { requirePositiveInteger } from "../util";

/** Compute backends the memory model knows (src/backend's names). */
export type PlanBackend = "wasm" | "cpu" | "tensorflow";

/** WASM (wasm32) heap limit: going past it is fatal ("memory access out of bounds"). */
export const WASM_HEAP_LIMIT_BYTES = 4 * 1024 ** 3;

/** What the WASM heap holds before any tensor: the module's static data and initial heap (measured: 16 MiB). */
export const WASM_HEAP_BASE_BYTES = 16 * 1024 ** 2;

/** Float32 elements per padded token of one example, by tensor shape, for one backend's kernels. */
interface ActivationCoefficients {
  /** Without gradient checkpointing (every layer's activations live until the backward pass ends). */
  without: {
    /** Per layer: hidden-sized saved activations, their copies and gradients (x, q, k, v, context, masks, x̂, ...). */
    hiddenPerLayer: number;
    /** Per layer: feed-forward-sized tensors (intermediate output, GELU input and output, their gradients). */
    ffnPerLayer: number;
    /** Per layer: band-sized tensors [h, 2w+1] (scores, probabilities, dropout mask, sliced band, gradients). */
    bandPerLayer: number;
    /** Per layer, head and global token: global-key columns and global-attention rows. */
    globalPerLayer: number;
    /** Embeddings and classifier: hidden-sized tensors outside the layers. */
    hiddenOutsideLayers: number;
  };
  /** With gradient checkpointing (each layer recomputed in turn in the backward pass). */
  with: {
    /** Per layer: its saved input, that input's gradient and the running sum of gradients into it. */
    hiddenPerLayer: number;
    /** Per layer: the saved band mask [2w+1] (the checkpoint keeps the masks with the input). */
    bandMaskPerLayer: number;
    /** One layer being recomputed, plus the embeddings and the classifier: hidden-sized tensors. */
    hiddenRecomputed: number;
    /** One layer being recomputed: feed-forward-sized tensors. */
    ffnRecomputed: number;
    /** One layer being recomputed: band-sized tensors. */
    bandRecomputed: number;
    /** One layer being recomputed, per head and global token: global-key columns and global-attention rows. */
    globalRecomputed: number;
  };
  /** Per layer, without checkpointing: H² elements (the 1/√d-scaled query projections, saved, and their gradients). */
  scaledWeightsPerLayer: number;
}

/** WASM: tsml's band kernels (saving q, k and p, v), SIMD GELU and LayerNorm kernels. */
const WASM_COEFFICIENTS: ActivationCoefficients = {
  without: { hiddenPerLayer: 30, ffnPerLayer: 7, bandPerLayer: 6, globalPerLayer: 0, hiddenOutsideLayers: 75 },
  with: { hiddenPerLayer: 1, bandMaskPerLayer: 1, hiddenRecomputed: 92, ffnRecomputed: 8, bandRecomputed: 7, globalRecomputed: 14 },
  scaledWeightsPerLayer: 0,
};

/**
 * cpu (and, not measured here, tensorflow): the band products built from stock ops blockwise (3w-wide key windows,
 * padded skews), GELU from stock ops; saved tensors share their data (Identity does not copy on cpu). Fitted
 * before the frugal backward pass: an upper bound now (see the file comment).
 */
const STOCK_OPS_COEFFICIENTS: ActivationCoefficients = {
  without: { hiddenPerLayer: 154, ffnPerLayer: 8, bandPerLayer: 36, globalPerLayer: 0, hiddenOutsideLayers: 19 },
  with: { hiddenPerLayer: 6, bandMaskPerLayer: 0, hiddenRecomputed: 156, ffnRecomputed: 8, bandRecomputed: 36, globalRecomputed: 0 },
  scaledWeightsPerLayer: 28,
};

function coefficientsOf(backend: PlanBackend): ActivationCoefficients {
  return backend === "wasm" ? WASM_COEFFICIENTS : STOCK_OPS_COEFFICIENTS;
}

/** What a memory estimate is for. */
export interface MemoryEstimateRequest {
  config: LongformerConfig;
  /** Tokens per example before Longformer's padding to a multiple of the largest window. */
  sequenceLength: number;
  /** Examples per micro-batch. */
  batchSize: number;
  /** Micro-batches per optimizer step (k >= 2 keeps an accumulated gradient). Default 2. */
  accumulationSteps?: number;
  /** Gradient checkpointing on. Default false. */
  checkpointing?: boolean;
  /** Default "wasm". */
  backend?: PlanBackend;
  /** Tokens with global attention per example. Default 1 (the classifier's default: the first token). */
  globalTokens?: number;
}

/** Predicted peak bytes of one training step, by part. */
export interface MemoryEstimate {
  /** Everything that lives in the budgeted memory at the peak (the WASM heap, or RAM / device memory). */
  totalBytes: number;
  weightsBytes: number;
  /** The micro-batch's parameter gradients. */
  gradientBytes: number;
  /** The accumulated gradient of earlier micro-batches (0 when k = 1). */
  accumulatorBytes: number;
  /** AdamW's two moments when they share the budgeted memory (cpu: RAM; tensorflow: the backend). */
  optimizerBytes: number;
  /** AdamW's moments kept outside the budget (WASM: host memory outside the heap). */
  hostOptimizerBytes: number;
  /** Saved activations and their gradients: the part that grows with the batch. */
  activationBytes: number;
  /** Fixed overhead of the backend (WASM: the heap's initial size). */
  overheadBytes: number;
  parameters: number;
  /** Length after padding to a multiple of the largest attention window. */
  paddedLength: number;
}

function positiveInteger(value: unknown, field: string): number {
  requirePositiveInteger(value, `memory estimate: ${field}`);
  return value;
}

/** Number of trainable parameters of LongformerForSequenceClassification with `config`. */
export function longformerParameterCount(config: LongformerConfig): number {
  return longformerParameterSpecs(config).reduce((sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1), 0);
}

/** Activation elements of one example (saved tensors and their gradients at the peak). */
function activationElementsPerExample(config: LongformerConfig, paddedLength: number, checkpointing: boolean, globalTokens: number, coefficients: ActivationCoefficients): number {
  const H = config.hidden_size;
  const I = config.intermediate_size;
  const heads = config.num_attention_heads;
  const L = config.num_hidden_layers;
  const n = paddedLength;
  let bandWidthSum = 0;
  for (let i = 0; i < L; i++) bandWidthSum += config.windowOf(i) + 1;
  if (checkpointing) {
    const c = coefficients.with;
    const oneLayer = c.hiddenRecomputed * H + c.ffnRecomputed * I + c.bandRecomputed * heads * (config.maxWindow + 1) + c.globalRecomputed * heads * globalTokens;
    return n * (L * c.hiddenPerLayer * H + c.bandMaskPerLayer * bandWidthSum + oneLayer);
  }
  const c = coefficients.without;
  const perLayer = c.hiddenPerLayer * H + c.ffnPerLayer * I + c.globalPerLayer * heads * globalTokens;
  return n * (L * perLayer + c.bandPerLayer * heads * bandWidthSum + c.hiddenOutsideLayers * H);
}

/** Predicts the peak memory of one training step (see the file comment for the model and its calibration). */
export function estimateTrainingMemory(request: MemoryEstimateRequest): MemoryEstimate {
  const { config } = request;
  const sequenceLength = positiveInteger(request.sequenceLength, "sequenceLength");
  const batchSize = positiveInteger(request.batchSize, "batchSize");
  const accumulationSteps = positiveInteger(request.accumulationSteps ?? 2, "accumulationSteps");
  const globalTokens = positiveInteger(request.globalTokens ?? 1, "globalTokens");
  const backend = request.backend ?? "wasm";
  if (!["wasm", "cpu", "tensorflow"].includes(backend)) throw new Error(`memory estimate: backend must be "wasm", "cpu" or "tensorflow", got ${JSON.stringify(backend)}`);
  const window = config.maxWindow;
  const paddedLength = Math.ceil(sequenceLength / window) * window;
  const parameters = longformerParameterCount(config);
  const F = 4; // float32
  // Without checkpointing every layer's scaled query weights stay saved until the backward pass ends.
  const coefficients = coefficientsOf(backend);
  const scaledWeights = request.checkpointing ? 0 : coefficients.scaledWeightsPerLayer * config.num_hidden_layers * config.hidden_size ** 2;
  const weightsBytes = F * (parameters + scaledWeights);
  // With checkpointing the peak comes while the first layer is recomputed: the embedding tables' gradients
  // (computed last) do not exist yet.
  const embeddingTables = (config.vocab_size + config.max_position_embeddings + config.type_vocab_size) * config.hidden_size;
  const gradientBytes = F * (request.checkpointing ? parameters - embeddingTables : parameters);
  const accumulatorBytes = accumulationSteps > 1 ? F * parameters : 0;
  const momentsBytes = 2 * F * parameters;
  const optimizerBytes = backend === "wasm" ? 0 : momentsBytes;
  const activationBytes = F * batchSize * activationElementsPerExample(config, paddedLength, request.checkpointing === true, globalTokens, coefficients);
  const overheadBytes = backend === "wasm" ? WASM_HEAP_BASE_BYTES : 0;
  return {
    totalBytes: weightsBytes + gradientBytes + accumulatorBytes + optimizerBytes + activationBytes + overheadBytes,
    weightsBytes,
    gradientBytes,
    accumulatorBytes,
    optimizerBytes,
    hostOptimizerBytes: backend === "wasm" ? momentsBytes : 0,
    activationBytes,
    overheadBytes,
    parameters,
    paddedLength,
  };
}
