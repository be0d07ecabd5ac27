/**
 * The steps–examples trade-off chart of McCandlish et al. (2018), figure 5: optimizer steps against examples to reach
 * a target, one point per run coloured by effective batch, with the fitted hyperbola
 * (S / S_min − 1)(E / E_min − 1) = 1 drawn through B from small to large.
 */
import { VegaLiteChart } from "./chart";
import { ChartEncoding, ChartLayoutOptions, noDataSpec, roundSignificant, topLevel } from "./spec";

/** One run: its effective batch and the steps and examples it took to reach the target. */
export interface StepsExamplesPoint {
  batch: number;
  steps: number;
  examples: number;
}

/** Options of {@link stepsExamplesChart}. */
export interface StepsExamplesOptions extends ChartLayoutOptions {
  /** The fit to draw (omit when none was possible). */
  fit?: { sMin: number; eMin: number; bCrit: number };
  /** Subtitle, e.g. the target loss. */
  subtitle?: string;
}

/** Steps vs examples to the target on log–log axes, runs coloured by batch (categorical), with the fitted hyperbola. */
export function stepsExamplesChart(points: readonly StepsExamplesPoint[], options: StepsExamplesOptions = {}): VegaLiteChart {
  const title = options.title ?? "Steps vs examples to reach the target";
  const runs = points
    .filter((p) => p.steps > 0 && p.examples > 0)
    .map((p) => ({ batch: String(p.batch), steps: p.steps, examples: p.examples, order: p.batch }));
  if (runs.length === 0) return new VegaLiteChart(noDataSpec(title, "no run reached the target", options));
  const batches = [...new Set(runs.map((r) => r.order))].sort((a, b) => a - b);
  const domain = batches.map(String);
  const curve: { batch: number; steps: number | null; examples: number | null }[] = [];
  if (options.fit) {
    const { sMin, eMin, bCrit } = options.fit;
    const low = Math.min(batches[0], bCrit) / 4;
    const high = Math.max(batches[batches.length - 1], bCrit) * 4;
    for (let i = 0; i < 60; i++) {
      const b = low * Math.pow(high / low, i / 59);
      curve.push({ batch: roundSignificant(b)!, steps: roundSignificant(sMin * (1 + bCrit / b)), examples: roundSignificant(eMin * (1 + b / bCrit)) });
    }
  }
  const x = { field: "examples", type: "quantitative", title: "examples to the target (E)", scale: { type: "log" } } satisfies ChartEncoding["x"];
  const y = { field: "steps", type: "quantitative", title: "optimizer steps to the target (S)", scale: { type: "log" } } satisfies ChartEncoding["y"];
  const fitNote = options.fit
    ? `fit: S_min ${roundSignificant(options.fit.sMin, 3)} steps, E_min ${roundSignificant(options.fit.eMin, 3)} examples, B_crit ${roundSignificant(options.fit.bCrit, 3)}`
    : "no fit possible";
  return new VegaLiteChart(
    topLevel(
      title,
      [options.subtitle ?? "", fitNote].filter((t) => t !== ""),
      {
        width: options.width ?? 480,
        height: options.height ?? 340,
        layer: [
          ...(curve.length
            ? [
                {
                  data: { values: curve },
                  mark: { type: "line" as const, color: "#555", strokeDash: [6, 4], strokeWidth: 1.5 },
                  encoding: { x, y, order: { field: "batch", type: "quantitative" as const } },
                },
              ]
            : []),
          {
            data: { values: runs },
            mark: { type: "point", filled: true, size: 70, opacity: 0.85 },
            encoding: {
              x,
              y,
              color: { field: "batch", type: "nominal", title: "effective batch", sort: domain, scale: { domain, scheme: "tableau10" } },
              tooltip: [
                { field: "batch", type: "nominal", title: "effective batch" },
                { field: "steps", type: "quantitative", title: "steps" },
                { field: "examples", type: "quantitative", title: "examples" },
              ],
            },
          },
        ],
      },
    ),
  );
}
