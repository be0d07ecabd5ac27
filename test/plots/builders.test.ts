/** Chart builders: specs valid against vega-lite 6's schema, the data they carry, parameters that work, bad input. */
import * as assert from "assert";
import * as dfd from "danfojs-node";
import {
  confusionMatrixChart,
  fluctuationChart,
  lengthHistogramChart,
  lossCurveChart,
  metricComparisonChart,
  noiseScaleChart,
  runComparisonChart,
  smoothingGrid,
  VegaLiteChart,
} from "../../src/plots";
import { fitSqrtLaw } from "../../src/stats";
import { assertValidVegaLite, evaluateSpec, layersOf, rowsWith, testHistory } from "./support";

/** TensorBoard's debiased EMA, written independently of src/train for comparison. */
function tensorBoardSmooth(values: number[], weight: number): number[] {
  let last = 0;
  let n = 0;
  return values.map((v) => {
    last = last * weight + (1 - weight) * v;
    n++;
    return weight === 1 ? last : last / (1 - Math.pow(weight, n));
  });
}

const runs = [8, 32].flatMap((batch) =>
  [1, 2, 3].map((seed) => ({
    run: `B${batch}-s${seed}`,
    config: { effectiveBatchSize: batch, perDeviceBatchSize: 8, gradientAccumulationSteps: batch / 8, learningRate: 2e-5, seed },
    history: testHistory(60, batch, seed),
  })),
);
const results = runs.map((r, i) => ({
  ...r.config,
  devF1: 0.8 + 0.01 * (i % 3),
  testF1: 0.78 + 0.01 * (i % 3),
  devAccuracy: 0.85 + 0.005 * i,
  lossStd: 0.4 / Math.sqrt(r.config.effectiveBatchSize) + 0.001 * r.config.seed,
}));
const isNoData = (c: VegaLiteChart) => (c.spec.usermeta as { tsmlNoData?: boolean } | undefined)?.tsmlNoData === true;

describe("plots: every builder yields a spec valid against the installed vega-lite 6 schema ($schema: the v5 URL Jupyter keys on)", () => {
  const cases: [string, () => VegaLiteChart][] = [
    ["lossCurve", () => lossCurveChart(testHistory(300))],
    ["lossCurve by examples", () => lossCurveChart(testHistory(300), { x: "examplesSeen", smoothing: 0.9, maxPoints: 50 })],
    ["runComparison lines", () => runComparisonChart(runs)],
    ["runComparison std band", () => runComparisonChart(runs, { band: "std", x: "examplesSeen" })],
    ["runComparison min-max band", () => runComparisonChart(runs, { band: "minmax", smoothing: 0 })],
    ["metricComparison", () => metricComparisonChart(results)],
    ["metricComparison std", () => metricComparisonChart(results, { spread: "std", metrics: ["testF1"] })],
    ["fluctuation", () => fluctuationChart(results)],
    ["noiseScale", () => noiseScaleChart(runs)],
    [
      "confusion",
      () =>
        confusionMatrixChart(
          [
            [5, 1, 0],
            [2, 7, 1],
            [0, 0, 9],
          ],
          { labels: ["a", "b", "c"] },
        ),
    ],
    ["lengthHistogram", () => lengthHistogramChart([3, 10, 17, 17, 40, 80, 130], { maxLength: 64 })],
    ["lengthHistogram without cut", () => lengthHistogramChart([{ length: 4 }, { length: 9 }])],
    ["no data", () => lossCurveChart([])],
  ];
  for (const [name, build] of cases) {
    it(name, async () => {
      const chart = build();
      assert.strictEqual(chart.spec.$schema, "https://vega.github.io/schema/vega-lite/v5.json");
      await assertValidVegaLite(chart.spec);
    });
  }
});

describe("plots: lossCurveChart", () => {
  const history = testHistory(120);
  const losses = history.map((h) => h.loss);

  it("carries TensorBoard-smoothed series for every slider weight, selected by the slider in vega", async () => {
    const chart = lossCurveChart(history);
    const param = (chart.spec.params as { name: string; value: number; bind: { input: string; step: number; max: number } }[])[0];
    assert.deepStrictEqual([param.name, param.value, param.bind.input], ["smoothing", 0.6, "range"]);
    const grid = smoothingGrid(param.bind.step);
    assert.strictEqual(grid[grid.length - 1], param.bind.max);
    for (const weight of [0, 0.6, 0.9, 0.99]) {
      const rows = rowsWith(await evaluateSpec(chart.spec, { smoothing: weight }), "smoothed");
      const expected = tensorBoardSmooth(losses, weight);
      assert.strictEqual(rows.length, losses.length);
      rows.forEach((row, i) => assert.ok(Math.abs((row.smoothed as number) - expected[i]) < 1e-5 * Math.abs(expected[i]), `w=${weight} i=${i}`));
    }
  });

  it("thins drawn points but smooths over the full history", () => {
    const chart = lossCurveChart(history, { maxPoints: 13 });
    const rows = (chart.spec.data as { values: { x: number; ema_600: number }[] }).values;
    assert.strictEqual(rows.length, 13);
    const full = tensorBoardSmooth(losses, 0.6);
    for (const row of rows) assert.ok(Math.abs(row.ema_600 - full[row.x - 1]) < 1e-5);
    assert.deepStrictEqual([rows[0].x, rows[rows.length - 1].x], [1, 120]);
  });

  it("accepts a danfojs DataFrame like the record array", () => {
    const fromFrame = lossCurveChart(new dfd.DataFrame(history));
    assert.deepStrictEqual(fromFrame.spec, lossCurveChart(history).spec);
  });

  it("skips NaN losses, keeps the spec valid and says how many were skipped", async () => {
    const withNaN = history.map((h, i) => (i % 7 === 3 ? { ...h, loss: NaN } : h));
    const chart = lossCurveChart(withNaN);
    const rows = (chart.spec.data as { values: { raw: number | null }[] }).values;
    assert.strictEqual(rows.filter((r) => r.raw === null).length, 17);
    assert.match(JSON.stringify(chart.spec.title), /17 non-finite values skipped/);
    await assertValidVegaLite(chart.spec);
  });

  it("shows a visible no-data chart for an empty or all-NaN history", () => {
    assert.ok(isNoData(lossCurveChart([])));
    const allNaN = lossCurveChart([
      { step: 1, loss: NaN },
      { step: 2, loss: NaN },
    ]);
    assert.ok(isNoData(allNaN));
    assert.match(JSON.stringify(allNaN.spec.data), /no data/);
  });

  it("rejects unknown fields and off-grid smoothing with messages naming them", () => {
    assert.throws(
      () => lossCurveChart(history, { lossField: "trainLoss" }),
      /field "trainLoss" \(option lossField\) not found.*available fields: examplesSeen, loss, noiseScale, step/,
    );
    assert.throws(() => lossCurveChart(history, { smoothing: 0.61 }), /smoothing 0.61 is not on the slider grid/);
    assert.throws(() => lossCurveChart({ rows: 3 } as never), /expected an array of records or a danfojs DataFrame/);
  });
});

describe("plots: runComparisonChart", () => {
  it("colours runs by the hyperparameter and switches x between steps and examples", async () => {
    const chart = runComparisonChart(runs, { smoothing: 0 });
    const byStep = rowsWith(await evaluateSpec(chart.spec, { xAxis: "step" }), "x");
    const byExamples = rowsWith(await evaluateSpec(chart.spec, { xAxis: "examples" }), "x");
    assert.strictEqual(byStep.length, 6 * 60);
    byStep.forEach((row) => assert.strictEqual(row.x, row.step));
    byExamples.forEach((row) => assert.strictEqual(row.x, (row.step as number) * (row.group as number)));
    assert.deepStrictEqual([...new Set(byStep.map((r) => r.group))], [8, 32]);
  });

  it("a flat table with a run field gives the same chart as labelled runs", () => {
    const flat = runs.flatMap((r) => r.history.map((h) => ({ ...r.config, ...h, run: r.run })));
    assert.deepStrictEqual(runComparisonChart(flat).spec, runComparisonChart(runs).spec);
  });

  it("bands aggregate the seeds of one configuration (min-max)", async () => {
    const chart = runComparisonChart(runs, { band: "minmax", smoothing: 0 });
    const rows = rowsWith(await evaluateSpec(chart.spec), "lower");
    const at = rows.find((r) => r.group === 32 && r.x === 10) as Record<string, number>;
    const seedLosses = runs.filter((r) => r.config.effectiveBatchSize === 32).map((r) => r.history[9].loss);
    assert.ok(Math.abs(at.lower - Math.min(...seedLosses)) < 1e-5 && Math.abs(at.upper - Math.max(...seedLosses)) < 1e-5);
    assert.strictEqual(at.runs, 3);
  });

  it("names a missing colour field and shows no-data for no runs", () => {
    assert.throws(() => runComparisonChart(runs, { colorBy: "batch" }), /field "batch" \(option colorBy\) not found/);
    assert.ok(isNoData(runComparisonChart([])));
  });
});

describe("plots: metric, fluctuation, noise-scale, confusion and length charts", () => {
  it("metricComparisonChart folds the present default metrics per configuration", () => {
    const rows = (metricComparisonChart(results).spec.data as { values: { config: string; metric: string }[] }).values;
    assert.strictEqual(rows.length, results.length * 3);
    assert.deepStrictEqual([...new Set(rows.map((r) => r.metric))], ["dev F1", "test F1", "dev accuracy"]);
    assert.deepStrictEqual([...new Set(rows.map((r) => r.config))], ["batch 8, accum 1, lr 2e-5", "batch 8, accum 4, lr 2e-5"]);
    assert.throws(() => metricComparisonChart(results, { metrics: ["f1"] }), /field "f1" \(option metrics\) not found/);
  });

  it("fitSqrtLaw recovers c and slope −½ from exact c/√B data", () => {
    const fit = fitSqrtLaw([4, 16, 64].map((batch) => ({ batch, value: 0.7 / Math.sqrt(batch) })));
    assert.ok(Math.abs(fit.c - 0.7) < 1e-12 && Math.abs(fit.slope + 0.5) < 1e-12);
  });

  it("fluctuationChart draws the fitted c/√B reference across the batch-size range", () => {
    const layers = layersOf<{ data: { values: { batch: number; value: number }[] } }>(fluctuationChart(results));
    const reference = layers[0].data.values;
    const c = fitSqrtLaw(results.map((r) => ({ batch: r.effectiveBatchSize, value: r.lossStd }))).c;
    assert.deepStrictEqual([reference[0].batch, reference[reference.length - 1].batch], [8, 32]);
    for (const p of reference) assert.ok(Math.abs(p.value * Math.sqrt(p.batch) - c) < 1e-4 * c);
  });

  it("fluctuationChart joins the per-batch means from small to large batch, whatever the row order", async () => {
    const rows = [
      [8, 0.27],
      [32, 0.125],
      [64, 0.094],
      [1, 0.674],
      [8, 0.135],
    ].map(([b, v]) => ({ effectiveBatchSize: b, lossStd: v }));
    const svg = await fluctuationChart(rows).toSVG();
    const meanLine = /<g class="mark-line role-mark layer_3[^"]*"[^>]*><path[^>]* d="([^"]+)"/.exec(svg);
    assert.ok(meanLine, "the mean line is drawn");
    const xs = [...meanLine[1].matchAll(/[ML](-?[\d.]+),/g)].map((m) => Number(m[1]));
    assert.strictEqual(xs.length, 4, "one vertex per distinct batch size");
    assert.deepStrictEqual(
      xs,
      [...xs].sort((a, b) => a - b),
      `vertices in x order: ${xs.join(", ")}`,
    );
  });

  it("fluctuationChart draws the mean and 95% t-interval over the runs of each batch size (none for a single run)", () => {
    const rows = [
      [8, 0.3],
      [8, 0.2],
      [8, 0.25],
      [32, 0.1],
      [32, 0.14],
      [64, 0.05],
    ].map(([b, v]) => ({ effectiveBatchSize: b, lossStd: v }));
    const layers = layersOf<{ data: { values: { batch: number; value: number; low: number | null; high: number | null; runs: number }[] } }>(
      fluctuationChart(rows),
    );
    const means = layers[3].data.values;
    assert.deepStrictEqual(
      means.map((m) => [m.batch, m.runs]),
      [
        [8, 3],
        [32, 2],
        [64, 1],
      ],
    );
    // Batch 8: mean 0.25, s = 0.05, half-width t_{0.975,2}·s/√3 with t_{0.975,2} = 0.95/√(2·0.975·0.025) (closed form for 2 df).
    const half8 = (0.95 / Math.sqrt(2 * 0.975 * 0.025)) * (0.05 / Math.sqrt(3));
    assert.ok(Math.abs(means[0].value - 0.25) < 1e-12);
    assert.ok(Math.abs(means[0].high! - (0.25 + half8)) < 1e-3 * half8);
    // Batch 32: two runs, t_{0.975,1} = tan(0.475π), s/√2 = 0.02; the lower end (< 0) is drawn at the floor min/10.
    assert.ok(Math.abs(means[1].high! - (0.12 + Math.tan(0.475 * Math.PI) * 0.02)) < 1e-3);
    assert.strictEqual(means[1].low, 0.005);
    assert.strictEqual(means[2].low, null, "one run: no interval");
    const bars = layers[2].data.values;
    assert.deepStrictEqual(
      bars.map((b) => b.batch),
      [8, 32],
      "a bar per batch size with at least two runs",
    );
  });

  it("noiseScaleChart puts each run's effective batch size beside its noise scale", () => {
    const layers = layersOf<{ data: { values: Record<string, unknown>[] } }>(noiseScaleChart(runs));
    assert.strictEqual(layers[0].data.values.length, 6 * 6);
    assert.deepStrictEqual(
      layers[1].data.values.map((r) => r.batch),
      [8, 8, 8, 32, 32, 32],
    );
    const withoutBatch = testHistory(20).map(({ step, noiseScale }) => ({ step, noiseScale }));
    assert.throws(() => noiseScaleChart(withoutBatch), /field "effectiveBatchSize" \(option batchField \(or give "examplesSeen"/);
    const single = layersOf<{ data: { values: Record<string, unknown>[] } }>(noiseScaleChart(withoutBatch, { effectiveBatchSize: 64 }));
    assert.deepStrictEqual(single[1].data.values, [{ run: "run", batch: 64 }]);
    const inferred = layersOf<{ data: { values: Record<string, unknown>[] } }>(noiseScaleChart(testHistory(20, 24)));
    assert.deepStrictEqual(inferred[1].data.values, [{ run: "run", batch: 24 }], "B = Δexamples / Δsteps");
  });

  it("confusionMatrixChart keeps counts and row shares, and rejects non-square input", () => {
    const cells = (
      confusionMatrixChart([
        [3, 1],
        [0, 4],
      ]).spec.data as { values: { count: number; share: number }[] }
    ).values;
    assert.deepStrictEqual(
      cells.map((c) => c.count),
      [3, 1, 0, 4],
    );
    assert.deepStrictEqual(
      cells.map((c) => c.share),
      [0.75, 0.25, 0, 1],
    );
    assert.throws(() => confusionMatrixChart([[1, 2], [3]]), /row 1 must have 2 entries/);
    assert.throws(
      () =>
        confusionMatrixChart([
          [1, NaN],
          [0, 1],
        ]),
      /entry \[0\]\[1\] must be a finite count/,
    );
  });

  it("lengthHistogramChart bins every length, aligns a bin edge with the cut and counts truncation", () => {
    const lengths = Array.from({ length: 500 }, (_, i) => (i * 37) % 700);
    const histogram = lengthHistogramChart(lengths, { maxLength: 512 });
    const bins = layersOf<{ data: { values: { start: number; count: number; part: string }[] } }>(histogram)[0].data.values;
    assert.strictEqual(
      bins.reduce((s, b) => s + b.count, 0),
      500,
    );
    assert.ok(bins.some((b) => b.start === 512));
    assert.ok(
      bins.every((b) => b.start >= 0),
      "no bin starts below 0 (the first, aligned on the cut, is drawn from 0)",
    );
    const truncatedInBins = bins.filter((b) => b.part === "truncated").reduce((s, b) => s + b.count, 0);
    assert.strictEqual(truncatedInBins, lengths.filter((n) => n >= 512).length);
    const longer = lengths.filter((n) => n > 512).length;
    assert.match(JSON.stringify(histogram.spec.title), new RegExp(`${longer} \\(${((100 * longer) / 500).toFixed(1)}%\\) longer than 512`));
    assert.throws(() => lengthHistogramChart([1, -2]), /length 1 must be a finite number >= 0/);
  });
});
