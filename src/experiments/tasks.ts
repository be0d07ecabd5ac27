/**
 * Experiment tasks: named recipes that build data and a model from a JSON configuration, so that a worker
 * process can rebuild exactly the same run from its config.json. The grid runner only knows task names. This
 * module is the registry; what a task is lives in ./experimentTask.ts (which the built-in tasks import).
 */
import type { ExperimentTask } from "./experimentTask";

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

registerExperimentTask(() => (require("./syntheticTask") as typeof import("./syntheticTask")).syntheticLogRegTask, { name: "synthetic-logreg" });
