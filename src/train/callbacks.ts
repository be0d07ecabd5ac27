/** Hooks into the training loop, and early stopping built on them. */
import { requirePositiveInteger } from "../util";
import type { EvaluationResult } from "./evaluate";
import type { TrainingLogRecord } from "./history";

/** Lets a callback end training after the current step. */
export interface TrainerControl {
  /** Ends training after this step, recording `reason` in the result. */
  stop(reason: string): void;
}

/** What is known right after an optimizer step. */
export interface StepEndInfo {
  step: number;
  /** The step training ends at (unless stopped). */
  totalSteps: number;
  epoch: number;
  loss: number;
  learningRate: number;
  gradNorm: number;
  noiseScale: number | undefined;
  /** Items in this step's effective batch. */
  items: number;
  examplesSeen: number;
}

/** Optional hooks; each may return a Promise, which the Trainer awaits. */
export interface TrainerCallback {
  /** After every optimizer step. */
  onStepEnd?(info: StepEndInfo, control: TrainerControl): void | Promise<void>;
  /** After every evaluation on the eval data. */
  onEvalEnd?(result: EvaluationResult, step: number, control: TrainerControl): void | Promise<void>;
  /** After every history record (live charts: update a DisplayHandle here). */
  onLog?(record: TrainingLogRecord, history: readonly TrainingLogRecord[]): void | Promise<void>;
  /** Once, when `train()` ends normally or by a stop (live charts: draw the final state here). */
  onTrainEnd?(history: readonly TrainingLogRecord[]): void | Promise<void>;
}

/** Options of `earlyStopping`. */
export interface EarlyStoppingOptions {
  /** A scalar field of the evaluation: "loss", "accuracy", "f1", "macroF1", ... */
  metric: keyof EvaluationResult;
  /** Evaluations without improvement tolerated before stopping. */
  patience: number;
  /** "min" for losses, "max" for scores. Default: "min" for "loss", else "max". */
  mode?: "min" | "max";
  /** Smallest change that counts as an improvement. Default 0. */
  minDelta?: number;
}

/** Stops training when `metric` has not improved for `patience` evaluations. */
export function earlyStopping(options: EarlyStoppingOptions): TrainerCallback {
  const { metric, patience, minDelta = 0 } = options;
  requirePositiveInteger(patience, "earlyStopping: patience");
  const mode = options.mode ?? (metric === "loss" ? "min" : "max");
  let best: number | undefined;
  let waited = 0;
  return {
    onEvalEnd(result, step, control) {
      const value = result[metric];
      if (typeof value !== "number") throw new Error(`earlyStopping: evaluation metric "${String(metric)}" is not a number`);
      const improved = best === undefined || (mode === "min" ? value < best - minDelta : value > best + minDelta);
      if (improved) {
        best = value;
        waited = 0;
      } else if (++waited >= patience) {
        control.stop(`early stopping at step ${step}: eval ${String(metric)} did not improve on ${best} for ${patience} evaluations`);
      }
    },
  };
}
