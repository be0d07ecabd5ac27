/** The training history: one record per logged step, kept in memory and appended (fsynced) to log.jsonl. */
import * as fs from "fs";
import type { DataFrame } from "danfojs-node";
import { writeFileAtomic } from "../io";

/** One logged optimizer step. Values that do not exist yet are null; eval metrics appear as `eval_<name>`. */
export interface TrainingLogRecord {
  step: number;
  /** Fractional epoch: completed epochs plus the fraction of the current one. */
  epoch: number;
  examplesSeen: number;
  /** Mean raw step loss since the previous record. */
  loss: number;
  /** TensorBoard-smoothed `loss`. */
  smoothedLoss: number;
  /** Rolling std / coefficient of variation of the raw step loss over `fluctuationWindow` steps. */
  lossStd: number | null;
  lossCv: number | null;
  learningRate: number;
  /** Global norm of the accumulated gradient before clipping. */
  gradNorm: number;
  /** Gradient noise scale B_simple in items (null without accumulation or before the first estimate). */
  noiseScale: number | null;
  examplesPerSecond: number;
  [evalMetric: `eval_${string}`]: number;
}

/** Records in memory plus their log.jsonl file (when a run directory is set). */
export class TrainingHistory {
  readonly records: TrainingLogRecord[] = [];

  constructor(private readonly logFile?: string) {}

  /** Adds a record and appends it to log.jsonl, flushed to disk before returning. */
  append(record: TrainingLogRecord): void {
    this.records.push(record);
    if (!this.logFile) return;
    try {
      const fd = fs.openSync(this.logFile, "a");
      try {
        fs.writeSync(fd, JSON.stringify(record) + "\n");
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    } catch (e) {
      throw new Error(`${this.logFile}: cannot append the record of step ${record.step} (${(e as Error).message})`);
    }
  }

  /** Replaces the history (on resume) and rewrites log.jsonl atomically to match it. */
  restore(records: TrainingLogRecord[]): void {
    this.records.splice(0, this.records.length, ...records);
    if (this.logFile) writeFileAtomic(this.logFile, records.map((r) => JSON.stringify(r) + "\n").join(""));
  }

  /** Starts a fresh log.jsonl (a new run in the directory). */
  reset(): void {
    this.records.length = 0;
    if (this.logFile) writeFileAtomic(this.logFile, "");
  }
}

/** The records as a danfojs-node DataFrame, one column per field (missing values NaN); danfojs loads lazily. */
export function historyToFrame(records: readonly TrainingLogRecord[]): DataFrame {
  const dfd = require("danfojs-node") as typeof import("danfojs-node");
  const columns: string[] = [];
  for (const r of records) for (const key of Object.keys(r)) if (!columns.includes(key)) columns.push(key);
  const data: Record<string, number[]> = {};
  for (const c of columns) {
    data[c] = records.map((r) => {
      const v = (r as unknown as Record<string, number | null | undefined>)[c];
      return v === null || v === undefined ? NaN : v;
    });
  }
  return new dfd.DataFrame(data, { columns });
}
