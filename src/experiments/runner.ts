/**
 * Runs a grid: one forked worker process per run (WASM computes on one thread, so processes give the
 * parallelism), at most `workers` at a time. Finished runs (complete metrics.json) are skipped; a run that was
 * killed half-way resumes from its checkpoint. One process at a time runs a grid folder: it holds the folder's
 * advisory lock (released when it ends, however it ends), and its workers end with it. With `queue`, the runs are
 * trials on a Redis queue instead, trained by `tsml worker`s on any machine (src/queue).
 */
import { fork } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { DataFrame } from "danfojs-node";
import { coreCount } from "../backend";
import { createFolder, ensureWritableFolder, requirePathComponent, writeJsonAtomic } from "../io";
import { acquireFolderLock } from "../supervision";
import { expandGrid, GridSpec, RunSpec } from "./grid";
import { GRID_PID_VARIABLE } from "./gridPid";
import { collectProvenance } from "./provenance";
import { readGridResults, resultsDataFrame, type RunResult } from "./results";
import { getExperimentTask, workerTaskModules } from "./tasks";
import { RunEvent, RunJob, isRunFinished, RUN_FILES } from "./trial";
import { requirePositiveInteger } from "../util";

/** What happened to one run of a grid in this invocation. */
export interface RunOutcome {
  id: string;
  status: "finished" | "skipped" | "failed";
  /** Why the run failed (worker error, exit code or signal); see the run's worker.log. */
  error?: string;
  runDir: string;
}

/** Lets an event handler stop the worker of the run that sent the event (e.g. to test resuming). */
export interface RunControl {
  /** Sends SIGKILL to the run's worker process (on a queue: the `tsml worker` running it, when on this machine). */
  kill(): void;
}

/** Options of `runGrid`. */
export interface GridRunOptions {
  /** Parent folder of all grids, e.g. `runs`. */
  runsDir: string;
  /** The grid's folder name inside `runsDir`. */
  name: string;
  /** Parallel worker processes; defaults to the number of cores. */
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
   * Run the trials on a queue instead of local workers: a Redis URL (redis://HOST:PORT[/DB], rediss:// for TLS)
   * served by `tsml worker` processes on any machine that mounts `runsDir`. `workers` is then unused.
   */
  queue?: string;
  /** With `queue`: attempts per trial before it is reported failed (default 3). */
  attempts?: number;
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

/** src/queue, loaded only for a grid on a queue (it depends on this folder, and local grids need no Redis client). */
function queueModule(): typeof import("../queue") {
  return require("../queue") as typeof import("../queue");
}

/** Number of worker processes used when none is given: the number of cores. */
export function defaultWorkerCount(): number {
  return coreCount();
}

/**
 * The environment of a trial process when `parallel` trials share this machine: `TSML_THREADS` set to its share of
 * the cores (at least 1), so that parallel trials do not oversubscribe them — unless `env` or this process already
 * sets it.
 */
export function withThreadShare(env: Record<string, string> | undefined, parallel: number): Record<string, string> {
  if (env?.TSML_THREADS !== undefined || process.env.TSML_THREADS !== undefined) return { ...(env ?? {}) };
  return { ...(env ?? {}), TSML_THREADS: String(Math.max(1, Math.floor(coreCount() / Math.max(1, parallel)))) };
}

/** The compiled worker script forked for every run. */
export function workerScriptPath(): string {
  const script = path.join(__dirname, "worker.js");
  if (!fs.existsSync(script)) throw new Error(`experiment worker not found at ${script}; run \`npm run build\` and use tsml from dist/`);
  return script;
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

/** A run executing in its own worker process. */
export interface RunProcess {
  /** The worker process's pid. */
  readonly pid: number;
  /** Sends SIGKILL to the worker process. */
  kill(): void;
  /** Resolves when the worker process has exited, with what happened to the run. */
  readonly done: Promise<RunOutcome>;
}

/**
 * Forks a worker process that executes `job` (its output goes to the run's worker.log) and reports the run's events
 * to `onEvent`. The worker ends when this process ends, however it ends.
 */
export function startRunProcess(job: RunJob, options: { env?: Record<string, string>; onEvent?: (event: RunEvent, control: RunControl) => void }): RunProcess {
  const logFd = fs.openSync(path.join(job.runDir, RUN_FILES.workerLog), "a");
  const child = fork(workerScriptPath(), [], {
    stdio: ["ignore", logFd, logFd, "ipc"],
    env: { ...process.env, ...(options.env ?? {}), [GRID_PID_VARIABLE]: String(process.pid) },
    execArgv: [],
  });
  fs.closeSync(logFd);
  const control: RunControl = { kill: () => child.kill("SIGKILL") };
  let failure: string | undefined;
  let finished = false;
  child.on("message", (event: RunEvent) => {
    if (event.type === "finished") finished = true;
    if (event.type === "failed") failure = event.error;
    options.onEvent?.(event, control);
  });
  child.send(job);
  const done = new Promise<RunOutcome>((resolve) => {
    child.on("exit", (code, signal) => {
      const ok = finished && code === 0;
      const error = ok ? undefined : failure ?? `worker exited with ${signal ? `signal ${signal}` : `code ${code}`} (see ${path.join(job.runDir, RUN_FILES.workerLog)})`;
      resolve({ id: job.run.id, status: ok ? "finished" : "failed", error, runDir: job.runDir });
    });
  });
  return { pid: child.pid ?? -1, kill: control.kill, done };
}

/** Expands `spec`, runs every unfinished run in parallel worker processes and reports what happened. */
export async function runGrid(spec: GridSpec, options: GridRunOptions): Promise<GridRunSummary> {
  const started = Date.now();
  const runs = expandGrid(spec);
  const workers = options.workers ?? defaultWorkerCount();
  requirePositiveInteger(workers, "workers");
  // An unreachable queue is reported within seconds, before any preparation.
  const queue = options.queue;
  if (queue !== undefined) await queueModule().probeRedis(queue);
  // The command line is recorded (lock, grid.json, configs, reports): never with the queue's password.
  const commandLine = queue === undefined ? options.commandLine ?? process.argv : queueModule().maskQueueArguments(options.commandLine ?? process.argv, queue);
  options = { ...options, commandLine };
  requirePathComponent(options.name, "grid name");
  ensureWritableFolder(options.runsDir, "runs folder");
  const gridDir = ensureWritableFolder(path.resolve(options.runsDir, options.name), "grid folder");
  const lock = acquireFolderLock(gridDir, { purpose: `grid ${options.name}: ${commandLine.join(" ")}` });
  try {
    return await runLockedGrid(spec, runs, workers, gridDir, options, started);
  } finally {
    lock.release();
  }
}

async function runLockedGrid(spec: GridSpec, runs: RunSpec[], workers: number, gridDir: string, options: GridRunOptions, started: number): Promise<GridRunSummary> {
  for (const run of runs) checkRunDir(run, path.join(gridDir, requirePathComponent(run.id, "run id")));
  const provenance = collectProvenance(undefined, options.commandLine);
  writeJsonAtomic(path.join(gridDir, "grid.json"), { spec, runs: runs.map((r) => r.id), provenance });

  const outcomes: RunOutcome[] = new Array(runs.length);
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
  if (options.queue !== undefined) {
    const jobs = pending.map(jobOf);
    for (const job of jobs) createFolder(job.runDir, `run ${job.run.id} folder`);
    const queued = await queueModule().runTrialsOnQueue(jobs, { url: options.queue, runsDir: path.resolve(options.runsDir), env: options.env, attempts: options.attempts, onEvent: options.onEvent, log: options.log });
    queued.forEach((outcome, k) => (outcomes[pending[k]] = outcome));
  } else {
    const parallel = Math.min(workers, pending.length);
    const env = withThreadShare(options.env, parallel);
    const next = async (): Promise<void> => {
      for (let i = pending.shift(); i !== undefined; i = pending.shift()) {
        const job = jobOf(i);
        createFolder(job.runDir, `run ${job.run.id} folder`);
        outcomes[i] = await startRunProcess(job, { ...options, env }).done;
      }
    };
    await Promise.all(Array.from({ length: parallel }, next));
  }
  const results = readGridResults(gridDir);
  return { gridDir, runs: outcomes, wallTimeSeconds: (Date.now() - started) / 1000, results, frame: resultsDataFrame(results) };
}
