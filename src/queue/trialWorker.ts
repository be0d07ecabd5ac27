/**
 * A trial worker (`tsml worker`): pulls trials from the queue and runs each in its own process (as local grids do,
 * so a crashing trial leaves the worker up and tfjs memory goes back to the system), reports their progress through
 * the job, and returns their metrics as the job's result.
 *
 * The BullMQ job lock decides who owns a trial: the trial's process holds the run folder's lock under the job's lock
 * token, so a worker on another machine that got the trial after this one stalled may take the folder over. This
 * worker stops a trial as soon as it can no longer be sure it holds the job lock — the lock was not renewed, or
 * Redis has not confirmed a renewal for most of the lock's duration — before anyone else can be given the trial.
 */
import * as os from "os";
import type { Job } from "bullmq";
import { readCompleteMetrics, startRunProcess, withThreadShare, type RunEvent, type RunProcess } from "../experiments";
import { ensureWritableFolder } from "../io";
import { requirePositiveInteger } from "../util";
import { loadBullmq, maskPassword, maskRedisUrl, probeRedis, queueConnection, DEFAULT_CONNECT_TIMEOUT_SECONDS } from "./connection";
import {
  DEFAULT_WORKER_RUNS_DIR,
  localTrialJob,
  trialEnvironment,
  TRIAL_QUEUE,
  type TrialJobData,
  type TrialProgress,
  type TrialResult,
  type TrialWorkerIdentity,
} from "./trials";

/** Default seconds a job lock lasts without renewal: a killed worker's trial is given to another after this. */
export const DEFAULT_LOCK_SECONDS = 30;

/** Times a trial may stall (its worker died) before it counts as failed. */
export const MAX_STALLED_COUNT = 2;

/** Fraction of the lock duration without a confirmed renewal after which a trial is stopped. */
const UNCONFIRMED_LOCK_FRACTION = 0.75;

/** Options of `startTrialWorker`. */
export interface TrialWorkerOptions {
  /** The Redis URL, e.g. redis://localhost:6379 (a password in it is never printed). */
  url: string;
  /** Trials run at once (each in its own process); default 1. */
  concurrency?: number;
  /** The shared runs folder as mounted on this machine (default `runs`): every trial's folder is inside it. */
  runsDir?: string;
  /** Seconds a job lock lasts without renewal (default 30): how soon a dead worker's trial moves on. */
  lockSeconds?: number;
  /** Task modules from outside tsml that jobs may ask this worker to load (tsml's own tasks are always allowed). */
  taskModules?: string[];
  /** Seconds the start-up probe waits for Redis (default 5). */
  connectTimeoutSeconds?: number;
  /** Receives one line per thing that happened (trial started, finished, failed; Redis lost). */
  log?: (line: string) => void;
}

/** A started trial worker. */
export interface TrialWorker {
  readonly identity: TrialWorkerIdentity;
  /** Trials running now. */
  activeTrials(): number;
  /** Stops the running trials (they resume elsewhere from their checkpoints) and disconnects. */
  close(): Promise<void>;
}

interface ActiveTrial {
  process: RunProcess;
  confirmedAt: number;
  stopReason?: string;
}

/** Connects to the queue at `options.url` (failing within seconds when Redis is unreachable) and starts serving trials. */
export async function startTrialWorker(options: TrialWorkerOptions): Promise<TrialWorker> {
  const concurrency = options.concurrency ?? 1;
  requirePositiveInteger(concurrency, "concurrency");
  const lockSeconds = options.lockSeconds ?? DEFAULT_LOCK_SECONDS;
  if (!(lockSeconds >= 1)) throw new Error(`lock seconds must be at least 1, got ${lockSeconds}`);
  await probeRedis(options.url, options.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS);
  const runsDir = ensureWritableFolder(options.runsDir ?? DEFAULT_WORKER_RUNS_DIR, "runs folder (--runs-dir)");
  const log = options.log ?? (() => {});
  const identity: TrialWorkerIdentity = { hostname: os.hostname(), pid: process.pid };
  const lockMs = lockSeconds * 1000;
  const active = new Map<string, ActiveTrial>();

  const stop = (jobId: string, reason: string): void => {
    const trial = active.get(jobId);
    if (!trial || trial.stopReason) return;
    trial.stopReason = reason;
    log(`trial ${jobId}: stopping (${reason})`);
    trial.process.kill();
  };

  const processor = async (job: Job<TrialJobData, TrialResult>, token?: string, signal?: AbortSignal): Promise<TrialResult> => {
    const jobId = job.id ?? "";
    const runJob = { ...localTrialJob(job.data, runsDir, options.taskModules), lease: { subject: jobId, grant: token ?? "" } };
    ensureWritableFolder(runJob.runDir, `trial ${jobId} folder`);
    const earlier = readCompleteMetrics(runJob.runDir);
    if (earlier) {
      // Trained to the end by a worker that died before it could report: not trained again.
      log(`trial ${jobId}: already finished in ${runJob.runDir}`);
      return { type: "finished", runId: runJob.run.id, metrics: earlier };
    }
    let result: TrialResult | undefined;
    let progressSent: Promise<unknown> = Promise.resolve();
    const forward = (event: RunEvent): void => {
      if (event.type === "finished") result = event;
      if (event.type === "started") log(`trial ${jobId}: started${event.resumedFromStep ? `, resuming from step ${event.resumedFromStep}` : ""}`);
      if (event.type !== "started" && event.type !== "progress") return;
      const message: TrialProgress = { event, worker: identity };
      progressSent = progressSent
        .then(() => job.updateProgress(message as unknown as object))
        .catch((e: Error) => log(`trial ${jobId}: progress not sent (${maskPassword(e.message, options.url)})`));
    };
    const trial: ActiveTrial = {
      process: startRunProcess(runJob, { env: withThreadShare(trialEnvironment(job.data.env), concurrency), onEvent: forward }),
      confirmedAt: Date.now(),
    };
    active.set(jobId, trial);
    const onAbort = (): void => stop(jobId, "cancelled: the job lock was lost");
    signal?.addEventListener("abort", onAbort);
    try {
      const outcome = await trial.process.done;
      await progressSent;
      if (outcome.status === "finished" && result) {
        log(`trial ${jobId}: finished`);
        return result;
      }
      const error = trial.stopReason ? `stopped: ${trial.stopReason}` : (outcome.error ?? "the trial ended without metrics");
      log(`trial ${jobId}: failed (${error})`);
      throw new Error(error);
    } finally {
      signal?.removeEventListener("abort", onAbort);
      active.delete(jobId);
    }
  };

  const { Worker } = loadBullmq();
  const worker = new Worker<TrialJobData, TrialResult>(TRIAL_QUEUE, processor, {
    connection: queueConnection(options.url),
    concurrency,
    lockDuration: lockMs,
    stalledInterval: Math.max(1000, Math.min(30_000, lockMs / 2)),
    maxStalledCount: MAX_STALLED_COUNT,
    autorun: false,
  });
  worker.on("locksRenewed", ({ jobIds }: { jobIds: string[] }) => {
    const now = Date.now();
    for (const id of jobIds) {
      const trial = active.get(id);
      if (trial) trial.confirmedAt = now;
    }
  });
  worker.on("lockRenewalFailed", (jobIds: string[]) => jobIds.forEach((id) => stop(id, "Redis refused to renew its job lock")));
  let lastError = 0;
  worker.on("error", (error: Error) => {
    if (Date.now() - lastError < 10_000) return;
    lastError = Date.now();
    log(`Redis at ${maskRedisUrl(options.url)}: ${maskPassword(error.message, options.url)} (retrying)`);
  });
  const guard = setInterval(() => {
    const now = Date.now();
    for (const [id, trial] of active) {
      if (now - trial.confirmedAt > lockMs * UNCONFIRMED_LOCK_FRACTION)
        stop(id, `no job lock renewal confirmed by Redis for ${((now - trial.confirmedAt) / 1000).toFixed(0)} s`);
    }
  }, 500);
  guard.unref();
  void worker.run().catch((error: Error) => log(`worker stopped: ${maskPassword(error.message, options.url)}`));
  await worker.waitUntilReady();
  log(
    `worker ${identity.hostname}:${identity.pid} serving queue ${TRIAL_QUEUE} at ${maskRedisUrl(options.url)} into ${runsDir} (concurrency ${concurrency}, lock ${lockSeconds} s)`,
  );
  return {
    identity,
    activeTrials: () => active.size,
    close: async () => {
      clearInterval(guard);
      for (const id of active.keys()) stop(id, "the worker is shutting down");
      await worker.close(true);
    },
  };
}
