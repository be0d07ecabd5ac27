/** Public surface of src/train: the Trainer, its arguments, optimizer, metrics and helpers. */
export * from "./adapters";
export * from "./args";
export * from "./callbacks";
export * from "./contract";
export * from "./metrics";
export * from "./noiseScale";
export * from "./smoothing";
export * from "./trainer";
export { AdamW, defaultMomentStorage, type AdamWConfig, type AdamWMomentStorage, type AdamWState } from "./adamw";
export {
  BATCH_PLAN_FILE,
  resolveAutoBatch,
  type BatchSizeChoice,
  type BatchSizePlanner,
  type JsonTrainingArguments,
  type TrainingArgumentsInput,
} from "./autoBatch";
export { accumulateGradients, type AccumulatedGradients } from "./accumulate";
export { clipByGlobalNorm, globalNorm } from "./clip";
export {
  listCheckpoints,
  loadCheckpoint,
  readLastCheckpoint,
  removeAbandonedCheckpointWrites,
  saveCheckpoint,
  resolveCheckpointDir,
  LAST_CHECKPOINT_FILE,
  type CheckpointExpectations,
  type TrainerState,
} from "./checkpoint";
export { evaluateClassifier, type EvaluationResult } from "./evaluate";
export { historyToFrame, TrainingHistory, type TrainingLogRecord } from "./history";
export { createProgressReporter, formatProgressLine, type ProgressInfo, type ProgressReporter } from "./progress";
export { shuffledSampler, sequentialSampler } from "./sampler";
export { lrMultiplier, warmupStepsFor } from "./schedule";
export { frugalGradients, frugalVariableGrads } from "./gradients";
export { tensorBoardCallback, tensorBoardScalars } from "./tensorboard";
