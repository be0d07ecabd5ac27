/** What an experiment task is: the recipe a worker process follows to rebuild a run's model and data from JSON. */
import type { BatchSizePlanner, TrainableModel, TrainingData } from "../train";
import type { JsonValue } from "./grid";

/** What a task builds for one run: a model and its data splits. */
export interface ExperimentSetup<B = unknown> {
  model: TrainableModel<B>;
  train: TrainingData<B>;
  dev?: TrainingData<B>;
  test?: TrainingData<B>;
  /** Chooses the micro-batch when the run's perDeviceBatchSize is "auto" (src/plan's longformerBatchPlanner). */
  batchPlanner?: BatchSizePlanner;
  /** Tokens in a batch of examples (for tokens/s); defaults to one per example. */
  tokensIn?(indices: number[]): number;
  /** Frees the model's and data's tensors. */
  dispose(): void;
}

/** Where a task may cache expensive artefacts (a trained tokenizer) shared by runs and grids. */
export interface TaskContext {
  /** A folder shared by all runs of all grids in one runs directory. */
  cacheDir: string;
  /** The run's seed: tasks seed the model's initialisation with it. */
  seed: number;
}

/** A registered experiment task. */
export interface ExperimentTask {
  name: string;
  description: string;
  /** Builds the model and data splits described by `config`. */
  build(config: Record<string, JsonValue>, context: TaskContext): Promise<ExperimentSetup<unknown>>;
  /** Runs once in the grid's own process before any worker starts (e.g. trains and caches a tokenizer). */
  prepare?(config: Record<string, JsonValue>, context: { cacheDir: string; log: (line: string) => void }): Promise<void>;
}

/** Reads option `key` of a task configuration, or `fallback` when absent; throws when it has the wrong type. */
export function taskOption<T extends number | string | boolean>(config: Record<string, JsonValue>, key: string, fallback: T): T {
  const value = config[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== typeof fallback) {
    throw new Error(`task option "${key}" must be a ${typeof fallback}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}
