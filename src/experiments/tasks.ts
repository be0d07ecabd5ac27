/**
 * Experiment tasks: named recipes that build data and a model from a JSON configuration, so that a worker
 * process can rebuild exactly the same run from its config.json. The grid runner only knows task names.
 */
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

interface Registration {
  load: () => ExperimentTask;
  /** The module whose loading registers the task: worker processes require it before looking the task up. */
  module?: string;
}

const registry = new Map<string, Registration>();

/** Where a task is registered: its name (required for a lazily loaded task) and the module that registers it. */
export interface TaskRegistrationOptions {
  name?: string;
  /** The registering module's file (`__filename`), so that worker processes register the task too. */
  module?: string;
}

/** Registers a task under its name; a task registered with its `module` runs in worker processes without `taskModules`. */
export function registerExperimentTask(task: ExperimentTask | (() => ExperimentTask), options: TaskRegistrationOptions = {}): void {
  const load = typeof task === "function" ? task : () => task;
  const key = options.name ?? (typeof task === "function" ? undefined : task.name);
  if (!key) throw new Error("registerExperimentTask: a lazily loaded task needs an explicit name");
  registry.set(key, { load, module: options.module });
}

/** The task registered as `name`; throws naming the registered ones otherwise. */
export function getExperimentTask(name: string): ExperimentTask {
  const registration = registry.get(name);
  if (!registration) throw new Error(`unknown experiment task "${name}"; registered tasks: ${[...registry.keys()].join(", ") || "(none)"}`);
  return registration.load();
}

/** The modules a worker process requires to run task `name`: the caller's `taskModules` and the one that registered it. */
export function workerTaskModules(name: string, taskModules: string[] = []): string[] {
  const module = registry.get(name)?.module;
  return module && !taskModules.includes(module) ? [...taskModules, module] : taskModules;
}

/** Names of the registered tasks. */
export function experimentTaskNames(): string[] {
  return [...registry.keys()];
}

registerExperimentTask(() => require("./syntheticTask").syntheticLogRegTask, { name: "synthetic-logreg" });

/** Reads option `key` of a task configuration, or `fallback` when absent; throws when it has the wrong type. */
export function taskOption<T extends number | string | boolean>(config: Record<string, JsonValue>, key: string, fallback: T): T {
  const value = config[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== typeof fallback) {
    throw new Error(`task option "${key}" must be a ${typeof fallback}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}
