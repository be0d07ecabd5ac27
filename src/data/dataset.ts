/**
 * Labelled text datasets: loading (CSV, JSONL, folder per label), validation with row numbers, label ids with
 * the mapping kept, and a danfojs-node DataFrame view.
 */
import * as fs from "fs";
import { frameFromColumns, type DataFrame } from "./danfo";
import { quoteForMessage, RawRecord, RawTable, readCsv, readJsonl, readLabelFolders } from "./readers";

/** One invalid row: where it is and what is wrong. */
export interface DataIssue {
  /** 1-based record number in the source (header excluded). */
  row: number;
  /** "line 12" or a file path. */
  location: string;
  problem: string;
}

/** Thrown when a dataset has invalid rows (and `dropInvalid` is off) or is unusable as a whole. */
export class DataValidationError extends Error {
  constructor(
    readonly source: string,
    readonly issues: DataIssue[],
    summary?: string,
  ) {
    const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}...` : text);
    const shown = issues
      .slice(0, 10)
      .map((i) => `\n  row ${i.row} (${i.location}): ${clip(i.problem, 300)}`)
      .join("");
    const more = issues.length > 10 ? `\n  ... and ${issues.length - 10} more` : "";
    super(`${source}: ${clip(summary ?? `${issues.length} invalid row${issues.length === 1 ? "" : "s"}`, 1000)}${shown}${more}`);
    this.name = "DataValidationError";
  }
}

/** Options of `loadTextDataset` / `textDatasetFromRecords`. */
export interface TextDatasetOptions {
  /** Column holding the document text (default "text"). */
  textColumn?: string;
  /** Column holding the label (default "label"); labels may be strings or integers. */
  labelColumn?: string;
  /** Column with unique ids (default: none, ids are row numbers; folders use the file path). */
  idColumn?: string;
  /**
   * The label set, in id order (e.g. ["ham", "spam"] or [0, 1]; a training set's `labelNames` for its dev and test
   * files); other labels are invalid rows. Without it the mapping comes from the labels present, sorted.
   */
  labels?: Array<string | number>;
  /** Number of classes the task expects (e.g. 2 for binary): the length of `labels`, or else the distinct labels present. */
  numClasses?: number;
  /** Drop invalid rows instead of throwing; they are listed in `dataset.dropped`. */
  dropInvalid?: boolean;
  /** File format; default from the extension (.csv, .tsv, .jsonl/.ndjson) or "folders" for a directory. */
  format?: "csv" | "tsv" | "jsonl" | "folders";
}

/** Documents with integer label ids, the id -> label name mapping, and what was dropped. */
export class TextDataset {
  private cachedFrame: DataFrame | undefined;

  constructor(
    readonly source: string,
    readonly ids: string[],
    readonly texts: string[],
    /** Label id per document (index into `labelNames`). */
    readonly labels: number[],
    /** Label name (as written in the source) of each id. */
    readonly labelNames: string[],
    /** Where each document came from ("line 12", a file path). */
    readonly locations: string[],
    /** Rows removed by `dropInvalid`, with the reason. */
    readonly dropped: DataIssue[] = [],
  ) {}

  /** Number of documents. */
  get size(): number {
    return this.texts.length;
  }

  /** The documents as a danfojs-node DataFrame: id, text, label (name), labelId, location (built on first use). */
  get frame(): DataFrame {
    this.cachedFrame ??= frameFromColumns({
      id: this.ids,
      text: this.texts,
      label: this.labels.map((l) => this.labelNames[l]),
      labelId: this.labels,
      location: this.locations,
    });
    return this.cachedFrame;
  }

  /** Documents per label id. */
  classCounts(): number[] {
    const counts = this.labelNames.map(() => 0);
    for (const l of this.labels) counts[l]++;
    return counts;
  }

  /** A dataset of the given rows (in that order), same label mapping. */
  subset(indices: number[]): TextDataset {
    for (const i of indices) {
      if (!Number.isInteger(i) || i < 0 || i >= this.size) throw new Error(`subset: index ${i} is outside 0..${this.size - 1}`);
    }
    const pick = <T>(xs: T[]) => indices.map((i) => xs[i]);
    return new TextDataset(this.source, pick(this.ids), pick(this.texts), pick(this.labels), this.labelNames, pick(this.locations));
  }
}

/** Label texts that mean "no value" (pandas' default NA strings): a label like "NaN" is missing, not a class. */
const MISSING_LABELS = new Set([
  "",
  "#N/A",
  "#N/A N/A",
  "#NA",
  "-1.#IND",
  "-1.#QNAN",
  "-NaN",
  "-nan",
  "1.#IND",
  "1.#QNAN",
  "<NA>",
  "N/A",
  "NA",
  "NULL",
  "NaN",
  "None",
  "n/a",
  "nan",
  "null",
]);

const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A label read from a source: its key (integers in canonical form: "1.0" and 1 are "1") and kind, or a problem. */
type ParsedLabel = { key: string; kind: "integer" | "name" } | { problem: string };

function parseLabel(value: unknown, column: string): ParsedLabel {
  if (value === undefined || value === null) return { problem: `${column} is missing` };
  if (typeof value === "number") {
    return Number.isInteger(value) ? { key: String(value), kind: "integer" } : { problem: `${column} is ${value}, expected a string or an integer` };
  }
  if (typeof value !== "string") return { problem: `${column} is ${quoteForMessage(value)}, expected a string or an integer` };
  const text = value.trim();
  if (MISSING_LABELS.has(text)) return { problem: text === "" ? `${column} is missing` : `${column} is ${quoteForMessage(text)}, a missing value` };
  if (NUMBER_TEXT.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n)
      ? { key: String(n), kind: "integer" }
      : { problem: `${column} is ${quoteForMessage(text)}, a number that is not an integer class id` };
  }
  return { key: text, kind: "name" };
}

/** An id value as text, or undefined when it is not a non-empty string or an integer. */
function idKey(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isInteger(value)) return String(value);
  if (typeof value === "string" && value.trim() !== "") return value.trim();
  return undefined;
}

/** Sorted label names: numerically when all are integers, else by string. */
function sortLabels(keys: Iterable<string>): string[] {
  const all = [...new Set(keys)];
  const numeric = all.every((k) => /^-?\d+$/.test(k));
  return numeric ? all.sort((a, b) => Number(a) - Number(b)) : all.sort();
}

/** Validates raw records and maps labels to ids (see `TextDatasetOptions`). */
export function textDatasetFromRecords(table: RawTable, options: TextDatasetOptions = {}): TextDataset {
  const textColumn = options.textColumn ?? "text";
  const labelColumn = options.labelColumn ?? "label";
  const idColumn = options.idColumn;
  const required = [textColumn, labelColumn, ...(idColumn ? [idColumn] : [])];
  const missing = required.filter((c) => !table.columns.includes(c));
  if (missing.length > 0) {
    const shown =
      table.columns
        .slice(0, 20)
        .map((c) => quoteForMessage(c))
        .join(", ") + (table.columns.length > 20 ? `, ... (${table.columns.length} in all)` : "");
    throw new DataValidationError(
      table.source,
      [],
      `missing column${missing.length > 1 ? "s" : ""} ${missing.map((c) => quoteForMessage(c)).join(", ")}; the columns are ${shown || "(none)"}`,
    );
  }
  const expected = options.labels?.map((l) => {
    const parsed = parseLabel(l, "label");
    if ("problem" in parsed) throw new Error(`options.labels: ${quoteForMessage(l)} is not a string or integer label`);
    return parsed.key;
  });
  const firstOfKind: Record<"integer" | "name", { label: string; where: string } | undefined> = { integer: undefined, name: undefined };
  const issues: DataIssue[] = [];
  const firstSeen = new Map<string, string>();
  const valid: Array<{ record: RawRecord; id: string; text: string; label: string }> = [];
  for (const record of table.records) {
    const problems: string[] = record.problem ? [record.problem] : [];
    // Own fields only: a column named "__proto__" (or a row without it) must not read Object.prototype.
    const value = (column: string): unknown => (Object.hasOwn(record.values, column) ? record.values[column] : undefined);
    const text = value(textColumn);
    if (typeof text !== "string") problems.push(`${textColumn} is ${text === undefined ? "missing" : quoteForMessage(text)}, expected a string`);
    else if (text.trim() === "") problems.push(`${textColumn} is empty`);
    const parsed = parseLabel(value(labelColumn), labelColumn);
    const label = "problem" in parsed ? undefined : parsed.key;
    if ("problem" in parsed) problems.push(parsed.problem);
    else if (expected && !expected.includes(parsed.key)) {
      problems.push(
        `${labelColumn} ${quoteForMessage(value(labelColumn))} is not one of the expected labels ${expected.map((l) => quoteForMessage(l)).join(", ")}`,
      );
    } else firstOfKind[parsed.kind] ??= { label: parsed.key, where: `row ${record.row} (${record.location})` };
    const id = idColumn ? idKey(value(idColumn)) : String(record.row);
    if (id === undefined) problems.push(`${idColumn} is ${quoteForMessage(value(idColumn!))}, expected a non-empty id`);
    else if (firstSeen.has(id)) problems.push(`${idColumn} ${quoteForMessage(id)} duplicates ${firstSeen.get(id)}`);
    else firstSeen.set(id, `row ${record.row} (${record.location})`);
    if (problems.length > 0) issues.push({ row: record.row, location: record.location, problem: problems.join("; ") });
    else valid.push({ record, id: id!, text: text as string, label: label! });
  }
  if (issues.length > 0 && !options.dropInvalid) throw new DataValidationError(table.source, issues);
  if (valid.length === 0) throw new DataValidationError(table.source, issues, "no valid rows");
  const { integer, name } = firstOfKind;
  if (!expected && integer && name) {
    throw new DataValidationError(
      table.source,
      [],
      `${labelColumn} mixes integer class ids (${quoteForMessage(integer.label)} at ${integer.where}) and label names (${quoteForMessage(name.label)} at ${name.where}); use one kind of label`,
    );
  }
  const labelNames = expected ?? sortLabels(valid.map((v) => v.label));
  const present = new Set(valid.map((v) => v.label));
  const classes = expected ? expected.length : present.size;
  if (options.numClasses !== undefined && classes !== options.numClasses) {
    const found = expected ? `${expected.length} labels were given` : `found ${present.size}`;
    throw new DataValidationError(
      table.source,
      [],
      `expected ${options.numClasses} distinct labels, ${found}: ${sortLabels(expected ?? present)
        .map((l) => quoteForMessage(l))
        .join(", ")}`,
    );
  }
  const idOf = new Map(labelNames.map((l, i) => [l, i] as [string, number]));
  return new TextDataset(
    table.source,
    valid.map((v) => v.id),
    valid.map((v) => v.text),
    valid.map((v) => idOf.get(v.label)!),
    labelNames,
    valid.map((v) => v.record.location),
    issues,
  );
}

/** Loads labelled documents from a CSV/TSV/JSONL file or a folder per label, validating every row. */
export function loadTextDataset(location: string, options: TextDatasetOptions = {}): TextDataset {
  if (!fs.existsSync(location)) throw new Error(`${location}: no such file or folder`);
  const format = options.format ?? (fs.statSync(location).isDirectory() ? "folders" : formatFromName(location));
  const table =
    format === "folders"
      ? readLabelFolders(location, options.textColumn ?? "text", options.labelColumn ?? "label", options.idColumn ?? "id")
      : format === "jsonl"
        ? readJsonl(location)
        : readCsv(location, format === "tsv" ? "\t" : ",");
  return textDatasetFromRecords(table, format === "folders" ? { ...options, idColumn: options.idColumn ?? "id" } : options);
}

/** Files of one data set: the training file and, optionally, dev and test files. */
export interface DatasetFiles {
  train: string;
  dev?: string;
  test?: string;
}

/** The splits of one data set, sharing the training set's label mapping. */
export interface LoadedSplits {
  train: TextDataset;
  dev?: TextDataset;
  test?: TextDataset;
}

/**
 * Loads the files of one data set with ONE label mapping: the training file's (or `options.labels`). Dev and test
 * reuse it, so a dev file holding only "spam" still maps spam to spam's training id; a label the training file
 * does not have is an error naming the file, row and value. `numClasses` is checked on the training file.
 */
export function loadTextDatasets(files: DatasetFiles, options: TextDatasetOptions = {}): LoadedSplits {
  const train = loadTextDataset(files.train, options);
  const shared: TextDatasetOptions = { ...options, labels: train.labelNames, numClasses: undefined };
  return {
    train,
    dev: files.dev === undefined ? undefined : loadTextDataset(files.dev, shared),
    test: files.test === undefined ? undefined : loadTextDataset(files.test, shared),
  };
}

function formatFromName(file: string): "csv" | "tsv" | "jsonl" {
  const lower = file.toLowerCase();
  if (lower.endsWith(".csv")) return "csv";
  if (lower.endsWith(".tsv")) return "tsv";
  if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson")) return "jsonl";
  throw new Error(`${file}: cannot tell the format from the extension; pass format "csv", "tsv", "jsonl" or "folders"`);
}
