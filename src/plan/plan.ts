/**
 * The batch planner: the largest per-device micro-batch that fits a memory budget (predicted, never found by
 * trial: an out-of-memory on WASM is fatal), and the gradient accumulation that reaches a target effective batch
 * (for example the gradient noise scale the Trainer measured).
 */
import * as os from "os";
import type { LongformerConfig } from "../models/longformer";
import { memoryPlanChart, type MemoryPlanPoint, type VegaLiteChart } from "../plots";
import { estimateTrainingMemory, WASM_HEAP_FRAGMENTATION, WASM_HEAP_LIMIT_BYTES, type MemoryEstimate, type PlanBackend } from "./memory";

/** What to plan for. Give `targetEffectiveBatch` or `noiseScale` (the target is then the rounded noise scale). */
export interface BatchPlanRequest {
  config: LongformerConfig;
  /** Tokens per example (the longest sequence trained on). */
  sequenceLength: number;
  /** Memory per device in bytes. Default: `defaultMemoryBudget(backend)`. */
  memoryBytes?: number;
  /** Examples per optimizer step over all devices. */
  targetEffectiveBatch?: number;
  /** Gradient noise scale B_noise in examples: the target effective batch when targetEffectiveBatch is not given. */
  noiseScale?: number;
  /** Data-parallel devices. Default 1. */
  devices?: number;
  /** Gradient checkpointing on. Default false. */
  checkpointing?: boolean;
  /** Default "wasm". */
  backend?: PlanBackend;
  /** Fraction of the budget kept free for what the model does not predict. Default 0.1. */
  safetyMargin?: number;
  /** Only per-device batches that make b · k · devices equal the target exactly (the Trainer's "auto"). Default false. */
  exact?: boolean;
  /** Tokens with global attention per example. Default 1. */
  globalTokens?: number;
}

/** The plan: what to use and why. */
export interface BatchPlan {
  /** Examples per device per micro-batch (at least 1; check `fits`). */
  perDeviceBatchSize: number;
  /** Micro-batches per optimizer step. */
  gradientAccumulationSteps: number;
  /** perDeviceBatchSize · gradientAccumulationSteps · devices. */
  effectiveBatchSize: number;
  /** The effective batch asked for (undefined when neither a target nor a noise scale was given). */
  targetEffectiveBatch: number | undefined;
  devices: number;
  /** Whether even the chosen batch fits the budget (false: not even one example fits). */
  fits: boolean;
  /** The largest per-device batch that fits (before matching the target). */
  largestFittingBatch: number;
  memoryBytes: number;
  /** memoryBytes · (1 − safetyMargin): what the prediction must stay under. */
  usableBytes: number;
  /** Predicted peak of one training step with the chosen batch. */
  estimate: MemoryEstimate;
  checkpointing: boolean;
  backend: PlanBackend;
  sequenceLength: number;
  /** One paragraph a notebook can display. */
  explanation: string;
  /** Predicted memory for batches 1..N, with and without checkpointing (what the chart draws). */
  curve: MemoryPlanPoint[];
}

/** Fraction of the machine's RAM the cpu and tensorflow backends budget by default. */
export const DEFAULT_RAM_FRACTION = 0.5;

/**
 * The memory a device offers by default: on WASM the 4 GiB heap minus what tensors already hold (`heldBytes`,
 * e.g. tf.memory().numBytes without the model's own weights); on cpu / tensorflow half of os.totalmem().
 */
export function defaultMemoryBudget(backend: PlanBackend, heldBytes = 0): number {
  return backend === "wasm" ? WASM_HEAP_LIMIT_BYTES - heldBytes : Math.floor(DEFAULT_RAM_FRACTION * os.totalmem());
}

const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4 };

/** Parses "16GiB", "500MB", "2.5 GB", "1024" (bytes); throws naming `what` and the value otherwise. */
export function parseMemorySize(text: string, what = "memory size"): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(text);
  const bytes = match ? Number(match[1]) * UNITS[(match[2] ?? "b").toLowerCase()] : NaN;
  if (!(bytes >= 1) || !Number.isFinite(bytes)) {
    throw new Error(
      `${what}: ${JSON.stringify(text)} is not a memory size; expected a positive number with a unit such as 16GiB, 500MB or 2.5GB (KB/MB/GB/TB = powers of 1000, KiB/MiB/GiB/TiB = powers of 1024)`,
    );
  }
  return Math.floor(bytes);
}

/** Bytes as "1.23 GiB" / "456 MiB" / "789 KiB". */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value.toFixed(0) : value.toPrecision(3)} ${units[unit]}`;
}

function positive(value: unknown, field: string, integer: boolean): number {
  const ok = typeof value === "number" && Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value));
  if (!ok) throw new Error(`planBatch: ${field} must be a positive ${integer ? "integer" : "number"}, got ${JSON.stringify(value)}`);
  return value;
}

/** Largest micro-batch the search considers. */
const MAX_BATCH = 4096;

/** Plans the per-device batch and accumulation (see BatchPlanRequest); never throws for "does not fit": check `fits`. */
export function planBatch(request: BatchPlanRequest): BatchPlan {
  const backend = request.backend ?? "wasm";
  const devices = positive(request.devices ?? 1, "devices", true);
  const sequenceLength = positive(request.sequenceLength, "sequenceLength", true);
  // Position ids start after pad_token_id (as in Hugging Face's Longformer), so this many tokens fit.
  const { max_position_embeddings: positions, pad_token_id: pad } = request.config;
  const longest = positions - pad - 1;
  if (sequenceLength > longest) {
    throw new Error(
      `planBatch: a sequence length of ${sequenceLength} tokens (--max-length) is more than the model takes: max_position_embeddings ${positions} leaves ${longest} token positions after pad_token_id ${pad}`,
    );
  }
  const memoryBytes = positive(request.memoryBytes ?? defaultMemoryBudget(backend), "memoryBytes", false);
  const margin = request.safetyMargin ?? 0.1;
  if (typeof margin !== "number" || !(margin >= 0 && margin < 1)) throw new Error(`planBatch: safetyMargin must be in [0, 1), got ${JSON.stringify(margin)}`);
  if (request.targetEffectiveBatch !== undefined) positive(request.targetEffectiveBatch, "targetEffectiveBatch", true);
  if (request.targetEffectiveBatch !== undefined && request.targetEffectiveBatch < devices) {
    throw new Error(
      `planBatch: a target effective batch of ${request.targetEffectiveBatch} (--target-batch) is smaller than the ${devices} devices; every device trains on at least one example per step, so the effective batch is at least ${devices}`,
    );
  }
  if (request.noiseScale !== undefined) positive(request.noiseScale, "noiseScale", false);
  const target = request.targetEffectiveBatch ?? (request.noiseScale !== undefined ? Math.max(1, Math.round(request.noiseScale)) : undefined);
  const checkpointing = request.checkpointing === true;
  const usableBytes = memoryBytes * (1 - margin);
  const accumulationFor = (b: number) => (target === undefined ? 1 : Math.max(1, Math.round(target / (b * devices))));
  const estimateFor = (b: number, ckpt = checkpointing) =>
    estimateTrainingMemory({
      config: request.config,
      sequenceLength,
      batchSize: b,
      accumulationSteps: accumulationFor(b),
      checkpointing: ckpt,
      backend,
      globalTokens: request.globalTokens,
    });
  const cap = target === undefined ? MAX_BATCH : Math.max(1, Math.ceil(target / devices));
  let largest = 0;
  while (largest < cap && estimateFor(largest + 1).totalBytes <= usableBytes) largest++;
  let chosen = Math.max(1, largest);
  if (request.exact && target !== undefined && largest > 0) {
    if (target % devices !== 0) throw new Error(`planBatch: an exact effective batch of ${target} cannot be split over ${devices} devices`);
    while (chosen > 1 && (target / devices) % chosen !== 0) chosen--;
  }
  const gradientAccumulationSteps = request.exact && target !== undefined ? Math.max(1, Math.ceil(target / (chosen * devices))) : accumulationFor(chosen);
  const estimate = estimateFor(chosen);
  const plan: Omit<BatchPlan, "explanation" | "curve"> = {
    perDeviceBatchSize: chosen,
    gradientAccumulationSteps,
    effectiveBatchSize: chosen * gradientAccumulationSteps * devices,
    targetEffectiveBatch: target,
    devices,
    fits: largest > 0,
    largestFittingBatch: largest,
    memoryBytes,
    usableBytes,
    estimate,
    checkpointing,
    backend,
    sequenceLength,
  };
  const shown = Math.max(8, 2 * Math.max(chosen, 1));
  const curve: MemoryPlanPoint[] = [];
  for (const ckpt of [false, true]) {
    for (let b = 1; b <= shown; b++) curve.push({ batchSize: b, bytes: estimateFor(b, ckpt).totalBytes, checkpointing: ckpt });
  }
  return { ...plan, explanation: explainPlan(plan, request.config, margin), curve };
}

/** The plan's chart: predicted peak memory vs per-device batch, the budget, and the chosen batch. */
export function batchPlanChart(plan: BatchPlan): VegaLiteChart {
  return memoryPlanChart(plan.curve, {
    memoryBytes: plan.memoryBytes,
    usableBytes: plan.usableBytes,
    chosenBatchSize: plan.fits ? plan.perDeviceBatchSize : undefined,
    checkpointing: plan.checkpointing,
    subtitle: `${plan.sequenceLength} tokens, ${plan.backend} backend; chosen: ${plan.perDeviceBatchSize} per device x ${plan.gradientAccumulationSteps} accumulation x ${plan.devices} devices`,
  });
}

function explainPlan(plan: Omit<BatchPlan, "explanation" | "curve">, config: LongformerConfig, margin: number): string {
  const e = plan.estimate;
  const perExample = e.activationBytes / plan.perDeviceBatchSize;
  const model = `Longformer with ${config.num_hidden_layers} layers, hidden ${config.hidden_size}, window ${config.maxWindow} (${(e.parameters / 1e6).toPrecision(3)}M parameters)`;
  const where = plan.backend === "wasm" ? "the WASM heap" : plan.backend === "cpu" ? "RAM" : "device memory";
  const parts = [
    "weights",
    e.weightCopiesBytes ? "their packed copies" : "",
    e.gradientBytes ? "gradients" : "",
    e.accumulatorBytes ? "the accumulated gradient" : "",
    e.forwardWeightsBytes ? "scaled query weights" : "",
  ].filter((p) => p);
  const listed = parts.length > 1 ? `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}` : parts[0];
  const fixed = e.forwardBackwardBytes - e.activationBytes;
  const extras = [
    e.optimizerBytes ? `AdamW's moments (${formatBytes(e.optimizerBytes)})` : "",
    e.fragmentationBytes
      ? `the heap's fragmentation (${formatBytes(e.fragmentationBytes)}, ${Math.round(WASM_HEAP_FRAGMENTATION * 100)}% of what is in use)`
      : "",
    e.overheadBytes ? `the heap's base (${formatBytes(e.overheadBytes)})` : "",
  ].filter((p) => p);
  const host = e.hostOptimizerBytes ? ` AdamW's ${formatBytes(e.hostOptimizerBytes)} of moments live outside the heap.` : "";
  const phase =
    e.peakPhase === "gradient clipping"
      ? ` At this batch the peak is the gradient clipping after the last micro-batch (${formatBytes(e.clippingBytes)}: weights and two gradient-sized sets), not the activations.`
      : "";
  const lines = [
    `${model} at ${plan.sequenceLength} tokens (padded to ${e.paddedLength}) on the ${plan.backend} backend${plan.checkpointing ? " with gradient checkpointing" : ""}: ` +
      `one example needs about ${formatBytes(perExample)} of activations and their gradients, on top of ${formatBytes(fixed)} for ${listed}` +
      `${extras.length ? `, plus ${extras.join(" and ")}` : ""}.${host}${phase}`,
  ];
  const budget = `${formatBytes(plan.memoryBytes)} of ${where} per device, keeping ${Math.round(margin * 100)}% free`;
  if (!plan.fits) {
    lines.push(
      `With ${budget}, not even one example fits (predicted ${formatBytes(e.totalBytes)} for batch 1): ` +
        (plan.checkpointing
          ? "shorten the sequences or use a device with more memory."
          : "turn on gradient checkpointing, shorten the sequences or use a device with more memory."),
    );
  } else {
    lines.push(
      `With ${budget}, a device fits ${plan.largestFittingBatch} example${plan.largestFittingBatch === 1 ? "" : "s"} per micro-batch (predicted peak ${formatBytes(e.totalBytes)} at batch ${plan.perDeviceBatchSize}).`,
    );
  }
  if (plan.fits && plan.targetEffectiveBatch !== undefined) {
    lines.push(
      `To reach an effective batch of ${plan.targetEffectiveBatch}, use per-device batch ${plan.perDeviceBatchSize} with gradient accumulation ${plan.gradientAccumulationSteps} on ${plan.devices} device${plan.devices === 1 ? "" : "s"}: ` +
        `${plan.perDeviceBatchSize} x ${plan.gradientAccumulationSteps} x ${plan.devices} = ${plan.effectiveBatchSize} examples per optimizer step.`,
    );
  }
  lines.push(
    e.calibrated
      ? `The prediction is tsml's memory model, calibrated on measured training steps of the ${plan.backend} backend to within 15% (bench/planner/calibration-${plan.backend}.md).`
      : `CAUTION: the ${plan.backend} backend's memory was never measured (tfjs-node could not be installed where tsml was calibrated); this reuses the cpu backend's model and may be far off.`,
  );
  return lines.join(" ");
}

/** The short form the Trainer's advice ends with: "at 4096 tokens your device fits 2; use accumulation 6 on 8 devices". */
export function planSummary(plan: BatchPlan): string {
  if (!plan.fits) return `at ${plan.sequenceLength} tokens not even one example fits your device's ${formatBytes(plan.memoryBytes)}`;
  const devices = `${plan.devices} device${plan.devices === 1 ? "" : "s"}`;
  return `at ${plan.sequenceLength} tokens your device fits ${plan.largestFittingBatch}; use batch ${plan.perDeviceBatchSize} with accumulation ${plan.gradientAccumulationSteps} on ${devices}`;
}
