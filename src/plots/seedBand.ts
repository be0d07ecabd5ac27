/**
 * Training curves grouped by a configuration (e.g. effective batch): one line per group, the mean over seeds, with
 * a shaded 95% band, coloured with a categorical scheme so that every group is told apart.
 */
import { VegaLiteChart } from "./chart";
import { ChartEncoding, ChartLayoutOptions, noDataSpec, roundSignificant, topLevel } from "./spec";

/** One point of one group's curve: x, the mean over seeds and its interval. */
export interface SeedBandPoint {
  group: string;
  x: number;
  mean: number;
  low: number;
  high: number;
}

/** Options of {@link seedBandChart}. */
export interface SeedBandOptions extends ChartLayoutOptions {
  /** Axis titles. */
  xTitle: string;
  yTitle: string;
  /** Legend title. Default "configuration". */
  groupTitle?: string;
  /** Subtitle (what the band is). */
  subtitle?: string;
  /** Log-scale y axis (for a positive quantity such as a loss). Default false. */
  logY?: boolean;
}

/** Mean curve per group with its 95% band over seeds (clipped to the axis), categorical colours (Tableau 10), groups in the order given. */
export function seedBandChart(points: readonly SeedBandPoint[], options: SeedBandOptions): VegaLiteChart {
  const title = options.title ?? `${options.yTitle} by ${options.groupTitle ?? "configuration"}`;
  const rows = points
    .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.mean))
    .map((p) => ({
      group: p.group,
      x: roundSignificant(p.x),
      mean: roundSignificant(p.mean),
      low: Number.isFinite(p.low) ? roundSignificant(p.low) : null,
      high: Number.isFinite(p.high) ? roundSignificant(p.high) : null,
    }));
  if (rows.length === 0) return new VegaLiteChart(noDataSpec(title, "no curve has finite values", options));
  const groups = [...new Set(rows.map((r) => r.group))];
  const x = { field: "x", type: "quantitative", title: options.xTitle } satisfies ChartEncoding["x"];
  // The axis follows the means; a band wider than that (few seeds: t = 12.7 for two) is clipped at the plot's edge.
  const means = rows.map((r) => r.mean!).filter((v) => !options.logY || v > 0);
  const [lo, hi] = [Math.min(...means), Math.max(...means)];
  const domain = options.logY ? [lo / 2, hi * 2] : [lo - (hi - lo) * 0.5, hi + (hi - lo) * 0.5];
  const y = {
    field: "mean",
    type: "quantitative",
    title: options.yTitle,
    scale: { ...(options.logY ? { type: "log" as const } : { zero: false }), domain, clamp: true },
  } satisfies ChartEncoding["y"];
  const color = {
    field: "group",
    type: "nominal",
    title: options.groupTitle ?? "configuration",
    sort: groups,
    scale: { domain: groups, scheme: "tableau10" },
    legend: { symbolType: "stroke", symbolStrokeWidth: 3, symbolOpacity: 1 },
  } satisfies ChartEncoding["color"];
  return new VegaLiteChart(
    topLevel(title, options.subtitle, {
      width: options.width ?? 560,
      height: options.height ?? 300,
      data: { values: rows },
      layer: [
        {
          transform: [{ filter: "datum.low != null && datum.high != null" }],
          mark: { type: "area", opacity: 0.18 },
          encoding: { x, y: { ...y, field: "low" }, y2: { field: "high" }, color },
        },
        {
          mark: { type: "line", strokeWidth: 2 },
          encoding: {
            x,
            y,
            color,
            tooltip: [
              { field: "group", type: "nominal", title: options.groupTitle ?? "configuration" },
              { field: "x", type: "quantitative", title: options.xTitle },
              { field: "mean", type: "quantitative", title: "mean", format: ".4g" },
              { field: "low", type: "quantitative", title: "95% low", format: ".4g" },
              { field: "high", type: "quantitative", title: "95% high", format: ".4g" },
            ],
          },
        },
      ],
    }),
  );
}
