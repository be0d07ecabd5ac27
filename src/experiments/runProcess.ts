/**
 * One run of a grid in its own worker process (src/experiments/worker.ts, forked): how it is started, stopped and
 * what became of it. Used by the local executor and by `tsml worker`s (src/queue).
 */
import { fork } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { coreCount } from "../backend";
import { GRID_PID_VARIABLE } from "./gridPid";
import { RUN_FILES, type RunEvent, type RunJob } from "./trial";

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
      const error = ok
        ? undefined
        : (failure ?? `worker exited with ${signal ? `signal ${signal}` : `code ${code}`} (see ${path.join(job.runDir, RUN_FILES.workerLog)})`);
      resolve({ id: job.run.id, status: ok ? "finished" : "failed", error, runDir: job.runDir });
    });
  });
  return { pid: child.pid ?? -1, kill: control.kill, done };
}
