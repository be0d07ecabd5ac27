/**
 * Where the trials of a grid run. `runGrid` prepares the grid (lock, grid.json, the task's data) and hands the
 * unfinished runs to a `TrialExecutor`: `localExecutor` forks worker processes on this machine; src/queue's
 * `queueExecutor` sends them to `tsml worker`s through Redis. The caller (study, cli) chooses one.
 */
import { createFolder } from "../io";
import { requirePositiveInteger } from "../util";
import { coreCount } from "../backend";
import { startRunProcess, withThreadShare, type RunControl, type RunOutcome } from "./runProcess";
import type { RunEvent, RunJob } from "./trial";

/** What an executor gets besides the jobs: the grid's runs folder and the caller's environment and handlers. */
export interface TrialContext {
  /** The absolute runs folder the jobs' folders are in. */
  runsDir: string;
  /** Extra environment for the trials' processes (e.g. TSML_BACKEND). */
  env?: Record<string, string>;
  /** Called with every event of a trial. */
  onEvent?: (event: RunEvent, control: RunControl) => void;
  /** Receives one-line messages (e.g. of the queue). */
  log?: (line: string) => void;
}

/** Runs the unfinished trials of a grid and resolves with each one's outcome. */
export interface TrialExecutor {
  /** Fails fast (before any preparation) when the executor cannot run trials, e.g. an unreachable queue. */
  check?(): Promise<void>;
  /** The command line as it is recorded (lock, grid.json, configs, reports): without secrets such as a password. */
  recordedCommandLine?(argv: string[]): string[];
  /** Runs `jobs` (creating each run's folder) and resolves with their outcomes, in the order of `jobs`. */
  run(jobs: RunJob[], context: TrialContext): Promise<RunOutcome[]>;
}

/** Number of worker processes used when none is given: the number of cores. */
export function defaultWorkerCount(): number {
  return coreCount();
}

/** Runs the trials in forked worker processes on this machine, at most `workers` (default: the cores) at a time. */
export function localExecutor(workers: number = defaultWorkerCount()): TrialExecutor {
  requirePositiveInteger(workers, "workers");
  return {
    async run(jobs, context) {
      const outcomes = new Array<RunOutcome>(jobs.length);
      const pending = jobs.map((_, i) => i);
      const parallel = Math.min(workers, pending.length);
      const env = withThreadShare(context.env, parallel);
      const next = async (): Promise<void> => {
        for (let i = pending.shift(); i !== undefined; i = pending.shift()) {
          const job = jobs[i];
          createFolder(job.runDir, `run ${job.run.id} folder`);
          outcomes[i] = await startRunProcess(job, { env, onEvent: context.onEvent }).done;
        }
      };
      await Promise.all(Array.from({ length: parallel }, next));
      return outcomes;
    },
  };
}
