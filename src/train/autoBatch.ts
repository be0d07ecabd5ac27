/**
 * `perDeviceBatchSize: "auto"`: before the first step the Trainer asks a BatchSizePlanner (src/plan's
 * longformerBatchPlanner predicts the model's memory) for the largest micro-batch that fits and the accumulation
 * that makes the effective batch exactly `targetEffectiveBatch`. A resumed run reuses the recorded choice.
 */
import * as fs from "fs";
import * as path from "path";
import { writeJsonAtomic } from "../io";
import type { TrainingArguments } from "./args";
import { isPositiveInteger } from "../util";

/** What a planner chose for "auto". */
export interface BatchSizeChoice {
  perDeviceBatchSize: number;
  gradientAccumulationSteps: number;
  /** False when not even one example fits the budget (the Trainer then refuses to start). */
  fits: boolean;
  predictedPeakBytes: number;
  memoryBytes: number;
  /** One paragraph saying why. */
  explanation: string;
}

/** Chooses the micro-batch for "auto" and adds the batch plan to the noise-scale advice. */
export interface BatchSizePlanner {
  /** The plan for an exact effective batch (`memoryBudget`: bytes or a string like "16GiB"; default: the backend's). */
  plan(request: { targetEffectiveBatch: number; memoryBudget?: number | string; checkpointing: boolean }): BatchSizeChoice;
  /** The plan for a measured noise scale in words: "at 4096 tokens your device fits 2; use ... accumulation 6 on 8 devices". */
  advise(noiseScale: number, checkpointing: boolean, memoryBudget?: number | string): string;
}

/** TrainingArguments as given: perDeviceBatchSize may be "auto". */
export type TrainingArgumentsInput = Omit<Partial<TrainingArguments>, "perDeviceBatchSize"> & { perDeviceBatchSize?: number | "auto" };

/** Training arguments as a run's config.json holds them (JSON values only): no RegExp, no folders of the run's own. */
export type JsonTrainingArguments = Omit<TrainingArgumentsInput, "noDecayPattern" | "outputDir" | "resumeFrom">;

/** File in outputDir recording the "auto" choice (read back on resume). */
export const BATCH_PLAN_FILE = "batch-plan.json";

/** Replaces "auto" by the planner's numbers; returns plain arguments and the choice (undefined without "auto"). */
export function resolveAutoBatch(
  input: TrainingArgumentsInput,
  planner: BatchSizePlanner | undefined,
): { args: Partial<TrainingArguments>; choice?: BatchSizeChoice } {
  const { perDeviceBatchSize, ...rest } = input;
  if (perDeviceBatchSize !== "auto") {
    if (input.targetEffectiveBatch !== undefined) throw new Error('TrainingArguments.targetEffectiveBatch is used only with perDeviceBatchSize "auto"');
    return { args: { ...rest, perDeviceBatchSize } };
  }
  const target = input.targetEffectiveBatch;
  if (!isPositiveInteger(target)) {
    throw new Error(
      `TrainingArguments.perDeviceBatchSize "auto" needs targetEffectiveBatch, a positive integer (examples per optimizer step), got ${JSON.stringify(target)}`,
    );
  }
  if (input.gradientAccumulationSteps !== undefined)
    throw new Error('TrainingArguments: with perDeviceBatchSize "auto" the Trainer chooses gradientAccumulationSteps; do not give it');
  if (!planner)
    throw new Error(
      'TrainingArguments.perDeviceBatchSize "auto" needs a batchPlanner in the Trainer options (src/plan: longformerBatchPlanner(config, sequenceLength))',
    );
  const recorded = input.resumeFrom && input.outputDir ? path.join(input.outputDir, BATCH_PLAN_FILE) : undefined;
  let choice: BatchSizeChoice;
  if (recorded && fs.existsSync(recorded)) {
    choice = JSON.parse(fs.readFileSync(recorded, "utf8")) as BatchSizeChoice;
    if (!(Number.isInteger(choice.perDeviceBatchSize) && Number.isInteger(choice.gradientAccumulationSteps)))
      throw new Error(`${recorded}: perDeviceBatchSize and gradientAccumulationSteps must be integers`);
  } else {
    choice = planner.plan({ targetEffectiveBatch: target, memoryBudget: input.memoryBudget, checkpointing: input.gradientCheckpointing === true });
    if (!choice.fits) throw new Error(`TrainingArguments.perDeviceBatchSize "auto": ${choice.explanation}`);
    if (input.outputDir) {
      fs.mkdirSync(input.outputDir, { recursive: true });
      writeJsonAtomic(path.join(input.outputDir, BATCH_PLAN_FILE), choice);
    }
  }
  return { args: { ...rest, perDeviceBatchSize: choice.perDeviceBatchSize, gradientAccumulationSteps: choice.gradientAccumulationSteps }, choice };
}
