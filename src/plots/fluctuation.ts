/**
 * Loss fluctuation vs effective batch size, against the c/sqrt(B) law of averaging B independent gradients, with
 * the mean per batch size and its 95% t-interval over the runs (seeds) of that size as error bars.
 */
import { fitSqrtLaw, tInterval } from "../stats";
import { VegaLiteChart } from "./chart";
import { finiteOrNull, requireField, TableInput, toPlotRecords } from "./records";
import { ChartEncoding, ChartLayoutOptions, fieldLabel, noDataSpec, roundSignificant, topLevel } from "./spec";

/** Options of {@link fluctuationChart}. */
export interface FluctuationOptions extends ChartLayoutOptions {
  /** Effective batch size field. Default "effectiveBatchSize". */
  batchField?: string;
  /** Fluctuation measure, e.g. "lossStd" or "lossCv". Default "lossStd". */
  fluctuationField?: string;
}

const WHERE = "fluctuationChart";

/** Per-run loss fluctuation vs effective batch size on log–log axes, with the mean and 95% interval per size and a c/√B reference. */
export function fluctuationChart(results: TableInput, options: FluctuationOptions = {}): VegaLiteChart {
  const batchField = options.batchField ?? "effectiveBatchSize";
  const yField = options.fluctuationField ?? "lossStd";
  const title = options.title ?? `Loss fluctuation vs ${fieldLabel(batchField)}`;
  const records = toPlotRecords(results, WHERE);
  if (records.length === 0) return new VegaLiteChart(noDataSpec(title, "the results table is empty", options));
  requireField(records, batchField, WHERE, "batchField");
  requireField(records, yField, WHERE, "fluctuationField");
  const points = records
    .map((r) => ({ batch: finiteOrNull(r[batchField]), value: finiteOrNull(r[yField]) }))
    .filter((p): p is { batch: number; value: number } => p.batch !== null && p.value !== null && p.batch > 0 && p.value > 0);
  if (points.length === 0) {
    return new VegaLiteChart(noDataSpec(title, `no run has a positive finite "${batchField}" and "${yField}"`, options));
  }
  const fit = fitSqrtLaw(points);
  const low = Math.min(...points.map((p) => p.batch));
  const high = Math.max(...points.map((p) => p.batch));
  const reference = Array.from({ length: 40 }, (_, i) => {
    const batch = low === high ? low * Math.pow(2, i / 39 - 0.5) : low * Math.pow(high / low, i / 39);
    return { batch: roundSignificant(batch), value: roundSignificant(fit.c / Math.sqrt(batch)) };
  });
  // Mean and 95% t-interval per batch size; on the log axis a lower end at or below 0 is drawn at a floor.
  const floor = Math.min(...points.map((p) => p.value)) / 10;
  const batches = [...new Set(points.map((p) => p.batch))].sort((a, b) => a - b);
  const intervals = batches.map((batch) => {
    const ci = tInterval(points.filter((p) => p.batch === batch).map((p) => p.value));
    return {
      batch,
      value: roundSignificant(ci.mean),
      low: Number.isFinite(ci.low) ? roundSignificant(Math.max(ci.low, floor)) : null,
      high: Number.isFinite(ci.high) ? roundSignificant(ci.high) : null,
      runs: ci.n,
    };
  });
  const withBars = intervals.filter((i) => i.low !== null && i.high !== null);
  const notes = [`${points.length} runs`, `reference c/√B with c = ${roundSignificant(fit.c, 3)} (least squares, slope fixed at −0.5)`];
  if (withBars.length > 0) notes.push("bars: 95% t-interval of the mean over the runs of each size");
  if (Number.isFinite(fit.slope)) notes.push(`observed slope ${fit.slope.toFixed(2)}`);
  if (points.length < records.length) notes.push(`${records.length - points.length} runs without positive values skipped`);
  const x = {
    field: "batch",
    type: "quantitative",
    title: fieldLabel(batchField),
    scale: { type: "log", base: 2, nice: false, padding: 12 },
    axis: { values: [...new Set(points.map((p) => p.batch))] },
  } satisfies ChartEncoding["x"];
  const y = { field: "value", type: "quantitative", title: fieldLabel(yField), scale: { type: "log", nice: false, padding: 12 } } satisfies ChartEncoding["y"];
  const color = {
    field: "series",
    type: "nominal",
    title: null,
    scale: { domain: ["single runs", "mean per batch size (95% CI)", "c / √B reference"], range: ["#9a9a9a", "#1f5fa8", "#e4572e"] },
    legend: { orient: "top-right" },
  } satisfies ChartEncoding["color"];
  return new VegaLiteChart(
    topLevel(title, [notes.slice(0, 1).concat(notes.slice(2)).join(" · "), notes[1]], {
      width: options.width ?? 480,
      height: options.height ?? 320,
      layer: [
        {
          data: { values: reference },
          transform: [{ calculate: "'c / √B reference'", as: "series" }],
          mark: { type: "line", strokeDash: [6, 4], strokeWidth: 1.8 },
          encoding: { x, y, color },
        },
        {
          data: { values: points },
          transform: [{ calculate: "'single runs'", as: "series" }],
          mark: { type: "point", opacity: 0.7, size: 40 },
          encoding: {
            x,
            y,
            color,
            tooltip: [
              { field: "batch", type: "quantitative", title: fieldLabel(batchField) },
              { field: "value", type: "quantitative", title: fieldLabel(yField), format: ".4g" },
            ],
          },
        },
        {
          data: { values: withBars },
          transform: [{ calculate: "'mean per batch size (95% CI)'", as: "series" }],
          mark: { type: "rule", strokeWidth: 2 },
          encoding: { x, y: { ...y, field: "low" }, y2: { field: "high" }, color },
        },
        {
          data: { values: intervals },
          transform: [{ calculate: "'mean per batch size (95% CI)'", as: "series" }],
          mark: { type: "line", point: true, strokeWidth: 2 },
          encoding: {
            x,
            y,
            color,
            order: { field: "batch", type: "quantitative" },
            tooltip: [
              { field: "batch", type: "quantitative", title: fieldLabel(batchField) },
              { field: "value", type: "quantitative", title: `mean ${fieldLabel(yField)}`, format: ".4g" },
              { field: "low", type: "quantitative", title: "95% CI low", format: ".4g" },
              { field: "high", type: "quantitative", title: "95% CI high", format: ".4g" },
              { field: "runs", type: "quantitative", title: "runs" },
            ],
          },
        },
      ],
    }),
  );
}
