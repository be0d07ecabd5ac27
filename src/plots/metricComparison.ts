/** Metric comparison: dev/test F1 and accuracy per configuration, one point per seed plus mean and spread. */
import { formatNumber } from "../util";
import { VegaLiteChart } from "./chart";
import { finiteOrNull, hasField, PlotRecord, requireField, TableInput, toPlotRecords } from "./records";
import { ChartEncoding, ChartLayer, ChartLayoutOptions, fieldLabel, noDataSpec, topLevel } from "./spec";

/** Options of {@link metricComparisonChart}; defaults match the experiment-results table. */
export interface MetricComparisonOptions extends ChartLayoutOptions {
  /** Metrics to compare. Default: those of devF1, testF1, devAccuracy, testAccuracy present in the data. */
  metrics?: string[];
  /** Fields that define a configuration. Default: those of perDeviceBatchSize, gradientAccumulationSteps, learningRate present. */
  configFields?: string[];
  /** Seed field (runs of one configuration differing only in seed). Default "seed". */
  seedField?: string;
  /** Spread across seeds: min–max range or mean ± std. Default "minmax". */
  spread?: "minmax" | "std";
}

const WHERE = "metricComparisonChart";
const DEFAULT_METRICS = ["devF1", "testF1", "devAccuracy", "testAccuracy"];
const DEFAULT_CONFIG_FIELDS = ["perDeviceBatchSize", "gradientAccumulationSteps", "learningRate"];
const SHORT_NAMES: Record<string, string> = {
  perDeviceBatchSize: "batch",
  gradientAccumulationSteps: "accum",
  learningRate: "lr",
  effectiveBatchSize: "B",
};

/** Compact label of one configuration, e.g. "batch 8, accum 4, lr 2e-5". */
export function configLabel(record: PlotRecord, fields: readonly string[]): string {
  return fields.map((f) => `${SHORT_NAMES[f] ?? f} ${formatValue(record[f])}`).join(", ");
}

function formatValue(value: unknown): string {
  return typeof value === "number" ? formatNumber(value, 4) : String(value);
}

/** Dev/test metrics per configuration: seeds as faint points, the mean as a dot and the spread as a bar. */
export function metricComparisonChart(results: TableInput, options: MetricComparisonOptions = {}): VegaLiteChart {
  const title = options.title ?? "Metrics per configuration";
  const seedField = options.seedField ?? "seed";
  const spread = options.spread ?? "minmax";
  if (spread !== "minmax" && spread !== "std") {
    throw new Error(`${WHERE}: option spread must be "minmax" or "std", got ${JSON.stringify(spread)}`);
  }
  const records = toPlotRecords(results, WHERE);
  if (records.length === 0) return new VegaLiteChart(noDataSpec(title, "the results table is empty", options));
  const metrics = options.metrics ?? DEFAULT_METRICS.filter((m) => hasField(records, m));
  if (metrics.length === 0) {
    requireField(records, DEFAULT_METRICS[0], WHERE, "metrics (none of the defaults devF1, testF1, devAccuracy, testAccuracy found)");
  }
  metrics.forEach((m) => requireField(records, m, WHERE, "metrics"));
  const configFields = options.configFields ?? DEFAULT_CONFIG_FIELDS.filter((f) => hasField(records, f));
  if (configFields.length === 0) {
    requireField(records, DEFAULT_CONFIG_FIELDS[0], WHERE, "configFields (none of the defaults found)");
  }
  configFields.forEach((f) => requireField(records, f, WHERE, "configFields"));

  const sorted = [...records].sort((a, b) => compareConfigs(a, b, configFields));
  const rows = sorted.flatMap((record) => {
    const config = configLabel(record, configFields);
    return metrics.flatMap((metric) => {
      const value = finiteOrNull(record[metric]);
      return value === null ? [] : [{ config, metric: fieldLabel(metric), value, seed: record[seedField] ?? null }];
    });
  });
  if (rows.length === 0) return new VegaLiteChart(noDataSpec(title, `no finite values of ${metrics.join(", ")}`, options));
  const configOrder = [...new Set(sorted.map((r) => configLabel(r, configFields)))];
  const seedsPerConfig = Math.max(...configOrder.map((c) => sorted.filter((r) => configLabel(r, configFields) === c).length));

  const y: ChartEncoding["y"] = { field: "config", type: "nominal", title: null, sort: configOrder, axis: { labelLimit: 320 } };
  const spreadLayer: ChartLayer =
    spread === "std"
      ? { mark: { type: "errorbar", extent: "stdev", ticks: true, color: "#1f5fa8" }, encoding: { y, x: { field: "value", type: "quantitative" } } }
      : {
          mark: { type: "rule", strokeWidth: 2, color: "#1f5fa8" },
          encoding: { y, x: { field: "value", aggregate: "min", type: "quantitative" }, x2: { field: "value", aggregate: "max" } },
        };
  return new VegaLiteChart(
    topLevel(
      title,
      `${configOrder.length} configurations · up to ${seedsPerConfig} seeds each · dot: mean, bar: ${spread === "std" ? "±1 std" : "min–max"}, faint: single seeds`,
      {
        data: { values: rows },
        facet: { column: { field: "metric", type: "nominal", title: null, sort: metrics.map(fieldLabel), header: { labelFontSize: 12 } } },
        resolve: { scale: { x: "independent" } },
        spec: {
          width: options.width ?? 200,
          height: options.height ?? Math.max(80, 22 * configOrder.length),
          layer: [
            {
              mark: { type: "point", opacity: 0.45, color: "#888", size: 30 },
              encoding: {
                y,
                x: { field: "value", type: "quantitative", title: null, scale: { zero: false } },
                tooltip: [
                  { field: "config", type: "nominal" },
                  { field: "seed", type: "nominal" },
                  { field: "value", type: "quantitative", format: ".4f" },
                ],
              },
            },
            spreadLayer,
            {
              mark: { type: "point", filled: true, size: 70, color: "#1f5fa8" },
              encoding: { y, x: { field: "value", aggregate: "mean", type: "quantitative" } },
            },
          ],
        },
      },
    ),
  );
}

function compareConfigs(a: PlotRecord, b: PlotRecord, fields: readonly string[]): number {
  for (const f of fields) {
    const x = a[f];
    const y = b[f];
    const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    if (order !== 0) return order;
  }
  return 0;
}
