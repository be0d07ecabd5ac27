/** Renders every chart builder on synthetic data to PNG (docs/loss-curve.png for the README; others to a folder). */
import * as fs from "fs";
import * as path from "path";
import {
  confusionMatrixChart,
  fluctuationChart,
  lengthHistogramChart,
  lossCurveChart,
  metricComparisonChart,
  noiseScaleChart,
  runComparisonChart,
  VegaLiteChart,
} from "../../src/plots";
import { syntheticHistory, syntheticRuns } from "./synthetic";

async function main(): Promise<void> {
  const root = path.resolve(__dirname, "..", "..", "..");
  const outDir = process.argv[2] ?? path.join(root, "dist", "plots-preview");
  fs.mkdirSync(outDir, { recursive: true });
  const runs = syntheticRuns(600, [8, 16, 32, 64], [1, 2, 3]);
  const results = runs.map((r) => {
    const late = r.history.slice(-200).map((h) => h.loss);
    const mean = late.reduce((s, v) => s + v, 0) / late.length;
    const std = Math.sqrt(late.reduce((s, v) => s + (v - mean) ** 2, 0) / (late.length - 1));
    const quality = 0.86 - 0.002 * Math.log2(r.config.effectiveBatchSize) + 0.01 * Math.sin(r.config.seed * 3.1 + r.config.effectiveBatchSize);
    return { ...r.config, devF1: quality, testF1: quality - 0.012, devAccuracy: quality + 0.03, lossStd: std, lossCv: std / mean };
  });
  const lossCurve = lossCurveChart(syntheticHistory(800, 16, 1), { title: "Training loss (batch 4 × 4 accumulation steps)", smoothing: 0.9 });
  await lossCurve.save(path.join(root, "docs", "loss-curve.png"), { scale: 2 });
  const charts: Record<string, VegaLiteChart> = {
    lossCurve,
    runComparison: runComparisonChart(runs, { band: "std" }),
    runLines: runComparisonChart(runs),
    metrics: metricComparisonChart(results),
    fluctuation: fluctuationChart(results),
    noiseScale: noiseScaleChart(runs.filter((r) => r.config.seed === 1)),
    confusion: confusionMatrixChart(
      [
        [812, 43],
        [61, 584],
      ],
      { labels: ["ham", "spam"] },
    ),
    lengths: lengthHistogramChart(
      Array.from({ length: 3000 }, (_, i) => Math.round(60 + 500 * Math.pow((i * 0.6180339887) % 1, 2.2))),
      { maxLength: 512 },
    ),
    noData: lossCurveChart([]),
  };
  for (const [name, c] of Object.entries(charts)) await c.save(path.join(outDir, `${name}.png`), { scale: 1.5 });
  console.log(`wrote docs/loss-curve.png and ${Object.keys(charts).length} previews to ${outDir}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
