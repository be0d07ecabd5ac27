/** Run comparison: training curves of several runs, coloured by a hyperparameter, x switchable steps/examples. */
import { smoothLoss } from "../train";
import { groupBy } from "../util";
import { VegaLiteChart } from "./chart";
import { finiteOrNull, flattenRuns, hasField, numericColumn, PlotRecord, requireField, RunsInput, thinnedIndices } from "./records";
import { capitalise, ChartEncoding, ChartLayer, ChartLayoutOptions, ChartTransform, fieldLabel, noDataSpec, roundSignificant, topLevel } from "./spec";

/** Options of {@link runComparisonChart}. */
export interface RunComparisonOptions extends ChartLayoutOptions {
  /** Field naming each row's run. Default "run". */
  runField?: string;
  /** Hyperparameter that colours the runs. Default "effectiveBatchSize". */
  colorBy?: string;
  /** Metric on the y axis. Default "loss". */
  metricField?: string;
  /** Optimizer-step field. Default "step". */
  stepField?: string;
  /** Examples-seen field; when absent from the data the x axis is fixed to steps. Default "examplesSeen". */
  examplesField?: string;
  /** Initial x axis (switchable in the browser). Default "step". */
  x?: "step" | "examplesSeen";
  /** TensorBoard smoothing applied to each run's metric (0 = raw). Default 0.6. */
  smoothing?: number;
  /** Band across the runs sharing a `colorBy` value (e.g. seeds): none, min–max or mean ± std. Default "none". */
  band?: "none" | "minmax" | "std";
  /** Most steps drawn per run (the same steps for every run, so bands align). Default 500. */
  maxPoints?: number;
}

const WHERE = "runComparisonChart";

/** Overlays runs coloured by a hyperparameter, with an x-axis selector (steps / examples) and optional seed band. */
export function runComparisonChart(runs: RunsInput, options: RunComparisonOptions = {}): VegaLiteChart {
  const runField = options.runField ?? "run";
  const colorBy = options.colorBy ?? "effectiveBatchSize";
  const metric = options.metricField ?? "loss";
  const stepField = options.stepField ?? "step";
  const examplesField = options.examplesField ?? "examplesSeen";
  const smoothing = options.smoothing ?? 0.6;
  const band = options.band ?? "none";
  if (!["none", "minmax", "std"].includes(band)) {
    throw new Error(`${WHERE}: option band must be "none", "minmax" or "std", got ${JSON.stringify(band)}`);
  }
  if (options.x !== undefined && options.x !== "step" && options.x !== "examplesSeen") {
    throw new Error(`${WHERE}: option x must be "step" or "examplesSeen", got ${JSON.stringify(options.x)}`);
  }
  const title = options.title ?? `${capitalise(fieldLabel(metric))} by ${fieldLabel(colorBy)}`;
  const records = flattenRuns(runs, runField, WHERE);
  if (records.length === 0) return new VegaLiteChart(noDataSpec(title, "no runs given", options));
  for (const [field, option] of [
    [runField, "runField"],
    [colorBy, "colorBy"],
    [metric, "metricField"],
    [stepField, "stepField"],
  ]) {
    requireField(records, field, WHERE, option);
  }
  const withExamples = hasField(records, examplesField);
  if (options.x === "examplesSeen" && !withExamples) requireField(records, examplesField, WHERE, "examplesField");

  const steps = [...new Set(records.map((r) => finiteOrNull(r[stepField])).filter((s): s is number => s !== null))].sort((a, b) => a - b);
  const keptSteps = new Set(thinnedIndices(steps.length, options.maxPoints ?? 500).map((i) => steps[i]));
  const rows: PlotRecord[] = [];
  for (const [run, runRecords] of groupBy(records, (r) => String(r[runField]))) {
    const ordered = runRecords.filter((r) => finiteOrNull(r[stepField]) !== null).sort((a, b) => (a[stepField] as number) - (b[stepField] as number));
    const raw = numericColumn(ordered, metric);
    const values = smoothing > 0 ? smoothLoss(raw, smoothing) : raw;
    const group = ordered.find((r) => r[colorBy] !== undefined)?.[colorBy];
    ordered.forEach((record, i) => {
      const value = finiteOrNull(values[i]);
      const step = record[stepField] as number;
      if (value === null || !keptSteps.has(step)) return;
      rows.push({ run, group, step, examples: withExamples ? finiteOrNull(record[examplesField]) : null, value: roundSignificant(value) });
    });
  }
  if (rows.length === 0) {
    return new VegaLiteChart(noDataSpec(title, `no finite "${metric}" values in ${records.length} records`, options));
  }

  const runCount = new Set(rows.map((r) => r.run)).size;
  const switchable = withExamples;
  const initialX = options.x ?? "step";
  const xExpr = switchable ? "xAxis == 'step' ? datum.step : datum.examples" : "datum.step";
  const xTitle = switchable ? "optimizer steps or examples seen (selector below)" : fieldLabel(stepField);
  const xEncoding: ChartEncoding["x"] = { field: "x", type: "quantitative", title: xTitle };
  const yTitle = smoothing > 0 ? `${fieldLabel(metric)} (smoothed ${smoothing})` : fieldLabel(metric);
  const colorTitle = fieldLabel(colorBy);
  const color: ChartEncoding["color"] = {
    field: "group",
    type: "ordinal",
    title: colorTitle,
    scale: { scheme: { name: "viridis", extent: [0, 0.85] } },
    legend: { symbolType: "stroke", symbolOpacity: 1, symbolStrokeWidth: 3, titleLimit: 260 },
  };
  const layers = band === "none" ? [runLinesLayer(xEncoding, yTitle, color, colorTitle)] : bandLayers(band, xEncoding, yTitle, color, colorTitle);
  const subtitle =
    `${runCount} runs · colour: ${fieldLabel(colorBy)}` +
    (band === "none" ? "" : ` · mean line and ${band === "std" ? "±1 std" : "min–max"} band over runs sharing a colour`);
  const spec = topLevel(title, subtitle, {
    width: options.width ?? 560,
    height: options.height ?? 320,
    data: { values: rows },
    transform: [{ calculate: xExpr, as: "x" }],
    layer: layers,
  });
  if (switchable) {
    spec.params = [
      {
        name: "xAxis",
        value: initialX === "examplesSeen" ? "examples" : "step",
        bind: { input: "select", options: ["step", "examples"], labels: ["optimizer steps", "examples seen"], name: "x axis " },
      },
    ];
  }
  return new VegaLiteChart(spec);
}

function runLinesLayer(x: ChartEncoding["x"], yTitle: string, color: ChartEncoding["color"], colorTitle: string): ChartLayer {
  return {
    mark: { type: "line", strokeWidth: 1.6, opacity: 0.9 },
    encoding: {
      x,
      y: { field: "value", type: "quantitative", title: yTitle, scale: { zero: false } },
      color,
      detail: { field: "run", type: "nominal" },
      tooltip: [
        { field: "run", type: "nominal" },
        { field: "group", type: "ordinal", title: colorTitle },
        { field: "step", type: "quantitative", title: "step" },
        { field: "value", type: "quantitative", title: yTitle, format: ".4f" },
      ],
    },
  };
}

function bandLayers(band: "minmax" | "std", x: ChartEncoding["x"], yTitle: string, color: ChartEncoding["color"], colorTitle: string): ChartLayer[] {
  const spread: ChartTransform[] =
    band === "std"
      ? [
          { calculate: "datum.mean - (isValid(datum.std) ? datum.std : 0)", as: "lower" },
          { calculate: "datum.mean + (isValid(datum.std) ? datum.std : 0)", as: "upper" },
        ]
      : [
          { calculate: "datum.min", as: "lower" },
          { calculate: "datum.max", as: "upper" },
        ];
  const aggregate: ChartTransform = {
    aggregate: [
      { op: "mean", field: "value", as: "mean" },
      { op: "stdev", field: "value", as: "std" },
      { op: "min", field: "value", as: "min" },
      { op: "max", field: "value", as: "max" },
      { op: "count", as: "runs" },
    ],
    groupby: ["group", "x"],
  };
  return [
    {
      transform: [aggregate, ...spread],
      mark: { type: "area", opacity: 0.22 },
      encoding: { x, y: { field: "lower", type: "quantitative", title: yTitle, scale: { zero: false } }, y2: { field: "upper" }, color },
    },
    {
      transform: [aggregate],
      mark: { type: "line", strokeWidth: 2 },
      encoding: {
        x,
        y: { field: "mean", type: "quantitative" },
        color,
        tooltip: [
          { field: "group", type: "ordinal", title: colorTitle },
          { field: "mean", type: "quantitative", format: ".4f" },
          { field: "runs", type: "quantitative", title: "runs" },
        ],
      },
    },
  ];
}
