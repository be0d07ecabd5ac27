/**
 * Experiment grids: a base configuration, optional explicit variants and axes, expanded into one run per
 * combination (variants x axes), each with a stable, readable id.
 */

import { DEFAULT_TRAINING_ARGUMENTS, type JsonTrainingArguments } from "../train";

/** A JSON value as it is stored in config.json. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Training arguments of one run: Trainer options (perDeviceBatchSize, learningRate, seed, ...) as JSON values. */
export type RunTraining = JsonTrainingArguments;

/** The values a grid tries for each training argument it varies. */
export type GridAxes = { [K in keyof RunTraining]?: NonNullable<RunTraining[K]>[] };

/** What a grid varies: the registered task, its configuration, and the training arguments per run. */
export interface GridSpec {
  /** Name of a registered experiment task (see `registerExperimentTask`). */
  task: string;
  /** Passed unchanged to the task's builder (data size, model size, ...). */
  taskConfig?: Record<string, JsonValue>;
  /** Training arguments shared by every run; variants and axes override them. */
  training: RunTraining;
  /** Explicit combinations, e.g. `[{perDeviceBatchSize: 8}, {perDeviceBatchSize: 1, gradientAccumulationSteps: 8}]`. */
  variants?: RunTraining[];
  /** Cartesian product over these training arguments, e.g. `{learningRate: [1e-4, 1e-5], seed: [0, 1]}`. */
  axes?: GridAxes;
}

/** One fully specified run of a grid. */
export interface RunSpec {
  /** Directory name of the run, derived from the values that differ between runs (e.g. `b8-a4-lr1e-4-s0`). */
  id: string;
  task: string;
  taskConfig: Record<string, JsonValue>;
  /** Complete training arguments, `seed` included. */
  training: RunTraining;
}

const SHORT_NAMES: Record<string, string> = {
  perDeviceBatchSize: "b",
  gradientAccumulationSteps: "a",
  learningRate: "lr",
  seed: "s",
};

// Not a display formatter: run ids name run folders, so this encoding must never change (resuming finds runs by id).
function idValue(value: JsonValue): string {
  if (typeof value === "number" && value !== 0 && Math.abs(value) < 1e-2) {
    return value.toExponential();
  }
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? String(value) : JSON.stringify(value);
}

function idPart(key: string, value: JsonValue): string {
  const raw = key in SHORT_NAMES ? `${SHORT_NAMES[key]}${idValue(value)}` : `${key}=${idValue(value)}`;
  return raw.replace(/[^A-Za-z0-9._=+-]/g, "_");
}

function defaultArgument(key: string): JsonValue {
  const value = (DEFAULT_TRAINING_ARGUMENTS as unknown as Record<string, unknown>)[key];
  return typeof value === "number" || typeof value === "string" || typeof value === "boolean" ? value : null;
}

function cartesian(axes: Record<string, JsonValue[]>): RunTraining[] {
  let combos: RunTraining[] = [{}];
  for (const [key, values] of Object.entries(axes)) {
    if (!Array.isArray(values) || values.length === 0) {
      throw new Error(`grid axis "${key}" must be a non-empty array of values, got ${JSON.stringify(values)}`);
    }
    combos = combos.flatMap((combo) => values.map((value) => ({ ...combo, [key]: value })));
  }
  return combos;
}

/** Expands a grid into its runs: every variant combined with every point of the axes, in a stable order. */
export function expandGrid(spec: GridSpec): RunSpec[] {
  if (typeof spec.task !== "string" || spec.task.length === 0) throw new Error(`grid.task must name a registered task, got ${JSON.stringify(spec.task)}`);
  if (spec.training === null || typeof spec.training !== "object") throw new Error(`grid.training must be an object of training arguments`);
  const variants = spec.variants && spec.variants.length > 0 ? spec.variants : [{}];
  const points = cartesian(spec.axes ?? {});
  const overrides = variants.flatMap((variant) => points.map((point) => ({ ...variant, ...point })));
  const varying = new Set(overrides.flatMap((o) => Object.keys(o)));
  const runs = overrides.map((override) => {
    const training: RunTraining = { seed: 0, ...spec.training, ...override };
    const given = new Map<string, JsonValue>(Object.entries(training));
    const keys = [...Object.keys(SHORT_NAMES), ...[...varying].filter((k) => !(k in SHORT_NAMES)).sort()];
    const parts = keys.filter((k) => varying.has(k) || k === "seed").map((k) => idPart(k, given.get(k) ?? defaultArgument(k)));
    return { id: parts.join("-"), task: spec.task, taskConfig: { ...(spec.taskConfig ?? {}) }, training };
  });
  const seen = new Map<string, number>();
  for (const run of runs) {
    const n = seen.get(run.id) ?? 0;
    seen.set(run.id, n + 1);
    if (n > 0) throw new Error(`grid has two identical runs "${run.id}"; remove the duplicate variant or axis value`);
  }
  return runs;
}
