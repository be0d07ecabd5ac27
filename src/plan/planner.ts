/** The Trainer's BatchSizePlanner for a Longformer classifier: "auto" batch sizes and the plan in the noise-scale advice. */
import * as tf from "@tensorflow/tfjs";
import type { LongformerConfig } from "../models/longformer";
import type { BatchSizePlanner } from "../train";
import { longformerParameterCount, type PlanBackend } from "./memory";
import { defaultMemoryBudget, parseMemorySize, planBatch, planSummary } from "./plan";

/** Options of {@link longformerBatchPlanner}. */
export interface LongformerBatchPlannerOptions {
  /** Devices the advice plans for (the Trainer itself trains on one). Default 1. */
  devices?: number;
  /** Default: the active tfjs backend. */
  backend?: PlanBackend;
  /** Default 0.1. */
  safetyMargin?: number;
}

function activeBackend(): PlanBackend {
  const name = tf.getBackend();
  return name === "cpu" || name === "tensorflow" ? name : "wasm";
}

/**
 * A planner for `config` at `sequenceLength` tokens. Without a memory budget it plans for what is left: on WASM
 * the 4 GiB heap minus the tensors alive now other than the model's weights; on cpu / tensorflow half the RAM.
 */
export function longformerBatchPlanner(config: LongformerConfig, sequenceLength: number, options: LongformerBatchPlannerOptions = {}): BatchSizePlanner {
  const backendOf = () => options.backend ?? activeBackend();
  const budget = (memoryBudget: number | string | undefined) => {
    if (typeof memoryBudget === "string") return parseMemorySize(memoryBudget, "TrainingArguments.memoryBudget");
    if (memoryBudget !== undefined) return memoryBudget;
    const heldByOthers = Math.max(0, tf.memory().numBytes - 4 * longformerParameterCount(config));
    return defaultMemoryBudget(backendOf(), heldByOthers);
  };
  const common = { config, sequenceLength, safetyMargin: options.safetyMargin };
  return {
    plan({ targetEffectiveBatch, memoryBudget, checkpointing }) {
      const plan = planBatch({ ...common, memoryBytes: budget(memoryBudget), targetEffectiveBatch, checkpointing, backend: backendOf(), exact: true });
      return {
        perDeviceBatchSize: plan.perDeviceBatchSize,
        gradientAccumulationSteps: plan.gradientAccumulationSteps,
        fits: plan.fits,
        predictedPeakBytes: plan.estimate.totalBytes,
        memoryBytes: plan.memoryBytes,
        explanation: plan.explanation,
      };
    },
    advise(noiseScale, checkpointing, memoryBudget) {
      return planSummary(
        planBatch({ ...common, memoryBytes: budget(memoryBudget), noiseScale, devices: options.devices, checkpointing, backend: backendOf() }),
      );
    },
  };
}
