/** Loss curve: raw step loss drawn faintly behind TensorBoard-smoothed loss, with a smoothing slider. */
import { smoothLoss } from "../train";
import { VegaLiteChart } from "./chart";
import { finiteOrNull, numericColumn, requireField, TableInput, thinnedIndices, toPlotRecords } from "./records";
import { ChartEncoding, ChartLayoutOptions, fieldLabel, noDataSpec, roundSignificant, topLevel } from "./spec";

/** Options of {@link lossCurveChart}; field names default to the Trainer's history record. */
export interface LossCurveOptions extends ChartLayoutOptions {
  /** Optimizer-step field. Default "step". */
  stepField?: string;
  /** Examples-seen field. Default "examplesSeen". */
  examplesField?: string;
  /** Loss field. Default "loss". */
  lossField?: string;
  /** X axis: optimizer steps or examples seen. Default "step". */
  x?: "step" | "examplesSeen";
  /** Initial TensorBoard smoothing weight (slider start). Must lie on the slider grid. Default 0.6. */
  smoothing?: number;
  /** Slider grid spacing: smoothed series are precomputed for 0, step, 2·step, ... up to 0.99. Default 0.03. */
  smoothingStep?: number;
  /** Most points drawn per series; smoothing always uses the full history. Default 1000. */
  maxPoints?: number;
}

const WHERE = "lossCurveChart";
const MAX_SMOOTHING = 0.99;

/** The smoothing weights precomputed for the slider: multiples of `step` from 0 to 0.99. */
export function smoothingGrid(step: number): number[] {
  if (!(step >= 0.001 && step <= 0.5)) throw new Error(`${WHERE}: smoothingStep must be in [0.001, 0.5], got ${step}`);
  const count = Math.floor(MAX_SMOOTHING / step + 1e-9);
  return Array.from({ length: count + 1 }, (_, k) => Number((k * step).toFixed(3)));
}

/** Data column holding the series smoothed with `weight` (the slider expression builds the same name). */
export function smoothedColumn(weight: number): string {
  return `ema_${Math.round(weight * 1000)}`;
}

/**
 * Raw loss (faint) and TensorBoard-smoothed loss (exactly `smoothLoss`) with a slider for the smoothing weight.
 * @example
 * ```ts
 * import { lossCurveChart, type Trainer } from "tsml";
 * declare const trainer: Trainer<unknown>;
 * lossCurveChart(trainer.history.records, { x: "examplesSeen", smoothing: 0.9 });
 * ```
 */
export function lossCurveChart(history: TableInput, options: LossCurveOptions = {}): VegaLiteChart {
  const stepField = options.stepField ?? "step";
  const xKind = options.x ?? "step";
  if (xKind !== "step" && xKind !== "examplesSeen") {
    throw new Error(`${WHERE}: option x must be "step" or "examplesSeen", got ${JSON.stringify(xKind)}`);
  }
  const xField = xKind === "step" ? stepField : (options.examplesField ?? "examplesSeen");
  const lossField = options.lossField ?? "loss";
  const step = options.smoothingStep ?? 0.03;
  const grid = smoothingGrid(step);
  const weight = options.smoothing ?? 0.6;
  if (!grid.some((w) => Math.abs(w - weight) < 1e-9)) {
    throw new Error(`${WHERE}: smoothing ${weight} is not on the slider grid (multiples of smoothingStep ${step} up to ${grid[grid.length - 1]})`);
  }
  const title = options.title ?? "Training loss";
  const records = toPlotRecords(history, WHERE);
  if (records.length === 0) return new VegaLiteChart(noDataSpec(title, "the training history is empty", options));
  requireField(records, lossField, WHERE, "lossField");
  requireField(records, xField, WHERE, xKind === "step" ? "stepField" : "examplesField");

  const ordered = records
    .map((record, i) => ({ record, i, x: finiteOrNull(record[xField]) }))
    .filter((r): r is { record: (typeof records)[number]; i: number; x: number } => r.x !== null)
    .sort((a, b) => a.x - b.x || a.i - b.i);
  const losses = numericColumn(
    ordered.map((r) => r.record),
    lossField,
  );
  const finiteCount = losses.filter(Number.isFinite).length;
  if (finiteCount === 0) {
    return new VegaLiteChart(noDataSpec(title, `none of the ${records.length} "${lossField}" / "${xField}" values is a finite number`, options));
  }
  const smoothed = grid.map((w) => smoothLoss(losses, w));
  const rows = thinnedIndices(ordered.length, options.maxPoints ?? 1000).map((i) => {
    const row: Record<string, number | null> = { x: ordered[i].x, raw: roundSignificant(finiteOrNull(losses[i])) };
    grid.forEach((w, g) => (row[smoothedColumn(w)] = roundSignificant(finiteOrNull(smoothed[g][i]))));
    return row;
  });

  const notes = [`${ordered.length} points`];
  if (rows.length < ordered.length) notes.push(`${rows.length} drawn`);
  const skipped = records.length - finiteCount;
  if (skipped > 0) notes.push(`${skipped} non-finite values skipped`);
  notes.push(`TensorBoard smoothing ${weight} (a slider changes it in the interactive chart)`);
  const xAxis: ChartEncoding["x"] = { field: "x", type: "quantitative", title: fieldLabel(xField) };
  const color: ChartEncoding["color"] = {
    field: "series",
    type: "nominal",
    scale: { domain: ["raw", "smoothed"], range: ["#9ecae1", "#1f5fa8"] },
    legend: { title: null, orient: "top-right" },
  };
  return new VegaLiteChart(
    topLevel(title, notes.join(" · "), {
      width: options.width ?? 560,
      height: options.height ?? 300,
      params: [
        {
          name: "smoothing",
          value: weight,
          bind: { input: "range", min: 0, max: grid[grid.length - 1], step, name: "smoothing " },
        },
      ],
      data: { values: rows },
      layer: [
        {
          transform: [{ calculate: "'raw'", as: "series" }],
          mark: { type: "line", strokeWidth: 1, opacity: 0.8 },
          encoding: { x: xAxis, y: { field: "raw", type: "quantitative", title: fieldLabel(lossField), scale: { zero: false } }, color },
        },
        {
          transform: [
            { calculate: `datum['ema_' + round(smoothing * 1000)]`, as: "smoothed" },
            { calculate: "'smoothed'", as: "series" },
          ],
          mark: { type: "line", strokeWidth: 2.2 },
          encoding: {
            x: xAxis,
            y: { field: "smoothed", type: "quantitative" },
            color,
            tooltip: [
              { field: "x", type: "quantitative", title: fieldLabel(xField) },
              { field: "raw", type: "quantitative", title: "raw loss", format: ".4f" },
              { field: "smoothed", type: "quantitative", title: "smoothed", format: ".4f" },
            ],
          },
        },
      ],
    }),
  );
}
