import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { readGridHistories, readGridResults, RESULT_COLUMNS, RunResult, TIMING_COLUMNS } from "../../src/experiments";
import { concludeStudy, runStudy, studyCharts, studyGrid, summarizeConfigurations } from "../../src/study";
import { command as studyCommand } from "../../src/cli/commands/study";
import { tempDir } from "../helpers";

/** A result row with the given arguments and loss std; everything else neutral. */
function row(batch: number, accumulation: number, learningRate: number, lossStd: number, devF1 = 0.9, noiseScale = NaN, seed = 0): RunResult {
  return {
    runId: `b${batch}-a${accumulation}-lr${learningRate}-s${seed}`,
    task: "t",
    perDeviceBatchSize: batch,
    gradientAccumulationSteps: accumulation,
    effectiveBatchSize: batch * accumulation,
    learningRate,
    seed,
    steps: 10,
    devAccuracy: 0.9,
    devF1,
    testAccuracy: 0.9,
    testF1: 0.9,
    lossStd,
    lossCv: lossStd,
    smoothedFinalLoss: 0.3,
    noiseScale,
    examplesPerSecond: 1,
    tokensPerSecond: 1,
    wallTimeSeconds: 1,
    peakMemoryMB: 1,
  };
}

/** Three seeds of a configuration: loss std, dev F1 and noise scale times 0.99, 1 and 1.01 (means exact, intervals narrow). */
function seeds(batch: number, accumulation: number, learningRate: number, lossStd: number, devF1 = 0.9, noiseScale = NaN): RunResult[] {
  return [0.99, 1, 1.01].map((k, seed) => row(batch, accumulation, learningRate, lossStd * k, devF1 * k, noiseScale * k, seed));
}

describe("experiments: study conclusion over seeds", () => {
  const c = 0.8;
  const results = [
    ...seeds(8, 1, 1e-4, c / Math.sqrt(8)),
    ...seeds(8, 4, 1e-4, c / Math.sqrt(32), 0.9, 120),
    ...seeds(8, 8, 1e-4, c / Math.sqrt(64), 0.88, 140),
    ...seeds(1, 1, 1e-4, c),
    ...seeds(1, 8, 1e-4, (c / Math.sqrt(8)) * 1.01),
    ...seeds(1, 1, 1e-5, c * 0.995),
    ...seeds(1, 1, 1e-6, c * 1.005),
  ];
  const findings = concludeStudy(results);
  const text = (topic: string) => findings.find((f) => f.topic === topic)?.text ?? "";

  it("groups runs into configurations with mean and 95% t-interval over seeds", () => {
    const configs = summarizeConfigurations(results);
    assert.equal(configs.length, 7);
    const b1 = configs.find((k) => k.label === "batch 1 x 1, lr 1e-4")!;
    assert.equal(b1.runs.length, 3);
    // Loss std 0.792, 0.8, 0.808 (positive): geometric mean, interval exp(mean(log) ± t_{0.975,2}·s_log/√3), t for 2 df in closed form.
    const logs = [0.792, 0.8, 0.808].map(Math.log);
    const m = logs.reduce((a, b) => a + b, 0) / 3;
    const sLog = Math.sqrt(logs.reduce((a, x) => a + (x - m) ** 2, 0) / 2);
    const half = (0.95 / Math.sqrt(2 * 0.975 * 0.025)) * (sLog / Math.sqrt(3));
    assert.ok(Math.abs(b1.lossStd.mean - Math.exp(m)) < 1e-12 && Math.abs(b1.lossStd.high - Math.exp(m + half)) < 1e-9 && b1.lossStd.n === 3);
    // Dev F1 0.891, 0.9, 0.909: the plain t-interval (well inside [0, 1]).
    assert.ok(Number.isNaN(b1.noiseScale.mean), "no accumulation, no noise scale");
    assert.ok(Math.abs(b1.devF1.mean - 0.9) < 1e-12 && Math.abs(b1.devF1.high - (0.9 + (0.95 / Math.sqrt(2 * 0.975 * 0.025)) * (0.009 / Math.sqrt(3)))) < 1e-9);
  });

  it("never gives a positive quantity a negative interval, nor an F1 one outside [0, 1], even from two spread seeds", () => {
    const spread = [row(1, 1, 1e-4, 0.05, 0.1, NaN, 0), row(1, 1, 1e-4, 0.9, 0.95, NaN, 1)];
    const [c] = summarizeConfigurations(spread);
    assert.ok(c.lossStd.low > 0 && c.smoothedFinalLoss.low > 0, `loss std ${c.lossStd.low}`);
    // t with 1 df is 12.7: the plain interval of F1 0.1 and 0.95 would be 0.525 ± 5.4; clipped to the bounds.
    assert.deepEqual([c.devF1.low, c.devF1.high], [0, 1]);
  });

  it("claims the batch effect (intervals separate) and no learning-rate effect (intervals overlap)", () => {
    // Batch 1 -> 64 at one learning rate: ratio of the means sqrt(64) = 8, slope of the means exactly -0.5.
    assert.match(text("fluctuation"), /0\.8 \[0\.78\d*, 0\.8\d*\] at effective batch 1/);
    assert.match(text("fluctuation"), /Batch 64 vs 1: loss std 8x smaller \(intervals separate\)/);
    assert.match(text("fluctuation"), /slope of the means -0\.5 /);
    assert.match(text("learningRate"), /batch 1 x 1: lr 1e-4 -> loss std 0\.8 \[[^\]]+\], dev F1 0\.9 \[[^\]]+\]; lr 1e-5/);
    assert.match(text("learningRate"), /no detectable difference in loss std between these learning rates; no detectable difference in dev F1/);
    // Noise scale: the median of the accumulation configurations' means, (120 + 140) / 2.
    assert.match(text("noiseScale"), /batch 8 x 4, lr 1e-4: 120 \[[^\]]+\]/);
    assert.match(text("noiseScale"), /about 130 examples/);
    assert.match(text("accumulation"), /behaves like the big batch, not like the small one/);
    assert.match(text("metrics"), /No detectable difference in dev F1 between configurations/);
    assert.match(
      text("answer"),
      /cut the late-training loss std from 0\.8 \[[^\]]+\] to 0\.1 \[[^\]]+\] \(95% intervals over 3 seeds separate\), while changing the learning rate made no detectable difference/,
    );
    assert.match(text("answer"), /Dev F1 showed no detectable difference/);
  });

  it("says how many seeds gave a noise-scale estimate when some did not", () => {
    const partial = [...seeds(8, 1, 1e-4, 0.3), ...seeds(8, 4, 1e-4, 0.15, 0.9, 120)];
    partial[partial.length - 1].noiseScale = NaN;
    const noise = concludeStudy(partial).find((f) => f.topic === "noiseScale")?.text ?? "";
    assert.match(noise, /batch 8 x 4, lr 1e-4: [^;]*\(2 of 3 seeds gave an estimate\)/);
    assert.doesNotMatch(text("noiseScale"), /seeds gave an estimate/);
  });

  it('says "no detectable difference" when the seeds\' intervals overlap, even if the means differ', () => {
    const noisy = [row(1, 1, 1e-4, 0.5, 0.9, NaN, 0), row(1, 1, 1e-4, 0.2, 0.9, NaN, 1), row(8, 1, 1e-4, 0.3, 0.9, NaN, 0), row(8, 1, 1e-4, 0.25, 0.9, NaN, 1)];
    const out = concludeStudy(noisy);
    assert.match(out.find((f) => f.topic === "fluctuation")!.text, /no detectable difference in loss std \(95% intervals overlap\)/);
    assert.match(out.find((f) => f.topic === "answer")!.text, /with 2 seed\(s\), the loss std at effective batch 8 .* is not detectably below that at 1/);
    assert.match(concludeStudy([])[0].text, /No run finished/);
  });

  it("does not call a curve harmless when some configurations did not learn (dev F1 below 0.5)", () => {
    const mixed = [...seeds(1, 1, 1e-4, 0.8, 0.85), ...seeds(8, 1, 1e-4, 0.28, 0.1)];
    const zero = [...seeds(1, 1, 1e-4, 0.8, 0.85), ...seeds(8, 1, 1e-4, 0.28, 0)];
    assert.match(concludeStudy(zero).find((f) => f.topic === "metrics")!.text, /dev F1 higher: 0\.85 vs 0 \(intervals separate\)/);
    assert.match(
      concludeStudy(mixed).find((f) => f.topic === "answer")!.text,
      /Dev F1 is below 0\.5 in some of these configurations \(means from 0\.1 to 0\.85\): at this size and budget the model does not learn/,
    );
  });

  it("adds a seeded bootstrap interval of dev F1 over dev examples", () => {
    const labels = Array.from({ length: 40 }, (_, i) => i % 2);
    const predictions = new Map(results.map((r, i) => [r.runId, { labels, predictions: labels.map((l, j) => ((j + i) % 7 === 0 ? 1 - l : l)) }]));
    const configs = summarizeConfigurations(results, predictions);
    const again = summarizeConfigurations(results, predictions);
    const boot = configs[0].devF1Bootstrap!;
    assert.deepEqual(boot, again[0].devF1Bootstrap, "seeded: same interval");
    // The estimate is the mean over the configuration's seeds of each run's F1 on all dev examples.
    const f1 = (p: number[]) => {
      const tp = p.filter((v, j) => v === 1 && labels[j] === 1).length;
      const fp = p.filter((v, j) => v === 1 && labels[j] === 0).length;
      const fn = p.filter((v, j) => v === 0 && labels[j] === 1).length;
      return (2 * tp) / (2 * tp + fp + fn);
    };
    const expected = configs[0].runs.reduce((s, r) => s + f1(predictions.get(r.runId)!.predictions), 0) / 3;
    assert.ok(Math.abs(boot.mean - expected) < 1e-12);
    assert.ok(boot.low <= boot.mean && boot.mean <= boot.high && boot.low < boot.high);
    assert.match(concludeStudy(results, predictions).find((f) => f.topic === "metrics")!.text, /bootstrap over dev examples \[/);
  });
});

describe("experiments: the study end to end (synthetic task, small size)", function () {
  const root = tempDir("tsml-study-");
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it("writes a self-contained report and results.csv, and a rerun reproduces every number", async () => {
    const options = {
      size: "small" as const,
      task: "synthetic-logreg",
      seeds: 2,
      runsDir: path.join(root, "runs"),
      reportsDir: path.join(root, "reports"),
      workers: 2,
    };
    const first = await runStudy({ ...options, name: "first" });
    const second = await runStudy({ ...options, name: "second" });
    const spec = studyGrid({ size: "small", task: "synthetic-logreg", seeds: 2 });
    assert.deepEqual(studyGrid({ size: "small", task: "synthetic-logreg" }).axes, { seed: [0] }, "small: one seed unless asked");
    assert.deepEqual(studyGrid({ task: "synthetic-logreg" }).axes, { seed: [0, 1, 2] }, "default: three seeds");
    assert.deepEqual(studyGrid({ size: "quick", task: "synthetic-logreg" }).axes, { seed: [0, 1] }, "quick: two seeds");
    assert.equal(first.results.length, spec.variants!.length * 2, "every configuration with 2 seeds");
    assert.deepEqual([...new Set(first.results.map((r) => r.seed))], [0, 1]);
    assert.equal(first.configurations.length, spec.variants!.length);
    for (const r of first.results) {
      const events = fs.readdirSync(path.join(first.grid.gridDir, r.runId, "tensorboard"));
      assert.equal(events.length, 1, `${r.runId} has one TensorBoard event file`);
      assert.match(events[0], /^events\.out\.tfevents\./);
    }
    assert.deepEqual(first.frame.columns, RESULT_COLUMNS);

    const strip = (rows: RunResult[]) => rows.map((r) => RESULT_COLUMNS.filter((c) => !TIMING_COLUMNS.includes(c)).map((c) => r[c]));
    assert.deepEqual(strip(second.results), strip(first.results), "same config and seeds give identical numbers");

    const html = fs.readFileSync(first.report.html, "utf8");
    assert.ok(!/<script[^>]+src=|<link[^>]+href="http/.test(html), "no external scripts or styles");
    assert.ok((html.match(/<svg/g) ?? []).length >= 5, "charts are inlined as SVG");
    assert.ok(first.findings.length > 0, "the study concludes something");
    for (const finding of first.findings)
      assert.ok(html.includes(finding.text.slice(0, 40).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")), finding.topic);
    assert.ok(html.includes("npx tsml study --size small --task synthetic-logreg"), "the rerun command is recorded");
    // The answer comes first, then the recommendation, then the evidence.
    const order = ['<h2 id="answer">', '<h2 id="recommendation">', '<h2 id="evidence">', "<h2>Charts</h2>"].map((h) => html.indexOf(h));
    assert.ok(
      order.every((at, i) => at > 0 && (i === 0 || at > order[i - 1])),
      `sections in order: ${order}`,
    );
    assert.match(html.slice(order[0], order[1]), /Why does the loss fluctuate\?.*Is it a problem\?/s);
    // Curves per effective batch: categorical colours, one group per configuration, bands of a positive loss stay positive.
    const charts = studyCharts(first.results, readGridHistories(first.grid.gridDir), first.criticalBatch);
    const band = charts.find((c) => c.name === "loss-by-batch-examples")!.chart.spec as unknown as {
      data: { values: { group: string; low: number | null; high: number | null }[] };
      layer: { encoding: { color: { scale: { scheme: string } } } }[];
    };
    assert.equal(band.layer[1].encoding.color.scale.scheme, "tableau10");
    assert.equal(new Set(band.data.values.map((v) => v.group)).size, first.criticalBatch.batches.length);
    const lows = band.data.values.map((v) => v.low).filter((v): v is number => v !== null);
    assert.ok(lows.length > 0 && lows.every((v) => v > 0), "every band has a positive lower end");
    assert.ok(charts.some((c) => c.name === "steps-vs-examples") && charts.some((c) => c.name === "throughput"));
    assert.ok(html.includes("&quot;seed&quot;: [\n      0,\n      1\n    ]"), "the seeds are recorded");
    assert.ok(html.includes("Configurations (mean [95% t-interval] over seeds)"), "the configurations table");
    assert.ok(html.includes("configurations x 2 seed(s)"), "the sizes are stated");
    assert.ok(html.includes(`backend ${process.env.TSML_BACKEND ?? "wasm"} `), "the workers' backend is recorded");

    const csv = fs.readFileSync(first.report.csv, "utf8").trim().split("\n");
    assert.equal(csv[0], RESULT_COLUMNS.join(","));
    const fromDisk = readGridResults(first.grid.gridDir);
    assert.equal(fromDisk.length, first.results.length);
    assert.equal(csv.length - 1, fromDisk.length, "one csv row per run");
    csv.slice(1).forEach((line, i) => {
      const cells = line.split(",");
      assert.equal(cells[0], fromDisk[i].runId);
      assert.equal(Number(cells[RESULT_COLUMNS.indexOf("lossStd")]), fromDisk[i].lossStd, "numbers read back exactly");
    });
    assert.equal(
      first.report.charts.length,
      3 * studyCharts(first.results, readGridHistories(first.grid.gridDir), first.criticalBatch).length,
      "an SVG, a PNG and an HTML file per chart",
    );
    for (const chart of first.report.charts) assert.ok(fs.statSync(chart).size > 1000, chart);
  });

  it("the CLI rejects bad options with a message naming them", async () => {
    await assert.rejects(studyCommand.run(["--workers", "0"]), /--workers must be a positive integer, got 0/);
    await assert.rejects(studyCommand.run(["--seeds", "1.5"]), /--seeds must be a positive integer, got 1.5/);
    await assert.rejects(studyCommand.run(["--task", "nope", "--runs-dir", root]), /no study preset for task "nope"/);
  });
});
