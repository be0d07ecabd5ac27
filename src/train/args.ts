/**
 * Training arguments in the spirit of Hugging Face's TrainingArguments, with defaults and validation.
 * Every invalid value is rejected with a message naming the field, the value and what was expected.
 */
import { isPositiveInteger } from "../util";

/** Learning-rate schedules (after linear warmup), as Hugging Face defines them. */
export type LrScheduleName = "constant" | "linear" | "cosine";

/** How training progress is shown: terminal bar, notebook display, none, or chosen from the environment. */
export type ProgressMode = "auto" | "bar" | "notebook" | "none";

/** Everything that configures a training run. All fields have defaults except where noted. */
export interface TrainingArguments {
  /** Examples per micro-batch (one forward/backward pass). Default 8. */
  perDeviceBatchSize: number;
  /** Micro-batches per optimizer step; the effective batch is perDeviceBatchSize * this. Default 1. */
  gradientAccumulationSteps: number;
  /** Peak learning rate. Default 5e-5. */
  learningRate: number;
  /** Decoupled (AdamW) weight decay; variables matching `noDecayPattern` are excluded. Default 0. */
  weightDecay: number;
  /** Linear warmup length in optimizer steps (exclusive with warmupRatio). Default 0. */
  warmupSteps?: number;
  /** Linear warmup as a fraction of the total steps, rounded up (exclusive with warmupSteps). */
  warmupRatio?: number;
  /** Schedule after warmup. Default "linear". */
  lrSchedule: LrScheduleName;
  /** Global gradient-norm clipping threshold; 0 or Infinity disables clipping. Default 1. */
  maxGradNorm: number;
  /** Passes over the training data (ignored when maxSteps is set). Default 3. */
  epochs: number;
  /** Total optimizer steps; overrides epochs when set. */
  maxSteps?: number;
  /** Write a history record every this many optimizer steps. Default 10. */
  loggingSteps: number;
  /** Evaluate on the eval data every this many steps (needs evalData). */
  evalSteps?: number;
  /** Save a checkpoint every this many steps (needs outputDir), and at the end. */
  saveSteps?: number;
  /** Keep only the newest K checkpoints. */
  saveTotalLimit?: number;
  /** Seed of the data order and of the dropout seeds handed to the model. Default 42. */
  seed: number;
  /** Run directory for log.jsonl and checkpoints; nothing is written without it. */
  outputDir?: string;
  /** Checkpoint to resume from: a checkpoint directory, or "last" for outputDir/last-checkpoint. */
  resumeFrom?: string;
  /** Adam beta1. Default 0.9. */
  adamBeta1: number;
  /** Adam beta2. Default 0.999. */
  adamBeta2: number;
  /** Adam epsilon. Default 1e-8. */
  adamEpsilon: number;
  /** Variables whose name matches are not weight-decayed. Default: biases and LayerNorm parameters. */
  noDecayPattern: RegExp;
  /** Evaluation micro-batch size. Default perDeviceBatchSize. */
  evalBatchSize?: number;
  /** TensorBoard smoothing weight of the logged loss, in [0, 1]. Default 0.6. */
  smoothingWeight: number;
  /** Window (in optimizer steps) of the rolling loss std / coefficient of variation. Default 20. */
  fluctuationWindow: number;
  /** EMA decay of the gradient-noise-scale estimators, in [0, 1). Default 0.95. */
  noiseScaleEmaDecay: number;
  /** Progress display. Default "auto" (bar on a terminal, live display in a notebook). */
  progress: ProgressMode;
  /** With perDeviceBatchSize "auto" (see TrainerOptions.batchPlanner): examples per optimizer step to reach exactly. */
  targetEffectiveBatch?: number;
  /** With perDeviceBatchSize "auto": memory to plan for, bytes or "16GiB"; default: what is left of the 4 GiB WASM heap, or half the RAM on cpu. */
  memoryBudget?: number | string;
  /** Recompute activations in the backward pass instead of storing them (the model's gradientCheckpointingEnable); unset leaves the model as it is. */
  gradientCheckpointing?: boolean;
}

/** The defaults used for every field that is not given. */
export const DEFAULT_TRAINING_ARGUMENTS: Readonly<TrainingArguments> = {
  perDeviceBatchSize: 8,
  gradientAccumulationSteps: 1,
  learningRate: 5e-5,
  weightDecay: 0,
  lrSchedule: "linear",
  maxGradNorm: 1,
  epochs: 3,
  loggingSteps: 10,
  seed: 42,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  adamEpsilon: 1e-8,
  noDecayPattern: /bias|layer_?norm|gamma|beta/i,
  smoothingWeight: 0.6,
  fluctuationWindow: 20,
  noiseScaleEmaDecay: 0.95,
  progress: "auto",
};

const OPTIONAL_FIELDS: readonly string[] = [
  "warmupSteps",
  "warmupRatio",
  "maxSteps",
  "evalSteps",
  "saveSteps",
  "saveTotalLimit",
  "outputDir",
  "resumeFrom",
  "evalBatchSize",
  "gradientCheckpointing",
  "targetEffectiveBatch",
  "memoryBudget",
];

const SCHEDULES: readonly LrScheduleName[] = ["constant", "linear", "cosine"];
const PROGRESS_MODES: readonly ProgressMode[] = ["auto", "bar", "notebook", "none"];

function fail(field: string, value: unknown, expected: string): never {
  // String(), not JSON.stringify, for numbers: JSON writes Infinity as null.
  const shown = typeof value === "string" ? JSON.stringify(value) : String(value);
  throw new Error(`TrainingArguments.${field} must be ${expected}, got ${value !== value ? "NaN" : shown}`);
}

function positiveInteger(args: Record<string, unknown>, field: string): void {
  const v = args[field];
  if (v === undefined) return;
  if (!isPositiveInteger(v)) fail(field, v, "a positive integer");
}

function numberInRange(args: Record<string, unknown>, field: string, lo: number, hi: number, expected: string): void {
  const v = args[field];
  if (v === undefined) return;
  if (typeof v !== "number" || Number.isNaN(v) || v < lo || v > hi) fail(field, v, expected);
}

/** Fills defaults and validates; throws an Error naming the first invalid field. */
export function resolveTrainingArguments(partial: Partial<TrainingArguments> = {}): TrainingArguments {
  for (const key of Object.keys(partial)) {
    if (!(key in DEFAULT_TRAINING_ARGUMENTS) && !OPTIONAL_FIELDS.includes(key)) {
      throw new Error(`TrainingArguments: unknown field "${key}"`);
    }
  }
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const args = { ...DEFAULT_TRAINING_ARGUMENTS, ...defined };
  const record = args as unknown as Record<string, unknown>;
  for (const f of ["perDeviceBatchSize", "gradientAccumulationSteps", "epochs", "maxSteps", "loggingSteps"]) {
    positiveInteger(record, f);
  }
  for (const f of ["evalSteps", "saveSteps", "saveTotalLimit", "evalBatchSize", "fluctuationWindow", "targetEffectiveBatch"]) {
    positiveInteger(record, f);
  }
  numberInRange(record, "learningRate", 0, Number.MAX_VALUE, "a finite number >= 0");
  numberInRange(record, "weightDecay", 0, Number.MAX_VALUE, "a finite number >= 0");
  numberInRange(record, "maxGradNorm", 0, Infinity, "a number >= 0 (0 or Infinity disables clipping)");
  numberInRange(record, "warmupRatio", 0, 1, "a number in [0, 1]");
  numberInRange(record, "adamBeta1", 0, 1 - Number.EPSILON, "a number in [0, 1)");
  numberInRange(record, "adamBeta2", 0, 1 - Number.EPSILON, "a number in [0, 1)");
  numberInRange(record, "adamEpsilon", Number.MIN_VALUE, Number.MAX_VALUE, "a finite number > 0");
  numberInRange(record, "smoothingWeight", 0, 1, "a number in [0, 1]");
  numberInRange(record, "noiseScaleEmaDecay", 0, 1 - Number.EPSILON, "a number in [0, 1)");
  if (args.warmupSteps !== undefined && (!Number.isInteger(args.warmupSteps) || args.warmupSteps < 0)) {
    fail("warmupSteps", args.warmupSteps, "an integer >= 0");
  }
  if (args.warmupSteps !== undefined && args.warmupRatio !== undefined) {
    throw new Error("TrainingArguments: give warmupSteps or warmupRatio, not both");
  }
  if (!Number.isInteger(args.seed)) fail("seed", args.seed, "an integer");
  if (!SCHEDULES.includes(args.lrSchedule)) fail("lrSchedule", args.lrSchedule, `one of ${SCHEDULES.join(", ")}`);
  if (!PROGRESS_MODES.includes(args.progress)) fail("progress", args.progress, `one of ${PROGRESS_MODES.join(", ")}`);
  if (!(args.noDecayPattern instanceof RegExp)) fail("noDecayPattern", args.noDecayPattern, "a RegExp");
  for (const f of ["outputDir", "resumeFrom"] as const) {
    const v = args[f];
    if (v !== undefined && (typeof v !== "string" || v === "")) fail(f, v, "a non-empty path");
  }
  if (args.gradientCheckpointing !== undefined && typeof args.gradientCheckpointing !== "boolean") {
    fail("gradientCheckpointing", args.gradientCheckpointing, "true or false");
  }
  const budget = args.memoryBudget;
  if (budget !== undefined && !(typeof budget === "string" || (typeof budget === "number" && budget > 0 && Number.isFinite(budget)))) {
    fail("memoryBudget", budget, 'a number of bytes > 0 or a size such as "16GiB"');
  }
  if (args.resumeFrom === "last" && args.outputDir === undefined) {
    throw new Error('TrainingArguments.resumeFrom "last" needs outputDir');
  }
  return args;
}
