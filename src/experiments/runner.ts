/**
 * Runs a grid: finished runs (complete metrics.json) are skipped; a run that was killed half-way resumes from its
 * checkpoint. One process at a time runs a grid folder: it holds the folder's advisory lock (released when it ends,
 * however it ends). The unfinished runs go to a `TrialExecutor` (src/experiments/executor.ts): by default forked
 * worker processes on this machine, at most `workers` at a time (WASM computes on one thread, so processes give the
 * parallelism); src/queue's `queueExecutor` runs them as trials on Redis, trained by `tsml worker`s on any machine.
 */
import * as fs from "fs";
import * as path from "path";
import type { DataFrame } from "danfojs-node";
import { ensureWritableFolder, requirePathComponent, writeJsonAtomic } from "../io";
import { acquireFolderLock } from "../supervision";
import { localExecutor, type TrialExecutor } from "./executor";
import { expandGrid, GridSpec, RunSpec } from "./grid";
import { collectProvenance } from "./provenance";
import { readGridResults, resultsDataFrame, type RunResult } from "./results";
import type { RunControl, RunOutcome } from "./runProcess";
import { getExperimentTask, workerTaskModules } from "./tasks";
import { RunEvent, RunJob, isRunFinished, RUN_FILES } from "./trial";

/** Options of `runGrid`. */
export interface GridRunOptions {
  /** Parent folder of all grids, e.g. `runs`. */
  runsDir: string;
  /** The grid's folder name inside `runsDir`. */
  name: string;
  /** Parallel worker processes of the default local executor; defaults to the number of cores. */
  workers?: number;
  /** Called with every event a worker reports. */
  onEvent?: (event: RunEvent, control: RunControl) => void;
  /** Extra environment for the workers (e.g. TSML_BACKEND). */
  env?: Record<string, string>;
  /** Recorded as the command that produced the grid; defaults to this process's argv. */
  commandLine?: string[];
  /** Modules a worker requires before building the task, so tasks registered outside tsml can run. */
  taskModules?: string[];
  /** Receives one-line messages of the task's preparation (and of the queue). */
  log?: (line: string) => void;
  /**
   * Where the trials run: default `localExecutor(workers)`; e.g. `queueExecutor(url)` (tsml/queue) for `tsml worker`s
   * on any machine that mounts `runsDir` (`workers` is then unused).
   */
  executor?: TrialExecutor;
}

/** The outcome of `runGrid`: where it ran, what happened to every run, and the finished runs' results. */
export interface GridRunSummary {
  gridDir: string;
  runs: RunOutcome[];
  wallTimeSeconds: number;
  /** One row per finished run (this invocation's and earlier ones'), in grid order. */
  results: RunResult[];
  /** The same results as a danfojs-node DataFrame with `RESULT_COLUMNS`. */
  frame: DataFrame;
}

function checkRunDir(run: RunSpec, runDir: string): void {
  const file = path.join(runDir, RUN_FILES.config);
  if (!fs.existsSync(file)) return;
  let saved: { run?: RunSpec };
  try {
    saved = JSON.parse(fs.readFileSync(file, "utf8")) as { run?: RunSpec };
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message}); delete ${runDir} to run it again`);
  }
  if (JSON.stringify(saved.run) !== JSON.stringify(run)) {
    throw new Error(`${file} describes a different run than the grid asks for; use another --name or delete ${runDir}`);
  }
}

/** Expands `spec`, runs every unfinished run with the executor (default: local worker processes) and reports what happened. */
export async function runGrid(spec: GridSpec, options: GridRunOptions): Promise<GridRunSummary> {
  const started = Date.now();
  const runs = expandGrid(spec);
  const executor = options.executor ?? localExecutor(options.workers);
  // An executor that cannot run trials (an unreachable queue) is reported within seconds, before any preparation.
  await executor.check?.();
  // The command line is recorded (lock, grid.json, configs, reports): never with a secret such as a queue's password.
  const argv = options.commandLine ?? process.argv;
  const commandLine = executor.recordedCommandLine?.(argv) ?? argv;
  options = { ...options, commandLine };
  requirePathComponent(options.name, "grid name");
  ensureWritableFolder(options.runsDir, "runs folder");
  const gridDir = ensureWritableFolder(path.resolve(options.runsDir, options.name), "grid folder");
  const lock = acquireFolderLock(gridDir, { purpose: `grid ${options.name}: ${commandLine.join(" ")}` });
  try {
    return await runLockedGrid(spec, runs, executor, gridDir, options, started);
  } finally {
    lock.release();
  }
}

async function runLockedGrid(
  spec: GridSpec,
  runs: RunSpec[],
  executor: TrialExecutor,
  gridDir: string,
  options: GridRunOptions,
  started: number,
): Promise<GridRunSummary> {
  for (const run of runs) checkRunDir(run, path.join(gridDir, requirePathComponent(run.id, "run id")));
  const provenance = collectProvenance(undefined, options.commandLine);
  writeJsonAtomic(path.join(gridDir, "grid.json"), { spec, runs: runs.map((r) => r.id), provenance });

  const outcomes = new Array<RunOutcome>(runs.length);
  const pending: number[] = [];
  runs.forEach((run, i) => {
    const runDir = path.join(gridDir, run.id);
    if (isRunFinished(runDir)) outcomes[i] = { id: run.id, status: "skipped", runDir };
    else pending.push(i);
  });
  const taskModules = workerTaskModules(spec.task, options.taskModules);
  for (const module of taskModules) require(module);
  const task = getExperimentTask(spec.task);
  const cacheDir = path.resolve(options.runsDir, ".cache");
  if (pending.length > 0 && task.prepare) await task.prepare(spec.taskConfig ?? {}, { cacheDir, log: options.log ?? (() => {}) });
  const jobOf = (i: number): RunJob => ({ run: runs[i], runDir: path.join(gridDir, runs[i].id), provenance, taskModules, cacheDir });
  const jobs = pending.map(jobOf);
  const executed = await executor.run(jobs, { runsDir: path.resolve(options.runsDir), env: options.env, onEvent: options.onEvent, log: options.log });
  if (executed.length !== jobs.length) throw new Error(`the trial executor reported ${executed.length} outcomes for ${jobs.length} runs`);
  executed.forEach((outcome, k) => (outcomes[pending[k]] = outcome));
  const results = readGridResults(gridDir);
  return { gridDir, runs: outcomes, wallTimeSeconds: (Date.now() - started) / 1000, results, frame: resultsDataFrame(results) };
}
