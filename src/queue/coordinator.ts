/**
 * The coordinator side of a sweep on a queue: enqueue every unfinished run of a grid as a trial job (a job that
 * exists already is left alone, so enqueueing twice adds nothing), relay the trials' progress to the caller (and to
 * one live display in a notebook), and wait until every trial is completed or has failed its last attempt.
 * Results are read from the shared runs folder, as for a local grid.
 */
import * as os from "os";
import type { Queue } from "bullmq";
import { inKernel } from "../display";
import { tsmlPackageVersion } from "../package";
import { requirePositiveInteger } from "../util";
import { readCompleteMetrics, type RunControl, type RunEvent, type RunJob, type RunOutcome } from "../experiments";
import { DEFAULT_CONNECT_TIMEOUT_SECONDS, loadBullmq, maskPassword, maskRedisUrl, probeRedis, queueConnection } from "./connection";
import { TrialBoard } from "./board";
import { TRIAL_QUEUE, trialEnvironment, trialJobId, tsmlSourceDir, type TrialJobData, type TrialProgress, type TrialWorkerIdentity } from "./trials";

/** Attempts of a trial (a failure is retried until this many have failed). */
export const DEFAULT_TRIAL_ATTEMPTS = 3;

/** Seconds Redis keeps a finished job (its id then still blocks a duplicate of a sweep being re-run). */
const KEEP_FINISHED_SECONDS = 7 * 24 * 3600;

/** How often the coordinator looks at the jobs' states, in milliseconds. */
const POLL_MS = 500;

/** Options of `runTrialsOnQueue`. */
export interface QueueRunOptions {
  /** The Redis URL, e.g. redis://localhost:6379 (a password in it is never printed). */
  url: string;
  /** The runs folder the jobs' folders are in (workers that mount it elsewhere map paths below it). */
  runsDir: string;
  /** Extra environment for the trials' processes. */
  env?: Record<string, string>;
  /** Attempts per trial (default 3): failures are retried, then reported with their error. */
  attempts?: number;
  /** Called with every event of a trial; `control.kill()` kills the worker running it (only on this machine). */
  onEvent?: (event: RunEvent, control: RunControl) => void;
  /** Receives one-line messages (jobs enqueued, Redis lost). */
  log?: (line: string) => void;
  /** Seconds the start-up probe waits for Redis (default 5). */
  connectTimeoutSeconds?: number;
  /** One live display of every trial in a notebook: "auto" (default) shows it inside the kernel. */
  display?: "auto" | "none";
}

/** Kills a worker of this machine (the trial then moves to another worker); another machine's cannot be reached. */
function workerControl(worker: TrialWorkerIdentity): RunControl {
  return {
    kill: () => {
      if (worker.hostname !== os.hostname()) throw new Error(`the trial runs on ${worker.hostname}, not on this machine`);
      process.kill(worker.pid, "SIGKILL");
    },
  };
}

/** Enqueues `jobs` (the unfinished runs of one grid), relays their progress and resolves with every run's outcome. */
export async function runTrialsOnQueue(jobs: RunJob[], options: QueueRunOptions): Promise<RunOutcome[]> {
  const attempts = options.attempts ?? DEFAULT_TRIAL_ATTEMPTS;
  requirePositiveInteger(attempts, "attempts");
  const env = trialEnvironment(options.env ?? {});
  await probeRedis(options.url, options.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS);
  const log = options.log ?? (() => {});
  const connection = queueConnection(options.url);
  const { Queue, QueueEvents } = loadBullmq();
  const queue = new Queue<TrialJobData>(TRIAL_QUEUE, { connection });
  const events = new QueueEvents(TRIAL_QUEUE, { connection });
  let lastError = 0;
  const onError = (error: Error): void => {
    if (Date.now() - lastError < 10_000) return;
    lastError = Date.now();
    log(`Redis at ${maskRedisUrl(options.url)}: ${maskPassword(error.message, options.url)} (waiting for it)`);
  };
  queue.on("error", onError);
  events.on("error", onError);
  const board = options.display !== "none" && inKernel() ? new TrialBoard(jobs.map((job) => job.run.id)) : undefined;
  const byJobId = new Map(jobs.map((job) => [trialJobId(job.runDir), job] as const));
  const emit = (event: RunEvent, control: RunControl): void => {
    board?.onEvent(event);
    options.onEvent?.(event, control);
  };
  try {
    await events.waitUntilReady();
    events.on("progress", ({ jobId, data }) => {
      const job = byJobId.get(jobId);
      const progress = data as unknown as TrialProgress;
      if (!job || typeof progress !== "object" || progress === null || !progress.event) return;
      board?.onWorker(job.run.id, progress.worker);
      emit(progress.event, workerControl(progress.worker));
    });
    const jobData = (job: RunJob): TrialJobData => ({ job, runsDir: options.runsDir, env, tsmlDir: tsmlSourceDir(), tsmlVersion: tsmlPackageVersion() });
    const enqueue = async (jobId: string, job: RunJob): Promise<void> => {
      await queue.add(job.run.id, jobData(job), {
        jobId,
        attempts,
        backoff: { type: "fixed", delay: 1000 },
        removeOnComplete: { age: KEEP_FINISHED_SECONDS },
        removeOnFail: { age: KEEP_FINISHED_SECONDS },
      });
    };
    let added = 0;
    for (const [jobId, job] of byJobId) {
      const existing = await queue.getJob(jobId);
      if (existing) {
        const state = await queue.getJobState(jobId);
        // A trial that is waiting, running or done (a coordinator that crashed, or another one, enqueued it) is
        // joined, not duplicated; one that failed, or completed while its run folder is unfinished (deleted), runs again.
        if (state !== "failed" && !(state === "completed" && readCompleteMetrics(job.runDir) === null)) continue;
        await existing.remove();
      }
      await enqueue(jobId, job);
      added++;
    }
    log(
      `${added} trial${added === 1 ? "" : "s"} enqueued at ${maskRedisUrl(options.url)} (${byJobId.size - added} already there); waiting for workers (tsml worker --queue URL)`,
    );
    await board?.show();

    const outcomes = new Map<string, RunOutcome>();
    while (outcomes.size < byJobId.size) {
      for (const [jobId, job] of byJobId) {
        if (outcomes.has(jobId)) continue;
        const outcome = await settledOutcome(queue, jobId, job, log, () => enqueue(jobId, job));
        if (!outcome) continue;
        outcomes.set(jobId, outcome.outcome);
        emit(outcome.event, { kill: () => {} }); // the trial has ended: nothing left to kill
      }
      await board?.refresh();
      if (outcomes.size < byJobId.size) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    await board?.refresh(true);
    return jobs.map((job) => outcomes.get(trialJobId(job.runDir))!);
  } finally {
    await events.close();
    await queue.close();
  }
}

/** The outcome of a trial that has ended (and its last event), or undefined while it is waiting or running. */
async function settledOutcome(
  queue: Queue<TrialJobData>,
  jobId: string,
  job: RunJob,
  log: (line: string) => void,
  enqueueAgain: () => Promise<void>,
): Promise<{ outcome: RunOutcome; event: RunEvent } | undefined> {
  const state = await queue.getJobState(jobId);
  const runId = job.run.id;
  if (state === "completed" || state === "unknown") {
    const metrics = readCompleteMetrics(job.runDir);
    if (metrics) return { outcome: { id: runId, status: "finished", runDir: job.runDir }, event: { type: "finished", runId, metrics } };
    if (state === "unknown") {
      // The job is gone (Redis lost its data, or someone removed it): the trial resumes from its checkpoint.
      log(`trial ${jobId} is no longer in the queue; enqueueing it again`);
      await enqueueAgain();
      return undefined;
    }
    const error = `a worker completed trial ${jobId}, but ${job.runDir} has no complete metrics.json here: does this machine mount the same runs folder as the workers?`;
    return { outcome: { id: runId, status: "failed", error, runDir: job.runDir }, event: { type: "failed", runId, error } };
  }
  if (state !== "failed") return undefined;
  const failed = await queue.getJob(jobId);
  const error = `${failed?.failedReason ?? "failed"} (${failed?.attemptsMade ?? "?"} attempt${failed?.attemptsMade === 1 ? "" : "s"})`;
  return { outcome: { id: runId, status: "failed", error, runDir: job.runDir }, event: { type: "failed", runId, error } };
}
