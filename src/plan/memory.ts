/**
 * Predicted peak memory of one training step of LongformerForSequenceClassification in tsml (Trainer: forward
 * and backward of each micro-batch, exact accumulation, clipping, AdamW), from the configuration alone.
 *
 * What is predicted is what the backend really holds at the peak (measure.ts, backendMemory.ts): on WASM the
 * bytes in use in the heap (tensor buffers once each, XNNPACK's packed copies, allocator headers), on cpu the
 * distinct tensor buffers. Where the bytes come from (src/models/longformer, src/train, tfjs 4.22):
 *   - weights P; on WASM, XNNPACK's packed copy of every Linear weight: the backward pass multiplies dy by W,
 *     XNNPACK packs W and keeps the copy until W is replaced by the optimizer;
 *   - the accumulated gradient of earlier micro-batches (k >= 2), P;
 *   - the forward pass keeps what the backward pass needs: activations in four shapes, per padded token of one
 *     example: hidden [H], feed-forward [I], band [h, 2w+1] (w = window / 2) and global columns [h, G]; without
 *     checkpointing for every layer, plus per layer some weight-sized tensors (the 1/√d-scaled query weights);
 *     with checkpointing only each layer's input, while one layer at a time is recomputed;
 *   - the backward pass (frugalGradients) frees each node's saved tensors as it goes, so without checkpointing
 *     the peak is the end of the forward pass of the last micro-batch, before any gradient exists; with it the
 *     peak comes while the first layer is recomputed, with every gradient but the embedding tables' made;
 *   - after the last micro-batch, the gradient norm and the clipping hold two gradient-sized sets (accumulated
 *     and new, or gradient and clipped copy) and, while its square is summed, a copy of the largest parameter.
 * The peak is the larger of the two phases. Which terms exist comes from the code; the multiples of the activation
 * shapes were fitted by least squares (relative error) on exact measurements and rounded to halves: WASM on 60
 * random configurations (hidden 32-128, 1-4 layers, 2-4 heads, window 16-64, 128-512 tokens, batch 1-3, half
 * with checkpointing) and the 16 points of the bench; cpu on 37 smaller ones (hidden 32-64, window 8-32, 64-192
 * tokens); WASM's band terms and recomputed hidden term then re-fitted on the bench's 16 points when the attention
 * softmax stopped copying its global and band columns into one tensor (one band-sized tensor less at the peak:
 * band 3 -> 2 per layer and recomputed, hidden recomputed 26 -> 24). The weights' terms were not fitted: they are counted. bench/planner/calibration-<backend>.md checks
 * the model on other shapes, up to one longformer-base layer at 1024 tokens (the rule: within 15%, never more
 * than the default 10% safety margin under), and test/plan/memory.test.ts on small ones. The whole longformer-base
 * (vocab 50265, 12 layers) at 4096 tokens, batch 1, k = 2, with checkpointing, on WASM: measured 2.77 GiB in use
 * and 3.20 GiB of heap claimed; predicted 3.00 GiB (+8.2%) and 3.46 GiB (one step: 32 minutes on this machine; measured before that re-fit and not since). The tensorflow backend (tfjs-node, not installable here) is NOT
 * calibrated: its estimate reuses the cpu multiples, and planBatch says so.
 */
import type { LongformerConfig } from "../models/longformer";
import { longformerParameterSpecs } from "../models/longformer";
import { requirePositiveInteger } from "../util";

/** Compute backends the memory model knows (src/backend's names). */
export type PlanBackend = "wasm" | "cpu" | "tensorflow";

/** WASM (wasm32) heap limit: going past it is fatal ("memory access out of bounds"). */
export const WASM_HEAP_LIMIT_BYTES = 4 * 1024 ** 3;

/** Allowance for what the WASM memory holds besides the step: static data, stack, the backend's state (measured: under 1 MiB). */
export const WASM_HEAP_BASE_BYTES = 16 * 1024 ** 2;

/**
 * Heap the WASM allocator claims beyond the bytes in use, as a fraction of them: freed blocks it cannot reuse for a
 * larger request (emmalloc never gives memory back); the heap limit applies to the claimed bytes. Measured after
 * one step: 3-39% (median 10%) over the calibration shapes (the small ones: the heap base covers them), 6-24% on
 * those above 100 MiB, 15% on longformer-base at 4096 tokens with checkpointing. With this allowance the predicted
 * heap is at least the claimed heap on every calibration point; the safety margin comes on top.
 */
export const WASM_HEAP_FRAGMENTATION = 0.15;

/** Float32 elements per padded token of one example, by tensor shape, for one backend's kernels. */
interface ActivationCoefficients {
  /** Without gradient checkpointing: what the forward pass keeps, for every layer, at its end. */
  without: {
    /** Per layer: hidden-sized tensors (x, q, k, v, context, LayerNorm's x̂, the forward tidy's intermediates; dropout keeps no mask). */
    hiddenPerLayer: number;
    /** Per layer: feed-forward-sized tensors (the intermediate output and GELU's input and output). */
    ffnPerLayer: number;
    /** Per layer, head and band position: band-sized tensors (scores, probabilities). */
    bandPerLayer: number;
    /** Embeddings and classifier: hidden-sized tensors outside the layers. */
    hiddenOutsideLayers: number;
    /** Per layer, in H² elements (not per token): weight-sized tensors the forward pass makes and keeps (the 1/√d-scaled query and global-query weights). */
    weightsPerLayer: number;
  };
  /** With gradient checkpointing: each layer's saved input, and one layer recomputed with its gradients in flight. */
  with: {
    /** Per layer: its saved input. */
    hiddenPerLayer: number;
    /** Per layer and band position: the band mask the checkpoint keeps with the input. */
    bandMaskPerLayer: number;
    /** The layer being recomputed, plus the embeddings and the classifier: hidden-sized tensors and their gradients. */
    hiddenRecomputed: number;
    /** The layer being recomputed: feed-forward-sized tensors and their gradients. */
    ffnRecomputed: number;
    /** The layer being recomputed, per head and band position: band-sized tensors and their gradients. */
    bandRecomputed: number;
    /** The layer being recomputed, per head and global token: global-key columns and global-attention rows. */
    globalRecomputed: number;
  };
  /** Copies of the Linear weights the backend keeps for itself (XNNPACK's packed right operands on WASM). */
  weightCopies: number;
}

/** WASM: tsml's band kernels, SIMD GELU and LayerNorm kernels, XNNPACK matrix products. */
const WASM_COEFFICIENTS: ActivationCoefficients = {
  without: { hiddenPerLayer: 15.5, ffnPerLayer: 2, bandPerLayer: 2, hiddenOutsideLayers: 17, weightsPerLayer: 5 },
  with: { hiddenPerLayer: 1, bandMaskPerLayer: 0.5, hiddenRecomputed: 24, ffnRecomputed: 2.5, bandRecomputed: 2, globalRecomputed: 24 },
  weightCopies: 1,
};

/**
 * cpu (and, not measured here, tensorflow): the band products built from stock ops blockwise (3w-wide key windows,
 * padded skews), GELU and LayerNorm from stock ops; no copies of the weights.
 */
const STOCK_OPS_COEFFICIENTS: ActivationCoefficients = {
  without: { hiddenPerLayer: 24, ffnPerLayer: 6.5, bandPerLayer: 9, hiddenOutsideLayers: 36, weightsPerLayer: 3.5 },
  with: { hiddenPerLayer: 1, bandMaskPerLayer: 0.5, hiddenRecomputed: 41.5, ffnRecomputed: 13, bandRecomputed: 9.5, globalRecomputed: 3.5 },
  weightCopies: 0,
};

function coefficientsOf(backend: PlanBackend): ActivationCoefficients {
  return backend === "wasm" ? WASM_COEFFICIENTS : STOCK_OPS_COEFFICIENTS;
}

/** Whether the memory model of `backend` was calibrated on measured training steps (tensorflow: not installable here). */
export function isCalibratedBackend(backend: PlanBackend): boolean {
  return backend !== "tensorflow";
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
  /**
   * Everything the budgeted memory must hold at the peak (the WASM heap, or RAM / device memory): what the backend
   * holds, the heap's fragmentation and base (WASM), AdamW's moments where they share the budget.
   */
  totalBytes: number;
  /** What the backend holds at the peak: the larger of forwardBackwardBytes and clippingBytes (what calibration measures). */
  peakHeldBytes: number;
  /** WASM: heap claimed beyond what is in use (WASM_HEAP_FRAGMENTATION of peakHeldBytes); 0 elsewhere. */
  fragmentationBytes: number;
  /** Which phase of the step peaks: the forward and backward passes, or the gradient norm and clipping after them. */
  peakPhase: "forward-backward" | "gradient clipping";
  /** The forward/backward phase: weights, copies, accumulator, gradients in flight, forward weights and activations. */
  forwardBackwardBytes: number;
  /** The clipping phase: weights, copies, two gradient-sized sets and (k >= 2) a copy of the largest parameter. */
  clippingBytes: number;
  weightsBytes: number;
  /** Copies of the Linear weights the backend keeps (WASM: XNNPACK's packed operands). */
  weightCopiesBytes: number;
  /** Parameter gradients already made at the forward/backward peak (with checkpointing: all but the embedding tables'). */
  gradientBytes: number;
  /** The accumulated gradient of earlier micro-batches (0 when k = 1). */
  accumulatorBytes: number;
  /** AdamW's two moments when they share the budgeted memory (cpu: RAM; tensorflow: the backend). */
  optimizerBytes: number;
  /** AdamW's moments kept outside the budget (WASM: host memory outside the heap). */
  hostOptimizerBytes: number;
  /** Weight-sized tensors the forward pass makes and keeps (without checkpointing). */
  forwardWeightsBytes: number;
  /** Saved activations and their gradients at the forward/backward peak: the part that grows with the batch. */
  activationBytes: number;
  /** Fixed overhead of the backend (WASM: the heap's initial size). */
  overheadBytes: number;
  parameters: number;
  /** Length after padding to a multiple of the largest attention window. */
  paddedLength: number;
  /** False where the backend's multiples were not measured (tensorflow). */
  calibrated: boolean;
}

function positiveInteger(value: unknown, field: string): number {
  requirePositiveInteger(value, `memory estimate: ${field}`);
  return value;
}

/** Number of trainable parameters of LongformerForSequenceClassification with `config`. */
export function longformerParameterCount(config: LongformerConfig): number {
  return longformerParameterSpecs(config).reduce((sum, spec) => sum + sizeOf(spec.shape), 0);
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Parameter counts the fixed terms need: all, the embedding tables, the Linear weight matrices, the largest tensor. */
function parameterGroups(config: LongformerConfig): { all: number; embeddingTables: number; linearWeights: number; largest: number } {
  const specs = longformerParameterSpecs(config);
  const matrices = specs.filter((spec) => spec.shape.length === 2);
  const isEmbedding = (name: string) => name.includes(".embeddings.");
  return {
    all: specs.reduce((sum, spec) => sum + sizeOf(spec.shape), 0),
    embeddingTables: matrices.filter((spec) => isEmbedding(spec.name)).reduce((sum, spec) => sum + sizeOf(spec.shape), 0),
    linearWeights: matrices.filter((spec) => !isEmbedding(spec.name)).reduce((sum, spec) => sum + sizeOf(spec.shape), 0),
    largest: Math.max(...specs.map((spec) => sizeOf(spec.shape))),
  };
}

/** Activation elements of one example at the forward/backward peak. */
function activationElementsPerExample(
  config: LongformerConfig,
  paddedLength: number,
  checkpointing: boolean,
  globalTokens: number,
  coefficients: ActivationCoefficients,
): number {
  const H = config.hidden_size;
  const I = config.intermediate_size;
  const heads = config.num_attention_heads;
  const L = config.num_hidden_layers;
  const n = paddedLength;
  let bandWidthSum = 0;
  for (let i = 0; i < L; i++) bandWidthSum += config.windowOf(i) + 1;
  if (checkpointing) {
    const c = coefficients.with;
    const oneLayer =
      c.hiddenRecomputed * H + c.ffnRecomputed * I + c.bandRecomputed * heads * (config.maxWindow + 1) + c.globalRecomputed * heads * globalTokens;
    return n * (L * c.hiddenPerLayer * H + c.bandMaskPerLayer * bandWidthSum + oneLayer);
  }
  const c = coefficients.without;
  return n * (L * (c.hiddenPerLayer * H + c.ffnPerLayer * I) + c.bandPerLayer * heads * bandWidthSum + c.hiddenOutsideLayers * H);
}

/** Predicts the peak memory of one training step (see the file comment for the model and its calibration). */
export function estimateTrainingMemory(request: MemoryEstimateRequest): MemoryEstimate {
  const { config } = request;
  const sequenceLength = positiveInteger(request.sequenceLength, "sequenceLength");
  const batchSize = positiveInteger(request.batchSize, "batchSize");
  const accumulationSteps = positiveInteger(request.accumulationSteps ?? 2, "accumulationSteps");
  const globalTokens = positiveInteger(request.globalTokens ?? 1, "globalTokens");
  const backend = request.backend ?? "wasm";
  if (!["wasm", "cpu", "tensorflow"].includes(backend))
    throw new Error(`memory estimate: backend must be "wasm", "cpu" or "tensorflow", got ${JSON.stringify(backend)}`);
  const checkpointing = request.checkpointing === true;
  const window = config.maxWindow;
  const paddedLength = Math.ceil(sequenceLength / window) * window;
  const groups = parameterGroups(config);
  const parameters = groups.all;
  const F = 4; // float32
  const coefficients = coefficientsOf(backend);
  const weightsBytes = F * parameters;
  const weightCopiesBytes = F * coefficients.weightCopies * groups.linearWeights;
  const accumulatorBytes = accumulationSteps > 1 ? F * parameters : 0;
  const gradientBytes = checkpointing ? F * (parameters - groups.embeddingTables) : 0;
  const forwardWeightsBytes = checkpointing ? 0 : F * coefficients.without.weightsPerLayer * config.num_hidden_layers * config.hidden_size ** 2;
  const activationBytes = F * batchSize * activationElementsPerExample(config, paddedLength, checkpointing, globalTokens, coefficients);
  const forwardBackwardBytes = weightsBytes + weightCopiesBytes + accumulatorBytes + gradientBytes + forwardWeightsBytes + activationBytes;
  const clippingBytes = weightsBytes + weightCopiesBytes + 2 * F * parameters + (accumulationSteps > 1 ? F * groups.largest : 0);
  const momentsBytes = 2 * F * parameters;
  const optimizerBytes = backend === "wasm" ? 0 : momentsBytes;
  const overheadBytes = backend === "wasm" ? WASM_HEAP_BASE_BYTES : 0;
  const peakHeldBytes = Math.max(forwardBackwardBytes, clippingBytes);
  const fragmentationBytes = backend === "wasm" ? WASM_HEAP_FRAGMENTATION * peakHeldBytes : 0;
  return {
    totalBytes: peakHeldBytes + fragmentationBytes + optimizerBytes + overheadBytes,
    peakHeldBytes,
    fragmentationBytes,
    peakPhase: forwardBackwardBytes >= clippingBytes ? "forward-backward" : "gradient clipping",
    forwardBackwardBytes,
    clippingBytes,
    weightsBytes,
    weightCopiesBytes,
    gradientBytes,
    accumulatorBytes,
    optimizerBytes,
    hostOptimizerBytes: backend === "wasm" ? momentsBytes : 0,
    forwardWeightsBytes,
    activationBytes,
    overheadBytes,
    parameters,
    paddedLength,
    calibrated: isCalibratedBackend(backend),
  };
}
