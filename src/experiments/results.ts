/** Collects the finished runs of a grid into one row per run and a danfojs DataFrame. */
import * as fs from "fs";
import * as path from "path";
import type { DataFrame } from "danfojs-node";
import type { TrainingLogRecord } from "../train";
import { RunSpec } from "./grid";
import { readCompleteMetrics, RunMetrics, RUN_FILES } from "./trial";

/** One finished run, flattened: its arguments and its measured numbers. */
export interface RunResult {
  runId: string;
  task: string;
  perDeviceBatchSize: number;
  gradientAccumulationSteps: number;
  effectiveBatchSize: number;
  learningRate: number;
  seed: number;
  steps: number;
  devAccuracy: number;
  devF1: number;
  testAccuracy: number;
  testF1: number;
  /** Standard deviation of the raw per-step training loss over the last window of steps. */
  lossStd: number;
  /** Coefficient of variation (std / mean) of the raw step loss over the same window. */
  lossCv: number;
  smoothedFinalLoss: number;
  noiseScale: number;
  examplesPerSecond: number;
  tokensPerSecond: number;
  wallTimeSeconds: number;
  peakMemoryMB: number;
}

/** Column order of the results DataFrame and results.csv. */
export const RESULT_COLUMNS: (keyof RunResult)[] = [
  "runId",
  "task",
  "perDeviceBatchSize",
  "gradientAccumulationSteps",
  "effectiveBatchSize",
  "learningRate",
  "seed",
  "steps",
  "devAccuracy",
  "devF1",
  "testAccuracy",
  "testF1",
  "lossStd",
  "lossCv",
  "smoothedFinalLoss",
  "noiseScale",
  "examplesPerSecond",
  "tokensPerSecond",
  "wallTimeSeconds",
  "peakMemoryMB",
];

/** Columns that measure the machine rather than the model (they differ between identical reruns). */
export const TIMING_COLUMNS: (keyof RunResult)[] = ["examplesPerSecond", "tokensPerSecond", "wallTimeSeconds", "peakMemoryMB"];

const num = (value: number | null | undefined): number => (typeof value === "number" ? value : NaN);

/** Flattens a run's spec and metrics into a result row (missing measurements become NaN). */
export function toRunResult(run: RunSpec, metrics: RunMetrics): RunResult {
  const t = run.training;
  return {
    runId: run.id,
    task: run.task,
    perDeviceBatchSize: num(metrics.perDeviceBatchSize ?? (t.perDeviceBatchSize as number)),
    gradientAccumulationSteps: num(metrics.gradientAccumulationSteps ?? t.gradientAccumulationSteps ?? 1),
    effectiveBatchSize: num(metrics.effectiveBatchSize),
    learningRate: num(t.learningRate),
    seed: num(t.seed),
    steps: num(metrics.steps),
    devAccuracy: num(metrics.dev?.accuracy),
    devF1: num(metrics.dev?.f1),
    testAccuracy: num(metrics.test?.accuracy),
    testF1: num(metrics.test?.f1),
    lossStd: num(metrics.fluctuation.std),
    lossCv: num(metrics.fluctuation.cv),
    smoothedFinalLoss: num(metrics.smoothedFinalLoss),
    noiseScale: num(metrics.noiseScale),
    examplesPerSecond: num(metrics.examplesPerSecond),
    tokensPerSecond: num(metrics.tokensPerSecond),
    wallTimeSeconds: num(metrics.wallTimeSeconds),
    peakMemoryMB: num(metrics.peakMemoryMB),
  };
}

/** Reads every finished run of the grid in `gridDir` (runs without complete metrics are left out), in grid order. */
export function readGridResults(gridDir: string): RunResult[] {
  const gridFile = path.join(gridDir, "grid.json");
  if (!fs.existsSync(gridFile)) throw new Error(`${gridFile} not found: ${gridDir} is not a grid folder written by runGrid`);
  const { runs } = JSON.parse(fs.readFileSync(gridFile, "utf8")) as { runs: string[] };
  return runs.flatMap((id) => {
    const runDir = path.join(gridDir, id);
    const metrics = readCompleteMetrics(runDir);
    if (!metrics) return [];
    const { run } = JSON.parse(fs.readFileSync(path.join(runDir, RUN_FILES.config), "utf8")) as { run: RunSpec };
    return [toRunResult(run, metrics)];
  });
}

/** The results as a DataFrame with `RESULT_COLUMNS` (an empty frame with those columns when nothing finished). */
export function resultsDataFrame(results: RunResult[]): DataFrame {
  // danfojs-node takes seconds to load: only when a frame is asked for.
  const { DataFrame } = require("danfojs-node") as typeof import("danfojs-node");
  if (results.length === 0) return new DataFrame([], { columns: RESULT_COLUMNS });
  return new DataFrame(
    results.map((r) => RESULT_COLUMNS.map((c) => r[c])),
    { columns: RESULT_COLUMNS },
  );
}

/** The results as CSV text with a header row (numbers printed so they read back exactly; a missing value is empty). */
export function resultsCsv(results: RunResult[]): string {
  const cell = (v: string | number | null | undefined): string => {
    if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
    if (typeof v !== "string") return "";
    return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  };
  return [RESULT_COLUMNS.join(","), ...results.map((r) => RESULT_COLUMNS.map((c) => cell(r[c])).join(","))].join("\n") + "\n";
}

/** One run's training history (log.jsonl records) labelled with its id and arguments, ready for the run charts. */
export interface RunHistory {
  run: string;
  config: Record<string, number | string>;
  history: TrainingLogRecord[];
}

/** Reads log.jsonl of every finished run of the grid in `gridDir`, labelled with its arguments. */
export function readGridHistories(gridDir: string): RunHistory[] {
  return readGridResults(gridDir).map((r) => {
    const file = path.join(gridDir, r.runId, RUN_FILES.log);
    const lines = fs
      .readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "");
    const history = lines.map((line, i) => {
      try {
        return JSON.parse(line) as TrainingLogRecord;
      } catch {
        throw new Error(`${file}:${i + 1}: not a JSON record`);
      }
    });
    const config = {
      runId: r.runId,
      perDeviceBatchSize: r.perDeviceBatchSize,
      gradientAccumulationSteps: r.gradientAccumulationSteps,
      effectiveBatchSize: r.effectiveBatchSize,
      learningRate: r.learningRate,
      seed: r.seed,
    };
    return { run: r.runId, config, history };
  });
}

/** Label and prediction of every dev example of each finished run (from metrics.json), by run id. */
export function readGridDevPredictions(gridDir: string): Map<string, { labels: number[]; predictions: number[] }> {
  const out = new Map<string, { labels: number[]; predictions: number[] }>();
  for (const r of readGridResults(gridDir)) {
    const metrics = JSON.parse(fs.readFileSync(path.join(gridDir, r.runId, RUN_FILES.metrics), "utf8")) as Partial<RunMetrics>;
    if (metrics.devPredictions) out.set(r.runId, metrics.devPredictions);
  }
  return out;
}
