/** Token-length histogram with the max-length cut marked and the truncated share reported. */
import { requirePositiveInteger } from "../util";
import { VegaLiteChart } from "./chart";
import { describe, finiteOrNull, requireField, TableInput, toPlotRecords } from "./records";
import { ChartLayer, ChartLayoutOptions, noDataSpec, topLevel } from "./spec";

/** Options of {@link lengthHistogramChart}. */
export interface LengthHistogramOptions extends ChartLayoutOptions {
  /** The tokenizer's max length: sequences above it are truncated. Optional. */
  maxLength?: number;
  /** Length field when the input is a table. Default "length". */
  lengthField?: string;
  /** Approximate number of bins. Default 40. */
  maxBins?: number;
}

const WHERE = "lengthHistogramChart";

/** A "nice" bin width (1, 2 or 5 times a power of ten, at least 1 token) giving about `maxBins` bins. */
export function niceBinWidth(span: number, maxBins: number): number {
  const raw = Math.max(1, span / maxBins);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const width = [1, 2, 5, 10].map((m) => m * power).find((w) => w >= raw) as number;
  return Math.max(1, width);
}

/** Histogram of sequence lengths (precomputed bins, so large corpora stay small) with the max-length cut. */
export function lengthHistogramChart(lengths: readonly number[] | TableInput, options: LengthHistogramOptions = {}): VegaLiteChart {
  const title = options.title ?? "Token lengths";
  const field = options.lengthField ?? "length";
  const maxLength = options.maxLength;
  if (maxLength !== undefined && !(Number.isFinite(maxLength) && maxLength > 0)) {
    throw new Error(`${WHERE}: option maxLength must be a positive number, got ${maxLength}`);
  }
  const maxBins = options.maxBins ?? 40;
  requirePositiveInteger(maxBins, `${WHERE}: option maxBins`);
  let values: unknown[];
  if (Array.isArray(lengths) && lengths.every((v) => typeof v !== "object" || v === null)) {
    values = lengths as unknown[];
  } else {
    const records = toPlotRecords(lengths as TableInput, WHERE);
    if (records.length > 0) requireField(records, field, WHERE, "lengthField");
    values = records.map((r) => r[field]);
  }
  const bad = values.findIndex((v) => finiteOrNull(v) === null || (v as number) < 0);
  if (bad >= 0) throw new Error(`${WHERE}: length ${bad} must be a finite number >= 0, got ${describe(values[bad])}`);
  const numbers = values as number[];
  if (numbers.length === 0) return new VegaLiteChart(noDataSpec(title, "no lengths given", options));

  const low = Math.min(...numbers);
  const high = Math.max(...numbers);
  const width = niceBinWidth(Math.max(high, maxLength ?? 0) - low, maxBins);
  const anchor = maxLength ?? 0;
  const first = anchor - Math.ceil((anchor - low) / width) * width;
  const counts = new Map<number, number>();
  for (const n of numbers) {
    const start = first + Math.floor((n - first) / width) * width;
    counts.set(start, (counts.get(start) ?? 0) + 1);
  }
  const bins = [...counts.entries()]
    .sort((a, b) => a[0] - b[0])
    // Bins are aligned on the cut, so the first may begin below 0: it is drawn from 0 (lengths are never negative).
    .map(([start, count]) => ({
      start: Math.max(0, start),
      end: start + width,
      count,
      part: maxLength !== undefined && start >= maxLength ? "truncated" : "kept",
    }));
  const truncated = maxLength === undefined ? 0 : numbers.filter((n) => n > maxLength).length;
  const sorted = [...numbers].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  const notes = [`${numbers.length} sequences`, `median ${median}`, `max ${high}`];
  if (maxLength !== undefined) notes.push(`${truncated} (${((100 * truncated) / numbers.length).toFixed(1)}%) longer than ${maxLength} get truncated`);

  const layers: ChartLayer[] = [
    {
      data: { values: bins },
      mark: { type: "bar", binSpacing: 1 },
      encoding: {
        x: { field: "start", type: "quantitative", title: "tokens per sequence", bin: { binned: true, step: width }, scale: { domainMin: 0 } },
        x2: { field: "end" },
        y: { field: "count", type: "quantitative", title: "sequences" },
        color: {
          field: "part",
          type: "nominal",
          title: null,
          scale: { domain: ["kept", "truncated"], range: ["#4c78a8", "#e4572e"] },
          legend: maxLength === undefined ? null : {},
        },
        tooltip: [
          { field: "start", type: "quantitative", title: "from" },
          { field: "end", type: "quantitative", title: "to" },
          { field: "count", type: "quantitative" },
        ],
      },
    },
  ];
  if (maxLength !== undefined) {
    const cut = [{ maxLength, label: `max length ${maxLength}` }];
    layers.push(
      {
        data: { values: cut },
        mark: { type: "rule", color: "#222", strokeWidth: 1.5, strokeDash: [5, 3] },
        encoding: { x: { field: "maxLength", type: "quantitative" } },
      },
      {
        data: { values: cut },
        mark: { type: "text", align: "left", dx: 4, dy: 4, baseline: "top", color: "#222", fontSize: 11, y: 0 },
        encoding: { x: { field: "maxLength", type: "quantitative" }, text: { field: "label", type: "nominal" } },
      },
    );
  }
  return new VegaLiteChart(topLevel(title, notes.join(" · "), { width: options.width ?? 520, height: options.height ?? 260, layer: layers }));
}
