/**
 * What travels through the trial queue: one BullMQ job per run of a grid, with an id derived from the grid folder
 * and the run (enqueueing the same grid twice adds nothing), the run's job as data, and progress messages that
 * carry the run's events and the worker that sent them.
 */
import { createHash } from "crypto";
import * as path from "path";
import type { RunEvent, RunJob } from "../experiments";

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

/**
 * `data.job` as this worker runs it: folders moved from the coordinator's runs folder to `runsDir` (when given),
 * and tsml's own task modules taken from this installation, wherever tsml is installed here.
 */
export function localTrialJob(data: TrialJobData, runsDir: string | undefined): RunJob {
  const move = (folder: string): string => {
    if (runsDir === undefined) return folder;
    const relative = path.relative(data.runsDir, folder);
    if (relative.startsWith("..") || path.isAbsolute(relative)) throw new Error(`trial folder ${folder} is not inside the coordinator's runs folder ${data.runsDir}`);
    return path.join(path.resolve(runsDir), relative);
  };
  const ownModule = (module: string): string => {
    const relative = path.relative(data.tsmlDir, module);
    return relative.startsWith("..") || path.isAbsolute(relative) ? module : path.join(tsmlSourceDir(), relative);
  };
  return { ...data.job, runDir: move(data.job.runDir), cacheDir: move(data.job.cacheDir), taskModules: data.job.taskModules.map(ownModule) };
}
