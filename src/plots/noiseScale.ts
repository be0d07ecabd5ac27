/** Gradient noise scale (McCandlish et al. 2018) over training, against each run's effective batch size. */
import { VegaLiteChart } from "./chart";
import { groupBy } from "../util";
import { finiteOrNull, flattenRuns, hasField, PlotRecord, requireField, RunsInput } from "./records";
import { ChartEncoding, ChartLayoutOptions, fieldLabel, noDataSpec, roundSignificant, topLevel } from "./spec";

/** Options of {@link noiseScaleChart}. */
export interface NoiseScaleOptions extends ChartLayoutOptions {
  /** Noise-scale field. Default "noiseScale". */
  noiseField?: string;
  /** X field. Default "step". */
  stepField?: string;
  /** Run-name field (optional: a single history is one run). Default "run". */
  runField?: string;
  /** Effective batch size field, read per run. Default "effectiveBatchSize". */
  batchField?: string;
  /** Examples-seen field: without a batch-size field, B is inferred as the median Δexamples/Δstep. Default "examplesSeen". */
  examplesField?: string;
  /** Effective batch size for every run, overriding `batchField`. */
  effectiveBatchSize?: number;
}

const WHERE = "noiseScaleChart";

/** The effective batch size implied by a run's records: the median of Δexamples / Δsteps between records. */
export function inferBatchSize(records: readonly PlotRecord[], stepField: string, examplesField: string): number | undefined {
  const points = records
    .map((r) => [finiteOrNull(r[stepField]), finiteOrNull(r[examplesField])] as const)
    .filter((p): p is readonly [number, number] => p[0] !== null && p[1] !== null)
    .sort((a, b) => a[0] - b[0]);
  const ratios = points
    .slice(1)
    .map(([step, examples], i) => (examples - points[i][1]) / (step - points[i][0]))
    .filter((r) => Number.isFinite(r) && r > 0)
    .sort((a, b) => a - b);
  return ratios.length ? ratios[Math.floor(ratios.length / 2)] : undefined;
}

/** Noise scale per logged step (log scale) with each run's effective batch size as a dashed rule. */
export function noiseScaleChart(history: RunsInput, options: NoiseScaleOptions = {}): VegaLiteChart {
  const noiseField = options.noiseField ?? "noiseScale";
  const stepField = options.stepField ?? "step";
  const runField = options.runField ?? "run";
  const batchField = options.batchField ?? "effectiveBatchSize";
  const title = options.title ?? "Gradient noise scale vs effective batch size";
  if (options.effectiveBatchSize !== undefined && !(options.effectiveBatchSize > 0)) {
    throw new Error(`${WHERE}: option effectiveBatchSize must be a positive number, got ${options.effectiveBatchSize}`);
  }
  const records = flattenRuns(history, runField, WHERE);
  if (records.length === 0) return new VegaLiteChart(noDataSpec(title, "the training history is empty", options));
  requireField(records, noiseField, WHERE, "noiseField");
  requireField(records, stepField, WHERE, "stepField");
  const examplesField = options.examplesField ?? "examplesSeen";
  if (options.effectiveBatchSize === undefined && !hasField(records, batchField) && !hasField(records, examplesField)) {
    requireField(records, batchField, WHERE, `batchField (or give "${examplesField}" per record, or the effectiveBatchSize option)`);
  }
  const byRun = hasField(records, runField) ? groupBy(records, (r) => String(r[runField])) : new Map([["run", records]]);
  const noise: PlotRecord[] = [];
  const batches: PlotRecord[] = [];
  for (const [run, rows] of byRun) {
    for (const r of rows) {
      const step = finiteOrNull(r[stepField]);
      const value = finiteOrNull(r[noiseField]);
      if (step !== null && value !== null && value > 0) noise.push({ run, step, noiseScale: roundSignificant(value) });
    }
    const batch =
      options.effectiveBatchSize ??
      rows.map((r) => finiteOrNull(r[batchField])).find((b): b is number => b !== null && b > 0) ??
      inferBatchSize(rows, stepField, examplesField);
    if (batch !== undefined) batches.push({ run, batch });
  }
  if (noise.length === 0) {
    return new VegaLiteChart(noDataSpec(title, `no positive finite "${noiseField}" values in ${records.length} records`, options));
  }
  const runs = byRun.size;
  const color: ChartEncoding["color"] = runs > 1 ? { field: "run", type: "nominal", title: "run", sort: [...byRun.keys()] } : { value: "#1f5fa8" };
  const dash: ChartEncoding["strokeDash"] = {
    field: "quantity",
    type: "nominal",
    title: null,
    scale: {
      domain: ["noise scale B_noise", "effective batch size B"],
      range: [
        [1, 0],
        [6, 4],
      ],
    },
    legend: { symbolType: "stroke", symbolStrokeColor: "#333", symbolStrokeWidth: 2 },
  };
  const y = { type: "quantitative", scale: { type: "log" }, title: "batch size (examples)" } as const;
  return new VegaLiteChart(
    topLevel(title, ["B well below B_noise: larger batches still cut steps almost linearly", "B above B_noise: diminishing returns per example"], {
      width: options.width ?? 560,
      height: options.height ?? 300,
      layer: [
        {
          data: { values: noise },
          transform: [{ calculate: "'noise scale B_noise'", as: "quantity" }],
          mark: { type: "line", strokeWidth: 1.8 },
          encoding: {
            x: { field: "step", type: "quantitative", title: fieldLabel(stepField) },
            y: { ...y, field: "noiseScale" },
            color,
            strokeDash: dash,
            tooltip: [
              { field: "run", type: "nominal" },
              { field: "step", type: "quantitative" },
              { field: "noiseScale", type: "quantitative", format: ".4g", title: "noise scale" },
            ],
          },
        },
        {
          data: { values: batches },
          transform: [{ calculate: "'effective batch size B'", as: "quantity" }],
          mark: { type: "rule", strokeWidth: 1.6 },
          encoding: { y: { ...y, field: "batch" }, color, strokeDash: dash },
        },
      ],
    }),
  );
}
