/**
 * What travels through the trial queue: one BullMQ job per run of a grid, with an id derived from the grid folder
 * and the run (enqueueing the same grid twice adds nothing), the run's job as data, and progress messages that
 * carry the run's events and the worker that sent them.
 */
import { createHash } from "crypto";
import * as path from "path";
import type { RunEvent, RunJob } from "../experiments";
import { pathInside } from "../io";
import { tsmlPackageVersion } from "../package";

/** Name of the BullMQ queue that every coordinator fills and every `tsml worker` serves. */
export const TRIAL_QUEUE = "tsml-trials";

/** A job's data: the run's job as the coordinator sees it, plus where its grid lives. */
export interface TrialJobData {
  job: RunJob;
  /** The coordinator's runs folder; a worker that mounts it elsewhere maps paths below it onto its own. */
  runsDir: string;
  /** Extra environment for the trial's process (e.g. TSML_BACKEND). */
  env: Record<string, string>;
  /** The coordinator's compiled tsml sources (`dist/src`): task modules below it are tsml's own, found on every worker. */
  tsmlDir: string;
  /** The coordinator's tsml version: a worker of another version refuses the job. */
  tsmlVersion: string;
}

/** This installation's compiled tsml sources (`dist/src`). */
export function tsmlSourceDir(): string {
  return path.resolve(__dirname, "..");
}

/** The machine and process that runs a trial. */
export interface TrialWorkerIdentity {
  hostname: string;
  pid: number;
}

/** A job's progress message: an event of the run and who sent it. */
export interface TrialProgress {
  event: RunEvent;
  worker: TrialWorkerIdentity;
}

/** A job's result: the run's metrics event, or that it had finished before this attempt. */
export type TrialResult = Extract<RunEvent, { type: "finished" }>;

/** The job id of the run whose folder is `runDir` (`<grid>/<run>`): readable, and unique per run folder. */
export function trialJobId(runDir: string): string {
  const folder = path.resolve(runDir);
  const digest = createHash("sha256").update(folder).digest("hex").slice(0, 12);
  return `${path.basename(path.dirname(folder))}.${path.basename(folder)}.${digest}`.replace(/[^A-Za-z0-9._=+-]/g, "_");
}

/** Environment variables a job may set for its trial's process: tsml's own (`TSML_*`), never NODE_OPTIONS and the like. */
const ALLOWED_TRIAL_ENV = /^TSML_[A-Z0-9_]*$/;

/**
 * A job's extra environment, checked: anyone who can write to Redis can write a job, so a job may only set
 * `TSML_*` variables (a NODE_OPTIONS=--require ... would run code on every worker).
 */
export function trialEnvironment(env: Record<string, string>): Record<string, string> {
  const refused = Object.keys(env).filter((key) => !ALLOWED_TRIAL_ENV.test(key));
  if (refused.length > 0) throw new Error(`trial job sets environment variable(s) ${refused.join(", ")}; a job may only set TSML_* variables`);
  return env;
}

/** A worker's runs folder when it is started without one: `runs` in its working folder, as for `tsml study`. */
export const DEFAULT_WORKER_RUNS_DIR = "runs";

/**
 * `data.job` as this worker runs it: folders moved from the coordinator's runs folder into this worker's `runsDir`
 * (refused unless they lie inside the job's runs folder, so a job can never name a folder outside the worker's),
 * and tsml's own task modules taken from this installation, wherever tsml is installed here. Any other task
 * module must be in `allowedTaskModules` (the worker's `--task-module` list): a job names the modules a worker
 * loads, so a worker loads only code its owner allowed.
 */
export function localTrialJob(data: TrialJobData, runsDir: string, allowedTaskModules: readonly string[] = []): RunJob {
  const mine = tsmlPackageVersion();
  if (data.tsmlVersion !== mine) {
    const theirs = typeof data.tsmlVersion === "string" ? `tsml ${data.tsmlVersion}` : "a tsml that does not record its version";
    throw new Error(
      `trial job comes from a coordinator running ${theirs}, this worker runs tsml ${mine}; run the same tsml version on the coordinator and every worker`,
    );
  }
  const move = (folder: string, field: string): string => {
    const inside = pathInside(data.runsDir, folder, `trial job: ${field}`);
    return path.join(path.resolve(runsDir), path.relative(path.resolve(data.runsDir), inside));
  };
  const allowed = new Set(allowedTaskModules.map((module) => path.resolve(module)));
  const ownModule = (module: string): string => {
    const relative = path.relative(data.tsmlDir, module);
    if (!relative.startsWith("..") && !path.isAbsolute(relative)) return path.join(tsmlSourceDir(), relative);
    if (allowed.has(path.resolve(module))) return module;
    throw new Error(
      `trial job asks to load task module ${module}, which this worker does not allow; start the worker with --task-module ${module} to allow it`,
    );
  };
  return {
    ...data.job,
    runDir: move(data.job.runDir, "runDir"),
    cacheDir: move(data.job.cacheDir, "cacheDir"),
    taskModules: data.job.taskModules.map(ownModule),
  };
}
