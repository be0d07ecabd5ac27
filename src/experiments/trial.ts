/**
 * One run of a grid, executed in the current process: build the task, train with the Trainer (resuming from
 * the run's last checkpoint when there is one), evaluate, and write config.json, log.jsonl, the checkpoints and
 * finally metrics.json. A run is finished when its metrics.json is complete (every step trained, every split
 * evaluated); a run resumed from the checkpoint of its last step trains nothing but still evaluates. One process
 * at a time owns a run folder (an advisory lock).
 */
import * as fs from "fs";
import * as path from "path";
import { initBackend } from "../backend";
import { writeJsonAtomic } from "../io";
import { acquireFolderLock, type FolderLease } from "../supervision";
import {
  readLastCheckpoint,
  Trainer,
  tensorBoardCallback,
  windowStats,
  type EvaluationResult,
  type StepEndInfo,
  type TrainingArgumentsInput,
  type TrainingData,
} from "../train";
import type { RunSpec } from "./grid";
import { collectProvenance, type Provenance } from "./provenance";
import { getExperimentTask } from "./tasks";

/** File names inside a run directory. */
export const RUN_FILES = {
  config: "config.json",
  log: "log.jsonl",
  metrics: "metrics.json",
  workerLog: "worker.log",
  /** Folder of the run's TensorBoard event files (`tensorboard --logdir <runs>` shows every run). */
  tensorboard: "tensorboard",
} as const;

/** Fraction of a run's optimizer steps, counted from the end, over which loss fluctuation is measured. */
export const FLUCTUATION_FRACTION = 0.5;

/** Fewest steps the fluctuation window holds (all of them in shorter runs). */
export const MIN_FLUCTUATION_WINDOW = 4;

/** What the runner sends a worker: the run, where to write it, and the grid's provenance. */
export interface RunJob {
  run: RunSpec;
  runDir: string;
  /** Provenance of the process that started the grid (command line, git commit). */
  provenance: Provenance;
  /** Modules to require before looking up the task (they register tasks defined outside tsml). */
  taskModules: string[];
  /** Folder where tasks cache what all runs share (tokenizer, encoded data, a pretrained model). */
  cacheDir: string;
  /** The queue's grant of this run (job id and lock token), recorded in the run folder's lock; see `FolderLease`. */
  lease?: FolderLease;
}

/** Accuracy, F1 and mean loss of an evaluation. */
export interface EvalSummary {
  loss: number;
  accuracy: number;
  f1: number;
}

/** The measured numbers of a finished run (metrics.json). */
export interface RunMetrics {
  runId: string;
  steps: number;
  /** Steps the run trains in all; a complete run has `steps === totalSteps`. */
  totalSteps: number;
  examplesSeen: number;
  effectiveBatchSize: number;
  /** The micro-batch and accumulation actually used (perDeviceBatchSize "auto" chooses them). */
  perDeviceBatchSize?: number;
  gradientAccumulationSteps?: number;
  dev: EvalSummary | null;
  test: EvalSummary | null;
  /** Label and prediction of every dev example in order (for bootstrap intervals over examples). */
  devPredictions: { labels: number[]; predictions: number[] } | null;
  /** Raw step-loss statistics over the last `window` optimizer steps (null: fewer than 2 steps). */
  fluctuation: { window: number; mean: number | null; std: number | null; cv: number | null };
  /** TensorBoard-smoothed loss of the last history record. */
  smoothedFinalLoss: number | null;
  /** Gradient noise scale B_simple in examples (null without accumulation). */
  noiseScale: number | null;
  advice: string;
  /** Examples and tokens (without padding) trained on in this process, and the seconds that took. */
  trainExamples: number;
  trainTokens: number;
  trainSeconds: number;
  /** Training throughput of this process (null when it trained nothing: resumed at the last step). */
  examplesPerSecond: number | null;
  tokensPerSecond: number | null;
  /** Seconds from process start to metrics.json (of the last, possibly resumed, segment). */
  wallTimeSeconds: number;
  peakMemoryMB: number;
  /** Step the run resumed from, or null when it ran from the start. */
  resumedFromStep: number | null;
}

/** Events a run reports while it executes. */
export type RunEvent =
  | { type: "started"; runId: string; totalSteps: number; resumedFromStep: number | null; backend: string }
  | { type: "progress"; runId: string; step: number; totalSteps: number; loss: number; lastCheckpointStep: number | null }
  | { type: "finished"; runId: string; metrics: RunMetrics }
  | { type: "failed"; runId: string; error: string };

/** The run's metrics.json when it is complete (every step trained), else null (missing, damaged or partial). */
export function readCompleteMetrics(runDir: string): RunMetrics | null {
  let metrics: Partial<RunMetrics>;
  try {
    metrics = JSON.parse(fs.readFileSync(path.join(runDir, RUN_FILES.metrics), "utf8")) as Partial<RunMetrics>;
  } catch {
    return null;
  }
  const complete =
    typeof metrics === "object" &&
    metrics !== null &&
    Number.isInteger(metrics.steps) &&
    metrics.steps === metrics.totalSteps &&
    metrics.fluctuation !== undefined;
  return complete ? (metrics as RunMetrics) : null;
}

/** True when the run in `runDir` has finished: its metrics.json is complete. */
export function isRunFinished(runDir: string): boolean {
  return readCompleteMetrics(runDir) !== null;
}

/** `amount / seconds`, or null when nothing was measured. */
function rate(amount: number, seconds: number): number | null {
  return amount > 0 && seconds > 0 ? amount / seconds : null;
}

/** The number, or null when it is missing or not finite (JSON has no NaN). */
function finite(value: number | undefined): number | null {
  return value !== undefined && Number.isFinite(value) ? value : null;
}

function finiteOrNull(stats: { mean: number; std: number; cv: number }) {
  return { mean: finite(stats.mean), std: finite(stats.std), cv: finite(stats.cv) };
}

function summarize(result: EvaluationResult | undefined): EvalSummary | null {
  return result ? { loss: result.loss, accuracy: result.accuracy, f1: result.f1 } : null;
}

/** Counts what the Trainer collates for training: examples and tokens. */
interface Throughput {
  examples: number;
  tokens: number;
}

/** Wraps training data so every collated micro-batch adds its examples and tokens to `counter`. */
function counting<B>(data: TrainingData<B>, tokensIn: (indices: number[]) => number, counter: Throughput): TrainingData<B> {
  return {
    size: data.size,
    sampler: data.sampler,
    dispose: data.dispose?.bind(data),
    collate(indices) {
      counter.examples += indices.length;
      counter.tokens += tokensIn(indices);
      return data.collate(indices);
    },
  };
}

/** Reports progress at most every 250 ms, and always when a newer checkpoint exists (so a runner can act on it). */
class ProgressEvents {
  private lastSent = -Infinity;
  private reportedCheckpoint: number | null;

  constructor(
    private readonly runId: string,
    private readonly resumeStep: number | null,
    private readonly emit: (event: RunEvent) => void,
  ) {
    this.reportedCheckpoint = resumeStep;
  }

  /** Called after every optimizer step. */
  step(info: StepEndInfo, totalSteps: number, saveSteps: number): void {
    // The Trainer writes checkpoint-<s> after the callbacks of step s, so at step s the newest one is older.
    const saved = Math.floor((info.step - 1) / saveSteps) * saveSteps;
    const checkpoint = saved > 0 ? Math.max(saved, this.resumeStep ?? 0) : this.resumeStep;
    const now = performance.now();
    if (now - this.lastSent < 250 && checkpoint === this.reportedCheckpoint && info.step !== totalSteps) return;
    this.lastSent = now;
    this.reportedCheckpoint = checkpoint;
    this.emit({ type: "progress", runId: this.runId, step: info.step, totalSteps, loss: info.loss, lastCheckpointStep: checkpoint });
  }
}

/** Default checkpoint interval in optimizer steps when the grid does not set saveSteps (only the newest is kept unless saveTotalLimit says otherwise). */
export const DEFAULT_SAVE_STEPS = 50;

/** Executes `job` in this process, reporting events through `emit`, and returns the run's metrics. */
export async function executeRun(job: RunJob, emit: (event: RunEvent) => void): Promise<RunMetrics> {
  const startedAt = performance.now();
  const { run, runDir } = job;
  for (const module of job.taskModules) require(module);
  // A worker of an interrupted grid may still be ending (it exits within a second of its parent): wait for it.
  const lock = acquireFolderLock(runDir, { purpose: `run ${run.id}`, waitSeconds: 10, lease: job.lease });
  try {
    return await executeLockedRun(job, emit, startedAt);
  } finally {
    lock.release();
  }
}

async function executeLockedRun(job: RunJob, emit: (event: RunEvent) => void, startedAt: number): Promise<RunMetrics> {
  const { run, runDir } = job;
  const backend = await initBackend();
  const resumeStep = readLastCheckpoint(runDir)?.step ?? null;
  const configFile = path.join(runDir, RUN_FILES.config);
  if (resumeStep === null || !fs.existsSync(configFile)) {
    writeJsonAtomic(configFile, { run, seed: run.training.seed, provenance: { ...job.provenance, backend: collectProvenance(backend).backend } });
  }

  const task = getExperimentTask(run.task);
  const setup = await task.build(run.taskConfig, { cacheDir: job.cacheDir, seed: Number(run.training.seed ?? 0) });
  const throughput: Throughput = { examples: 0, tokens: 0 };
  const timing = { start: 0, trainSeconds: 0 };
  const progress = new ProgressEvents(run.id, resumeStep, emit);
  let trainer: Trainer<unknown> | undefined;
  try {
    const args: TrainingArgumentsInput = { saveSteps: DEFAULT_SAVE_STEPS, saveTotalLimit: 1, ...run.training, outputDir: runDir, progress: "none" };
    if (resumeStep !== null) args.resumeFrom = "last";
    const onStepEnd = (info: StepEndInfo) => {
      timing.trainSeconds = (performance.now() - timing.start) / 1000;
      progress.step(info, totalSteps, saveSteps);
    };
    const trainData = counting(setup.train, setup.tokensIn ?? ((indices) => indices.length), throughput);
    trainer = new Trainer({
      model: setup.model,
      trainData,
      evalData: setup.dev,
      args,
      callbacks: [{ onStepEnd }, tensorBoardCallback(path.join(runDir, RUN_FILES.tensorboard))],
      batchPlanner: setup.batchPlanner,
    });
    if (trainer.batchPlan) {
      // perDeviceBatchSize "auto": the run's config records what was chosen and why.
      const recorded = JSON.parse(fs.readFileSync(configFile, "utf8")) as Record<string, unknown>;
      writeJsonAtomic(configFile, { ...recorded, batchPlan: trainer.batchPlan });
    }
    const totalSteps = trainer.totalSteps();
    const saveSteps = trainer.args.saveSteps ?? Infinity;
    emit({ type: "started", runId: run.id, totalSteps, resumedFromStep: resumeStep, backend: backend.name });
    timing.start = performance.now();
    const result = await trainer.train();
    if (result.globalStep !== totalSteps || (setup.dev && !result.lastEval)) {
      throw new Error(
        `run ${run.id} ended at step ${result.globalStep} of ${totalSteps}${result.stoppedReason ? ` (${result.stoppedReason})` : ""} without complete metrics`,
      );
    }
    const test = setup.test ? trainer.evaluate(setup.test) : undefined;
    const losses = trainer.stepLosses;
    const window = Math.min(losses.length, Math.max(MIN_FLUCTUATION_WINDOW, Math.round(losses.length * FLUCTUATION_FRACTION)));
    const last = result.history[result.history.length - 1];
    const { perDeviceBatchSize, gradientAccumulationSteps } = trainer.args;
    const metrics: RunMetrics = {
      runId: run.id,
      steps: result.globalStep,
      totalSteps,
      examplesSeen: last?.examplesSeen ?? 0,
      effectiveBatchSize: perDeviceBatchSize * gradientAccumulationSteps,
      perDeviceBatchSize,
      gradientAccumulationSteps,
      dev: summarize(result.lastEval),
      test: summarize(test),
      devPredictions: result.lastEval ? { labels: result.lastEval.labels, predictions: result.lastEval.predictions } : null,
      fluctuation: { window, ...finiteOrNull(windowStats(losses, window)) },
      smoothedFinalLoss: finite(last?.smoothedLoss),
      noiseScale: result.noiseScale ?? null,
      advice: result.advice,
      trainExamples: throughput.examples,
      trainTokens: throughput.tokens,
      trainSeconds: timing.trainSeconds,
      examplesPerSecond: rate(throughput.examples, timing.trainSeconds),
      tokensPerSecond: rate(throughput.tokens, timing.trainSeconds),
      wallTimeSeconds: (performance.now() - startedAt) / 1000,
      peakMemoryMB: process.resourceUsage().maxRSS / 1024,
      resumedFromStep: resumeStep,
    };
    writeJsonAtomic(path.join(runDir, RUN_FILES.metrics), metrics);
    emit({ type: "finished", runId: run.id, metrics });
    return metrics;
  } finally {
    trainer?.dispose();
    setup.dispose();
  }
}
