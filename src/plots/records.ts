/** Normalising chart inputs (danfojs DataFrames or arrays of records) into plain records, with validation. */

/** A plain data record (one row). */
export type PlotRecord = Record<string, unknown>;

/** Anything with danfojs-style `columns` and row-major `values` (a danfojs-node DataFrame qualifies). */
export interface DataFrameLike {
  readonly columns: readonly string[];
  /** Rows, each an array aligned with `columns`. */
  readonly values: readonly unknown[];
}

/** Tabular chart input: an array of records (any object type, e.g. the Trainer's TrainingLogRecord) or a DataFrame. */
export type TableInput = readonly object[] | DataFrameLike;

/** True when `input` looks like a danfojs DataFrame (column names plus row-major values). */
export function isDataFrameLike(input: unknown): input is DataFrameLike {
  if (input === null || typeof input !== "object" || Array.isArray(input)) return false;
  const { columns, values } = input as Partial<DataFrameLike>;
  return Array.isArray(columns) && Array.isArray(values);
}

/** Converts a DataFrame or record array into a fresh array of records (rows are shared, never modified); `where` names the caller in errors. */
export function toPlotRecords(input: TableInput, where: string): PlotRecord[] {
  if (isDataFrameLike(input)) {
    const columns = input.columns;
    return input.values.map((row, i) => {
      if (!Array.isArray(row)) throw new Error(`${where}: DataFrame row ${i} is not an array of ${columns.length} values`);
      const record: PlotRecord = {};
      columns.forEach((column, i) => (record[column] = row[i] as unknown));
      return record;
    });
  }
  if (!Array.isArray(input)) {
    throw new Error(`${where}: expected an array of records or a danfojs DataFrame, got ${describe(input)}`);
  }
  input.forEach((row, i) => {
    if (row === null || typeof row !== "object" || Array.isArray(row)) {
      throw new Error(`${where}: row ${i} must be an object record, got ${describe(row)}`);
    }
  });
  return input.slice() as PlotRecord[];
}

/** Throws a clear error unless some record has `field`; `option` names the option that chose the field. */
export function requireField(records: readonly PlotRecord[], field: string, where: string, option: string): void {
  if (records.some((r) => r[field] !== undefined)) return;
  const available = [...new Set(records.flatMap((r) => Object.keys(r)))].sort();
  throw new Error(
    `${where}: field "${field}" (option ${option}) not found in the data; available fields: ` + (available.length ? available.join(", ") : "(none)"),
  );
}

/** True when some record has `field` (used for optional fields). */
export function hasField(records: readonly PlotRecord[], field: string): boolean {
  return records.some((r) => r[field] !== undefined);
}

/** The value as a finite number, or null for NaN, infinities, missing and non-numeric values. */
export function finiteOrNull(value: unknown): number | null {
  const n = typeof value === "number" ? value : typeof value === "bigint" ? Number(value) : NaN;
  return Number.isFinite(n) ? n : null;
}

/** `field` of every record as a number, NaN where missing or non-finite (the form smoothLoss expects). */
export function numericColumn(records: readonly PlotRecord[], field: string): number[] {
  return records.map((r) => finiteOrNull(r[field]) ?? NaN);
}

/** Indices of at most `maxPoints` evenly spread rows of `length` (always the first and last). */
export function thinnedIndices(length: number, maxPoints: number): number[] {
  if (!(Number.isInteger(maxPoints) && maxPoints >= 2)) {
    throw new Error(`maxPoints must be an integer >= 2, got ${maxPoints}`);
  }
  if (length <= maxPoints) return Array.from({ length }, (_, i) => i);
  const picked = new Set<number>();
  for (let k = 0; k < maxPoints; k++) picked.add(Math.round((k * (length - 1)) / (maxPoints - 1)));
  return [...picked];
}

/** Short, readable description of a bad value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === "object") return `an object with keys [${Object.keys(value).slice(0, 8).join(", ")}]`;
  return `${typeof value} ${String(value)}`;
}

/** One run's history with its label and (optional) configuration, e.g. from an experiment sweep. */
export interface LabelledRun {
  /** Run name, unique per run. */
  run: string;
  /** Hyperparameters copied onto every history record (perDeviceBatchSize, learningRate, seed, ...). */
  config?: object;
  /** The run's trainer history. */
  history: TableInput;
}

/** Several runs: one flat table with a run-name field, or a list of labelled histories. */
export type RunsInput = TableInput | readonly LabelledRun[];

/** True when `input` is a list of labelled runs rather than a flat table. */
function isLabelledRuns(input: RunsInput): input is readonly LabelledRun[] {
  return Array.isArray(input) && input.length > 0 && input.every((r) => r !== null && typeof r === "object" && "history" in r);
}

/** Flattens runs into one record table whose `runField` names each row's run. */
export function flattenRuns(input: RunsInput, runField: string, where: string): PlotRecord[] {
  if (!isLabelledRuns(input)) return toPlotRecords(input, where);
  return input.flatMap((run, i) => {
    if (typeof run.run !== "string" || run.run === "") {
      throw new Error(`${where}: run ${i} needs a non-empty string "run" name, got ${describe(run.run)}`);
    }
    return toPlotRecords(run.history, `${where} (run "${run.run}")`).map((record) => {
      const flat: PlotRecord = Object.assign({}, run.config, record);
      flat[runField] = run.run;
      return flat;
    });
  });
}
